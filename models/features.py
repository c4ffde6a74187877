"""The one feature function, used by training, offline scoring and the worker alike.

Features describe a shipment as the worker knows it right after applying a scan: its
``ShipmentState`` and the scan's event time ``as_of``. Nothing here looks at later scans, so a
training row is exactly what the worker had at that moment (point-in-time correct).

:class:`FeatureEncoder` turns rows into the model's matrix. Besides the row's own values it adds
the baseline signals relative to the lane's typical transit (:data:`LANE_FEATURES`, from a
:class:`LaneTransit` table learnt on the training split), and it keeps only the columns that
carried information in training; both are stored with the model, so serving builds exactly the
matrix the model was fitted on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from parcelwatch.schemas.state import ShipmentState
from parcelwatch.schemas.types import ShipmentStatus

NUMERIC_FEATURES = (
    "hours_since_order",
    "hours_to_promise",
    "promised_transit_hours",
    "hours_since_first_scan",
    "hours_in_status",
    "scan_count",
    "exception_count",
    "failed_attempts",
    "hours_to_carrier_estimate",
    "carrier_estimate_minus_promise_hours",
    "promise_weekday",
    "as_of_weekday",
    "international",
)
CATEGORICAL_FEATURES = (
    "carrier",
    "service_level",
    "status",
    "status_reason",
    "origin_region",
    "destination_region",
    "destination_country",
)
FEATURE_NAMES = NUMERIC_FEATURES + CATEGORICAL_FEATURES  # the keys of a feature row
# Computed by the encoder from a row and the lane table (the lane's p50/p90 transit from order):
LANE_FEATURES = (
    "lane_p50_hours",
    "lane_p90_hours",
    "hours_past_lane_p50",  # hours_since_order - lane p50: slower than usual so far
    "promise_beyond_lane_p90",  # promised transit - lane p90: the promise's margin
    "slack_after_lane_p90",  # promised transit - max(lane p90, hours since order)
    "promise_to_lane_p50",  # hours_to_promise / lane p50: time left in typical transits
)
MATRIX_COLUMNS = NUMERIC_FEATURES + LANE_FEATURES + CATEGORICAL_FEATURES
# Models trained before lane features and column selection were fitted on exactly these columns.
LEGACY_COLUMNS = NUMERIC_FEATURES + CATEGORICAL_FEATURES
# Risk cannot rise with more time left before the promise (monotonic constraints).
RISK_FALLS_WITH = frozenset(
    {"hours_to_promise", "promise_beyond_lane_p90", "slack_after_lane_p90", "promise_to_lane_p50"}
)
MIN_LANE_SHIPMENTS = 10
UNKNOWN = "unknown"

Row = dict[str, Any]


def _hours(later: datetime | None, earlier: datetime | None) -> float:
    if later is None or earlier is None:
        return math.nan
    return (later - earlier).total_seconds() / 3600.0


def feature_row(state: ShipmentState, as_of: datetime) -> Row:
    """Features of ``state`` at ``as_of`` (the event time of the scan just applied)."""
    ordered, tracking = state.order, state.tracking
    origin, destination = ordered.origin, ordered.destination
    international = (
        math.nan
        if origin is None or destination is None or not origin.country or not destination.country
        else float(origin.country != destination.country)
    )
    failed = sum(
        1 for record in tracking.exceptions if record.status is ShipmentStatus.ATTEMPT_FAILED
    )
    return {
        "hours_since_order": _hours(as_of, ordered.ordered_at),
        "hours_to_promise": _hours(ordered.promised_by, as_of),
        "promised_transit_hours": _hours(ordered.promised_by, ordered.ordered_at),
        "hours_since_first_scan": _hours(as_of, tracking.first_scan_at),
        "hours_in_status": _hours(as_of, tracking.status_at),
        "scan_count": float(tracking.scan_count),
        "exception_count": float(tracking.exception_count - failed),
        "failed_attempts": float(failed),
        "hours_to_carrier_estimate": _hours(tracking.estimated_delivery, as_of),
        "carrier_estimate_minus_promise_hours": _hours(
            tracking.estimated_delivery, ordered.promised_by
        ),
        # weekday in the promise's own offset: "due on a Monday" is a local fact
        "promise_weekday": math.nan
        if ordered.promised_by is None
        else ordered.promised_by.weekday(),
        "as_of_weekday": float(as_of.weekday()),
        "international": international,
        "carrier": state.carrier,
        "service_level": ordered.service_level,
        "status": None if tracking.status is None else tracking.status.value,
        "status_reason": None if tracking.status_reason is None else tracking.status_reason.value,
        "origin_region": _region(origin),
        "destination_region": _region(destination),
        "destination_country": None if destination is None else destination.country,
    }


def _region(place: Any) -> str | None:
    if place is None or place.country is None:
        return None
    return f"{place.country}-{place.region}" if place.region else place.country


Transit = tuple[float, float]  # (p50, p90) hours from order to delivery


def lane_of(row: Row) -> tuple[str, str, str]:
    """(origin region, destination region, service level); missing parts become ``unknown``."""
    return (
        row.get("origin_region") or UNKNOWN,
        row.get("destination_region") or UNKNOWN,
        row.get("service_level") or UNKNOWN,
    )


@dataclass(frozen=True)
class LaneTransit:
    """Typical transit (order to delivery) per lane, learnt from delivered training shipments.

    A lane with fewer than ``MIN_LANE_SHIPMENTS`` shipments falls back to its service level,
    then to all shipments; with no delivered shipment at all there is nothing to fall back to.
    """

    lanes: dict[str, Transit]  # "origin|destination|service"
    service_levels: dict[str, Transit]
    overall: Transit | None

    @classmethod
    def fit(
        cls,
        rows: Sequence[Row],
        hours_to_delivery: Sequence[float],
        shipment_ids: Sequence[str],
        min_shipments: int = MIN_LANE_SHIPMENTS,
    ) -> LaneTransit:
        transit: dict[str, tuple[tuple[str, str, str], float]] = {}
        for row, to_delivery, shipment in zip(rows, hours_to_delivery, shipment_ids, strict=True):
            hours = row["hours_since_order"] + to_delivery
            if shipment not in transit and math.isfinite(hours):
                transit[shipment] = (lane_of(row), hours)
        by_lane: dict[str, list[float]] = {}
        by_service: dict[str, list[float]] = {}
        for lane, hours in transit.values():
            by_lane.setdefault("|".join(lane), []).append(hours)
            by_service.setdefault(lane[2], []).append(hours)
        everything = [hours for _, hours in transit.values()]
        return cls(
            lanes={k: _p50_p90(v) for k, v in by_lane.items() if len(v) >= min_shipments},
            service_levels={
                k: _p50_p90(v) for k, v in by_service.items() if len(v) >= min_shipments
            },
            overall=_p50_p90(everything) if everything else None,
        )

    def lookup(self, row: Row) -> Transit:
        lane = lane_of(row)
        found = self.lanes.get("|".join(lane)) or self.service_levels.get(lane[2]) or self.overall
        return found or (math.nan, math.nan)

    def to_json(self) -> dict[str, Any]:
        return {
            "lanes": {k: list(v) for k, v in self.lanes.items()},
            "service_levels": {k: list(v) for k, v in self.service_levels.items()},
            "overall": None if self.overall is None else list(self.overall),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LaneTransit:
        overall = data.get("overall")
        return cls(
            lanes={k: (float(v[0]), float(v[1])) for k, v in data["lanes"].items()},
            service_levels={
                k: (float(v[0]), float(v[1])) for k, v in data["service_levels"].items()
            },
            overall=None if overall is None else (float(overall[0]), float(overall[1])),
        )


def _p50_p90(hours: list[float]) -> Transit:
    p50, p90 = np.quantile(np.asarray(hours, dtype=np.float64), [0.5, 0.9])
    return float(p50), float(p90)


def lane_features(row: Row, transit: Transit) -> dict[str, float]:
    """The baseline signals relative to the lane's typical transit (NaN where unknown)."""
    p50, p90 = transit
    since_order, to_promise = row["hours_since_order"], row["hours_to_promise"]
    promised_transit = since_order + to_promise
    return {
        "lane_p50_hours": p50,
        "lane_p90_hours": p90,
        "hours_past_lane_p50": since_order - p50,
        "promise_beyond_lane_p90": promised_transit - p90,
        "slack_after_lane_p90": promised_transit - max(p90, since_order),
        "promise_to_lane_p50": to_promise / p50 if p50 > 0 else math.nan,
    }


