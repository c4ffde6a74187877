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

Scores are computed from feature rows alone (:meth:`Baselines.scores_from_rows`), so the worker
can run a baseline exactly as evaluation judged it: when a trained model loses to its best
baseline, the worker scores with that baseline instead (``models.fallback``). For that, each
baseline also learns a *risk curve* on the training rows (isotonic: score -> share late), which
turns its score into a probability the alert threshold can be applied to, and lanes learn their
p10/p50 transit besides the p90, for the predicted delivery. :meth:`Baselines.to_json` stores all
of it as plain JSON in the model's metadata: nothing pickled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from sklearn.isotonic import IsotonicRegression

from parcelwatch.models.dataset import Examples
from parcelwatch.models.features import Row

__all__ = [
    "BASELINE_NAMES",
    "MIN_LANE_SHIPMENTS",
    "Baselines",
    "RiskCurve",
    "fit_baselines",
    "lane_key",
]

BASELINE_NAMES = ("slack_to_promise", "lane_p90", "carrier_late_rate")
MIN_LANE_SHIPMENTS = 10
UNKNOWN = "unknown"
RISK_CURVE_POINTS = 200  # enough to follow an isotonic step curve, small enough for metadata
JSON_FORMAT = 1

Lane = tuple[str, str, str]


def lane_key(row: dict, service_level: str) -> Lane:
    """(origin region, destination region, service level); missing parts become ``unknown``."""
    return (
        row.get("origin_region") or UNKNOWN,
        row.get("destination_region") or UNKNOWN,
        service_level,
    )


def _column(rows: Sequence[Row], name: str) -> np.ndarray:
    return np.array(
        [math.nan if row.get(name) is None else float(row[name]) for row in rows],
        dtype=np.float64,
    )


def _quantiles(values: list[float]) -> tuple[float, float, float]:
    """(p10, p50, p90) of ``values``."""
    p10, p50, p90 = np.quantile(np.asarray(values, dtype=np.float64), [0.1, 0.5, 0.9])
    return float(p10), float(p50), float(p90)


