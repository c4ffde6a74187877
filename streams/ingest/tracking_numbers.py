"""The tracking number a webhook body is about, where each platform documents it (pure).

Only the message key depends on it (a parcel's updates stay in order on one partition); the
normaliser reads the body itself, so a number not found here costs nothing but the ordering.
"""

from __future__ import annotations

from typing import Any

from parcelwatch.schemas import patterns
from parcelwatch.schemas.types import CarrierSource
from parcelwatch.streams.carriers.documents import dig

_TRACKING_NUMBER = patterns.compile_full(patterns.TRACKING_NUMBER)

# The path to the number in each platform's webhook body: EasyPost's Event wraps the Tracker in
# `result` (a bare Tracker also comes in), AfterShip's puts the tracking in `msg`, Shippo's
# `track_updated` in `data`, 17TRACK's push has one number's object in `data`.
_PATHS: dict[CarrierSource, tuple[tuple[str, ...], ...]] = {
    CarrierSource.EASYPOST: (("result", "tracking_code"), ("tracking_code",)),
    CarrierSource.AFTERSHIP: (("msg", "tracking_number"),),
    CarrierSource.SHIPPO: (("data", "tracking_number"),),
    CarrierSource.SEVENTEEN_TRACK: (("data", "number"),),
}


def tracking_number_in(platform: CarrierSource, document: Any) -> str | None:
    """The number at the platform's documented place, if it is a valid tracking number."""
    for path in _PATHS.get(platform, ()):
        value = dig(document, *path)
        if isinstance(value, str) and _TRACKING_NUMBER.fullmatch(value):
            return value
    return None
