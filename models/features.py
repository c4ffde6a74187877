"""The one feature function, used by training, offline scoring and the worker alike.

Features describe a shipment as the worker knows it right after applying a scan: its
``ShipmentState`` and the scan's event time ``as_of``. Nothing here looks at later scans, so a
training row is exactly what the worker had at that moment (point-in-time correct).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
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
FEATURE_NAMES = NUMERIC_FEATURES + CATEGORICAL_FEATURES

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


@dataclass(frozen=True)
class FeatureEncoder:
    """Turns rows into the float matrix the models take.

    Categorical values become integer codes from vocabularies learnt at training time; a value
    never seen in training (a new carrier, region or service level) becomes NaN, which the
    gradient-boosting models treat as "missing", so unseen categories are handled, not errors.
    """

    vocabularies: dict[str, tuple[str, ...]]

    @classmethod
    def fit(cls, rows: Sequence[Row], max_categories: int = 250) -> FeatureEncoder:
        vocabularies = {}
        for name in CATEGORICAL_FEATURES:
            counts: dict[str, int] = {}
            for row in rows:
                value = row[name]
                if value is not None:
                    counts[value] = counts.get(value, 0) + 1
            ranked = sorted(counts, key=lambda v: (-counts[v], v))[:max_categories]
            vocabularies[name] = tuple(sorted(ranked))
        return cls(vocabularies)

    @property
    def categorical_mask(self) -> np.ndarray:
        return np.array([name in CATEGORICAL_FEATURES for name in FEATURE_NAMES])

    def transform(self, rows: Sequence[Row]) -> np.ndarray:
        matrix = np.full((len(rows), len(FEATURE_NAMES)), np.nan, dtype=np.float64)
        for column, name in enumerate(NUMERIC_FEATURES):
            matrix[:, column] = [row[name] for row in rows]
        offset = len(NUMERIC_FEATURES)
        for index, name in enumerate(CATEGORICAL_FEATURES):
            codes = {value: code for code, value in enumerate(self.vocabularies[name])}
            matrix[:, offset + index] = [codes.get(row[name], math.nan) for row in rows]
        return matrix

    def to_json(self) -> dict[str, list[str]]:
        return {name: list(values) for name, values in self.vocabularies.items()}

    @classmethod
    def from_json(cls, data: dict[str, list[str]]) -> FeatureEncoder:
        missing = set(CATEGORICAL_FEATURES) - set(data)
        if missing:
            raise ValueError(f"model metadata lacks vocabularies for {sorted(missing)}")
        return cls({name: tuple(data[name]) for name in CATEGORICAL_FEATURES})