@dataclass(frozen=True)
class RiskCurve:
    """A non-decreasing map from a baseline's score to the share of late shipments, learnt on
    training rows; scores between points are interpolated, beyond the ends clamped."""

    scores: tuple[float, ...]
    probabilities: tuple[float, ...]

    @classmethod
    def fit(cls, score: np.ndarray, late: np.ndarray) -> RiskCurve:
        usable = np.isfinite(score)
        score, late = score[usable], late[usable].astype(np.float64)
        if not len(score):
            return cls((0.0,), (0.0,))
        isotonic = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        isotonic.fit(score, late)
        grid = np.unique(np.quantile(score, np.linspace(0.0, 1.0, RISK_CURVE_POINTS)))
        return cls(
            tuple(float(x) for x in grid),
            tuple(float(y) for y in np.clip(isotonic.predict(grid), 0.0, 1.0)),
        )

    def probability(self, score: np.ndarray, missing: float) -> np.ndarray:
        """P(late) per score; ``missing`` where the score is NaN (e.g. no promise)."""
        result = np.interp(score, self.scores, self.probabilities)
        return np.where(np.isfinite(score), result, missing)


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
    # (p10, p50, p90) transit hours, for the fallback scorer's predicted delivery
    lane_transit_hours: dict[Lane, tuple[float, float, float]] = field(default_factory=dict)
    service_level_transit_hours: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    global_transit_hours: tuple[float, float, float] = (0.0, 0.0, 0.0)
    risk_curves: dict[str, RiskCurve] = field(default_factory=dict)

    def p90_for(self, lane: Lane) -> tuple[float, str]:
        """The p90 transit hours used for ``lane`` and where it came from (lane/service/global)."""
        if lane in self.lane_p90_hours:
            return self.lane_p90_hours[lane], "lane"
        if lane[2] in self.service_level_p90_hours:
            return self.service_level_p90_hours[lane[2]], "service_level"
        return self.global_p90_hours, "global"

    def transit_for(self, lane: Lane) -> tuple[float, float, float]:
        """(p10, p50, p90) transit hours for ``lane``, with the same fallbacks as the p90."""
        if lane in self.lane_transit_hours:
            return self.lane_transit_hours[lane]
        if lane[2] in self.service_level_transit_hours:
            return self.service_level_transit_hours[lane[2]]
        return self.global_transit_hours

    def late_rate_for(self, carrier: str) -> float:
        return self.carrier_late_rate.get(carrier, self.global_late_rate)

    def scores(self, test: Examples) -> dict[str, np.ndarray]:
        """One score per row of ``test`` for each baseline; higher means riskier."""
        return self.scores_from_rows(test.rows)

    def scores_from_rows(self, rows: Sequence[Row]) -> dict[str, np.ndarray]:
        """Each baseline's score per feature row (``models.features.feature_row``).

        A row without a promise has a NaN slack and lane score: there is nothing to be late for.
        """
        since_order = _column(rows, "hours_since_order")
        promised_transit = _column(rows, "promised_transit_hours")
        slack = -_column(rows, "hours_to_promise")  # = as_of - promised_by
        p90 = np.array([self.p90_for(row_lane(row))[0] for row in rows], dtype=np.float64)
        lane_overshoot = np.maximum(p90, since_order) - promised_transit
        carrier = np.array(
            [self.late_rate_for(row.get("carrier") or UNKNOWN) for row in rows], dtype=np.float64
        )
        return {
            "slack_to_promise": slack,
            "lane_p90": lane_overshoot,
            "carrier_late_rate": carrier,
        }

    def risk(self, name: str, rows: Sequence[Row]) -> np.ndarray:
        """Baseline ``name``'s score per row as a probability of being late (its risk curve)."""
        if name not in self.risk_curves:
            raise KeyError(f"no risk curve for baseline {name!r}: known {sorted(self.risk_curves)}")
        score = self.scores_from_rows(rows)[name]
        # No promise (its order not seen yet): nothing to be late for, so no risk to alert on.
        return self.risk_curves[name].probability(score, missing=0.0)

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

    def to_json(self) -> dict[str, Any]:
        """Everything learnt, as plain JSON: lanes as ``[origin, destination, service, shipments,
        p10, p50, p90]`` (no transit figures for a lane too thin to have its own); the p90 tables
        are the transit tables' last column."""
        return {
            "format": JSON_FORMAT,
            "min_lane_shipments": self.min_lane_shipments,
            "training_shipments": self.training_shipments,
            "delivered_training_shipments": self.delivered_training_shipments,
            "lanes": [
                [*lane, self.lane_shipments.get(lane, 0), *self.lane_transit_hours.get(lane, ())]
                for lane in sorted({*self.lane_shipments, *self.lane_transit_hours})
            ],
            "service_level_transit_hours": {
                k: list(v) for k, v in self.service_level_transit_hours.items()
            },
            "global_transit_hours": list(self.global_transit_hours),
            "carrier_late_rate": self.carrier_late_rate,
            "global_late_rate": self.global_late_rate,
            "risk_curves": {
                name: {"scores": list(curve.scores), "probabilities": list(curve.probabilities)}
                for name, curve in self.risk_curves.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Baselines:
        """The inverse of :meth:`to_json`; ``ValueError`` for anything else."""
        if not isinstance(data, Mapping) or data.get("format") != JSON_FORMAT:
            raise ValueError(f"fitted baselines are not in format {JSON_FORMAT}")
        try:
            lanes = [(_lane(entry[:3]), entry[3], entry[4:7]) for entry in data["lanes"]]
            lane_transit = {lane: _triple(hours) for lane, _, hours in lanes if hours}
            service_transit = {
                str(k): _triple(v) for k, v in data["service_level_transit_hours"].items()
            }
            global_transit = _triple(data["global_transit_hours"])
            return cls(
                lane_p90_hours={lane: hours[2] for lane, hours in lane_transit.items()},
                service_level_p90_hours={k: hours[2] for k, hours in service_transit.items()},
                global_p90_hours=global_transit[2],
                carrier_late_rate={str(k): float(v) for k, v in data["carrier_late_rate"].items()},
                global_late_rate=float(data["global_late_rate"]),
                training_shipments=int(data["training_shipments"]),
                delivered_training_shipments=int(data["delivered_training_shipments"]),
                min_lane_shipments=int(data["min_lane_shipments"]),
                lane_shipments={lane: int(count) for lane, count, _ in lanes},
                lane_transit_hours=lane_transit,
                service_level_transit_hours=service_transit,
                global_transit_hours=global_transit,
                risk_curves={
                    str(name): _curve(curve) for name, curve in data["risk_curves"].items()
                },
            )
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise ValueError(f"fitted baselines are malformed: {error!r}") from None


def _lane(parts: Sequence[Any]) -> Lane:
    origin, destination, service = (str(part) for part in parts)
    return origin, destination, service


def _triple(values: Sequence[Any]) -> tuple[float, float, float]:
    low, mid, high = (float(v) for v in values)
    return low, mid, high


def _curve(data: Mapping[str, Any]) -> RiskCurve:
    scores = tuple(float(x) for x in data["scores"])
    probabilities = tuple(float(y) for y in data["probabilities"])
    if not scores or len(scores) != len(probabilities) or list(scores) != sorted(scores):
        raise ValueError("a risk curve needs as many increasing scores as probabilities")
    if any(not 0.0 <= p <= 1.0 for p in probabilities):
        raise ValueError("a risk curve's probabilities lie between 0 and 1")
    return RiskCurve(scores, probabilities)


def row_lane(row: Row) -> Lane:
    """The lane of a feature row; a row without a service level is on the ``unknown`` one."""
    return lane_key(row, row.get("service_level") or UNKNOWN)


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

    lane_transit = {k: _quantiles(v) for k, v in by_lane.items() if len(v) >= min_lane_shipments}
    service_transit = {
        k: _quantiles(v) for k, v in by_service.items() if len(v) >= min_lane_shipments
    }
    global_transit = _quantiles(list(transit.values())) if transit else (0.0, 0.0, 0.0)

    counts: dict[str, list[int]] = {}
    for number, carrier in carrier_pairs:
        tally = counts.setdefault(carrier, [0, 0])
        tally[0] += late_of[number]
        tally[1] += 1
    late_rate = {carrier: late / total for carrier, (late, total) in counts.items()}
    global_rate = sum(late_of.values()) / len(late_of) if late_of else 0.0

    fitted = Baselines(
        lane_p90_hours={k: v[2] for k, v in lane_transit.items()},
        service_level_p90_hours={k: v[2] for k, v in service_transit.items()},
        global_p90_hours=global_transit[2],
        carrier_late_rate=late_rate,
        global_late_rate=float(global_rate),
        training_shipments=len(late_of),
        delivered_training_shipments=len(transit),
        min_lane_shipments=min_lane_shipments,
        lane_shipments={k: len(v) for k, v in by_lane.items()},
        lane_transit_hours=lane_transit,
        service_level_transit_hours=service_transit,
        global_transit_hours=global_transit,
    )
    scores = fitted.scores(train)
    curves = {name: RiskCurve.fit(scores[name], train.late) for name in BASELINE_NAMES}
    return replace(fitted, risk_curves=curves)