@dataclass(frozen=True)
class FeatureEncoder:
    """Turns rows into the float matrix the models take.

    Categorical values become integer codes from vocabularies learnt at training time; a value
    never seen in training (a new carrier, region or service level) becomes NaN, which the
    gradient-boosting models treat as "missing", so unseen categories are handled, not errors.

    ``columns`` are the matrix columns kept at training time, in order; ``dropped`` says why
    each other column was left out (it carried no information in the training split).
    ``classifier_columns`` are the ones the delay classifier takes (None: all of ``columns``);
    the delivery-time models always take all.
    """

    vocabularies: dict[str, tuple[str, ...]]
    columns: tuple[str, ...] = LEGACY_COLUMNS
    lane_transit: LaneTransit | None = None
    dropped: dict[str, str] = field(default_factory=dict)
    classifier_columns: tuple[str, ...] | None = None

    def positions(self, names: Sequence[str]) -> np.ndarray:
        """Indices of ``names`` among the matrix columns."""
        return np.array([self.columns.index(name) for name in names], dtype=np.intp)

    def classifier_features(self, matrix: np.ndarray) -> np.ndarray:
        """The classifier's columns of a matrix from :meth:`transform`."""
        if self.classifier_columns is None or self.classifier_columns == self.columns:
            return matrix
        return matrix[:, self.positions(self.classifier_columns)]

    @classmethod
    def fit(
        cls,
        rows: Sequence[Row],
        *,
        hours_to_delivery: Sequence[float] | None = None,
        shipment_ids: Sequence[str] | None = None,
        max_categories: int = 250,
    ) -> FeatureEncoder:
        """Learn vocabularies and the lane table, then keep the informative columns.

        Without delivery times (``hours_to_delivery``) no lane table is learnt and the lane
        features are dropped. A numeric column is dropped when it is missing in every row or
        holds one value in every row; a categorical one when it has at most one category.
        """
        vocabularies = {}
        for name in CATEGORICAL_FEATURES:
            counts: dict[str, int] = {}
            for row in rows:
                value = row[name]
                if value is not None:
                    counts[value] = counts.get(value, 0) + 1
            ranked = sorted(counts, key=lambda v: (-counts[v], v))[:max_categories]
            vocabularies[name] = tuple(sorted(ranked))
        lane_transit = None
        if hours_to_delivery is not None and shipment_ids is not None:
            lane_transit = LaneTransit.fit(rows, hours_to_delivery, shipment_ids)
        everything = cls(vocabularies, MATRIX_COLUMNS, lane_transit)
        matrix = everything.transform(rows)
        dropped = {
            name: reason
            for column, name in enumerate(MATRIX_COLUMNS)
            if (reason := _uninformative(name, matrix[:, column], vocabularies)) is not None
        }
        kept = tuple(name for name in MATRIX_COLUMNS if name not in dropped)
        return cls(vocabularies, kept, lane_transit, dropped)

    @property
    def categorical_mask(self) -> np.ndarray:
        return np.array([name in CATEGORICAL_FEATURES for name in self.columns], dtype=bool)

    @property
    def monotonic_cst(self) -> np.ndarray:
        """-1 where risk must not rise as the value grows, else 0 (HistGradientBoosting)."""
        return np.array([-1 if name in RISK_FALLS_WITH else 0 for name in self.columns])

    def transform(self, rows: Sequence[Row]) -> np.ndarray:
        matrix = np.full((len(rows), len(self.columns)), np.nan, dtype=np.float64)
        wanted = set(self.columns)
        if wanted & set(LANE_FEATURES):
            if self.lane_transit is None:
                raise ValueError("the encoder has lane features but no lane transit table")
            derived = [lane_features(row, self.lane_transit.lookup(row)) for row in rows]
        for column, name in enumerate(self.columns):
            if name in CATEGORICAL_FEATURES:
                codes = {value: code for code, value in enumerate(self.vocabularies[name])}
                matrix[:, column] = [codes.get(row[name], math.nan) for row in rows]
            elif name in LANE_FEATURES:
                matrix[:, column] = [values[name] for values in derived]
            else:
                matrix[:, column] = [row[name] for row in rows]
        return matrix

    def to_json(self) -> dict[str, Any]:
        return {
            "vocabularies": {name: list(values) for name, values in self.vocabularies.items()},
            "columns": list(self.columns),
            "dropped": dict(self.dropped),
            "lane_transit": None if self.lane_transit is None else self.lane_transit.to_json(),
            "classifier_columns": None
            if self.classifier_columns is None
            else list(self.classifier_columns),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureEncoder:
        """Read :meth:`to_json`'s output, or a legacy model's bare vocabularies."""
        if "columns" not in data:  # a model from before column selection: all legacy columns
            return cls(_vocabularies(data))
        unknown = set(data["columns"]) - set(MATRIX_COLUMNS)
        if unknown:
            raise ValueError(f"model uses features this version lacks: {sorted(unknown)}")
        transit = data.get("lane_transit")
        classifier_columns = data.get("classifier_columns")
        if classifier_columns is not None and not set(classifier_columns) <= set(data["columns"]):
            raise ValueError("the classifier's columns are not among the encoder's columns")
        return cls(
            _vocabularies(data["vocabularies"]),
            tuple(data["columns"]),
            None if transit is None else LaneTransit.from_json(transit),
            dict(data.get("dropped", {})),
            None if classifier_columns is None else tuple(classifier_columns),
        )


def _vocabularies(data: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    missing = set(CATEGORICAL_FEATURES) - set(data)
    if missing:
        raise ValueError(f"model metadata lacks vocabularies for {sorted(missing)}")
    return {name: tuple(data[name]) for name in CATEGORICAL_FEATURES}


def _uninformative(
    name: str, values: np.ndarray, vocabularies: dict[str, tuple[str, ...]]
) -> str | None:
    """Why a training column cannot inform the model, or None when it can."""
    present = values[~np.isnan(values)]
    if not len(present):
        return "missing in every training row"
    if name in CATEGORICAL_FEATURES:
        if len(vocabularies[name]) <= 1:
            return f"one category only ({vocabularies[name][0]!r}) in training"
        return None
    if len(present) == len(values) and present.min() == present.max():
        return f"the same value ({present[0]:g}) in every training row"
    return None
