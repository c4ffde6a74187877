"""Simple baselines the delay-risk model must beat, learnt from the training split only.

Each baseline turns a scan row into a risk score (higher = more likely to end up late), so it
can be evaluated exactly like the model:

``slack_to_promise``
    ``-hours_to_promise``: the less time left before ``promised_by``, the riskier.
``lane_p90``
    The route heuristic peers use (DOMAIN.md): a shipment is likely late once its lane's
    90th-percentile transit time overshoots the promise. The score is the number of hours by
    which ``ordered_at + max(lane p90, hours since order)`` lands after ``promised_by``. A lane
    is origin region -> destination region + service level; lanes with fewer than
    ``min_lane_shipments`` delivered training shipments fall back to the service level's p90,
    then to the global p90.
``carrier_late_rate``
    The carrier's share of late shipments in training; carriers never seen fall back to the
    global rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from parcelwatch.models.dataset import Examples

__all__ = ["BASELINE_NAMES", "MIN_LANE_SHIPMENTS", "Baselines", "fit_baselines", "lane_key"]

BASELINE_NAMES = ("slack_to_promise", "lane_p90", "carrier_late_rate")
MIN_LANE_SHIPMENTS = 10
UNKNOWN = "unknown"

Lane = tuple[str, str, str]


def lane_key(row: dict, service_level: str) -> Lane:
    """(origin region, destination region, service level); missing parts become ``unknown``."""
    return (
        row.get("origin_region") or UNKNOWN,
        row.get("destination_region") or UNKNOWN,
        service_level,
    )


def _hours_between(later: Sequence[datetime], earlier: Sequence[datetime]) -> np.ndarray:
    return np.array(
        [(a - b).total_seconds() / 3600.0 for a, b in zip(later, earlier, strict=True)],
        dtype=np.float64,
    )


@dataclass(frozen=True)
class Baselines:
    """What the baselines learnt from the training split; ``scores`` applies them to any split."""

    lane_p90_hours: dict[Lane, float]
    service_level_p90_hours: dict[str, float]
    global_p90_hours: float
    carrier_late_rate: dict[str, float]
    global_late_rate: float
    training_shipments: int
    delivered_training_shipments: int
    min_lane_shipments: int = MIN_LANE_SHIPMENTS
    lane_shipments: dict[Lane, int] = field(default_factory=dict)

    def p90_for(self, lane: Lane) -> tuple[float, str]:
        """The p90 transit hours used for ``lane`` and where it came from (lane/service/global)."""
        if lane in self.lane_p90_hours:
            return self.lane_p90_hours[lane], "lane"
        if lane[2] in self.service_level_p90_hours:
            return self.service_level_p90_hours[lane[2]], "service_level"
        return self.global_p90_hours, "global"

    def late_rate_for(self, carrier: str) -> float:
        return self.carrier_late_rate.get(carrier, self.global_late_rate)

    def scores(self, test: Examples) -> dict[str, np.ndarray]:
        """One score per row of ``test`` for each baseline; higher means riskier."""
        since_order = _hours_between(test.as_of, test.ordered_at)
        promised_transit = _hours_between(test.promised_by, test.ordered_at)
        slack = since_order - promised_transit  # = as_of - promised_by = -hours_to_promise
        cache: dict[Lane, float] = {}
        p90 = np.empty(len(test), dtype=np.float64)
        for i, (row, service) in enumerate(zip(test.rows, test.service_levels, strict=True)):
            lane = lane_key(row, service)
            if lane not in cache:
                cache[lane] = self.p90_for(lane)[0]
            p90[i] = cache[lane]
        lane_overshoot = np.maximum(p90, since_order) - promised_transit
        carrier = np.array([self.late_rate_for(c) for c in test.carriers], dtype=np.float64)
        return {
            "slack_to_promise": slack,
            "lane_p90": lane_overshoot,
            "carrier_late_rate": carrier,
        }

    def summary(self) -> dict[str, float | int]:
        """Sizes of what was learnt, for reports."""
        return {
            "training_shipments": self.training_shipments,
            "delivered_training_shipments": self.delivered_training_shipments,
            "lanes_with_own_p90": len(self.lane_p90_hours),
            "lanes_seen": len(self.lane_shipments),
            "min_lane_shipments": self.min_lane_shipments,
            "global_p90_hours": self.global_p90_hours,
            "carriers": len(self.carrier_late_rate),
            "global_late_rate": self.global_late_rate,
        }


def fit_baselines(train: Examples, min_lane_shipments: int = MIN_LANE_SHIPMENTS) -> Baselines:
    """Learn lane/service/global p90 transit hours and carrier late rates from ``train``.

    Transit is ``delivered_at - ordered_at`` per delivered shipment, where ``delivered_at`` is a
    row's ``as_of + hours_to_delivery``. Late rates are per shipment: a shipment counts once for
    each carrier it was scanned under. With no delivered training shipment the global p90 is 0,
    which makes ``lane_p90`` degrade to ``slack_to_promise``; with no training data at all the
    global late rate is 0.
    """
    transit: dict[str, float] = {}
    lane_of: dict[str, Lane] = {}
    late_of: dict[str, int] = {}
    carrier_pairs: set[tuple[str, str]] = set()
    for i, number in enumerate(train.tracking_numbers):
        late_of[number] = max(late_of.get(number, 0), int(train.late[i]))
        carrier_pairs.add((number, train.carriers[i]))
        lane_of.setdefault(number, lane_key(train.rows[i], train.service_levels[i]))
        to_delivery = float(train.hours_to_delivery[i])
        if number not in transit and np.isfinite(to_delivery):
            since_order = (train.as_of[i] - train.ordered_at[i]).total_seconds() / 3600.0
            transit[number] = since_order + to_delivery

    by_lane: dict[Lane, list[float]] = {}
    by_service: dict[str, list[float]] = {}
    for number, hours in transit.items():
        lane = lane_of[number]
        by_lane.setdefault(lane, []).append(hours)
        by_service.setdefault(lane[2], []).append(hours)

    def p90(values: list[float]) -> float:
        return float(np.quantile(np.asarray(values, dtype=np.float64), 0.9))

    lane_p90 = {k: p90(v) for k, v in by_lane.items() if len(v) >= min_lane_shipments}
    service_p90 = {k: p90(v) for k, v in by_service.items() if len(v) >= min_lane_shipments}
    global_p90 = p90(list(transit.values())) if transit else 0.0

    counts: dict[str, list[int]] = {}
    for number, carrier in carrier_pairs:
        tally = counts.setdefault(carrier, [0, 0])
        tally[0] += late_of[number]
        tally[1] += 1
    late_rate = {carrier: late / total for carrier, (late, total) in counts.items()}
    global_rate = sum(late_of.values()) / len(late_of) if late_of else 0.0

    return Baselines(
        lane_p90_hours=lane_p90,
        service_level_p90_hours=service_p90,
        global_p90_hours=global_p90,
        carrier_late_rate=late_rate,
        global_late_rate=float(global_rate),
        training_shipments=len(late_of),
        delivered_training_shipments=len(transit),
        min_lane_shipments=min_lane_shipments,
        lane_shipments={k: len(v) for k, v in by_lane.items()},
    )
