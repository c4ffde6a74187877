"""The time zone of a carrier's local time: the event location's, else the carrier's home zone.

Offline, from ``data/zones.json`` (written for this project from the IANA tz database's
zone1970.tab and the countries' postal code plans): a country with one zone has it; countries with
several are split by region (state, province) and, where carriers often give only a postal code,
by postal code prefix. A location that names no zone falls back to the carrier's home zone, and
the scan says which was used.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parcelwatch.schemas.types import Location, ScanTimeZone, TimeZoneSource

ZONES_FILE = Path(__file__).resolve().parent / "data" / "zones.json"
_UTC = ScanTimeZone(TimeZoneSource.UTC, "UTC")


@dataclass(frozen=True, slots=True)
class ResolvedZone:
    zone: tzinfo
    said: ScanTimeZone  # what the scan records


@functools.cache
def _zones() -> dict[str, Any]:
    data = json.loads(ZONES_FILE.read_text(encoding="utf-8"))
    return data["countries"]


@functools.lru_cache(maxsize=512)
def _zone(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _normal(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def zone_of_location(location: Location | None) -> str | None:
    """The IANA zone name of ``location``, or None when it names none we know."""
    if location is None or not location.country:
        return None
    country = _zones().get(location.country.upper())
    if country is None:
        return None
    if isinstance(country, str):
        return country
    if location.region:
        zone = country.get("regions", {}).get(_normal(location.region))
        if zone:
            return zone
    if location.postal_code:
        postal = _normal(location.postal_code)
        # Longest prefix first: "prefixes" maps postal code beginnings to zones.
        prefixes = country.get("prefixes", {})
        for length in range(min(len(postal), 5), 0, -1):
            zone = prefixes.get(postal[:length])
            if zone:
                return zone
    if location.city:
        zone = country.get("cities", {}).get(_normal(location.city))
        if zone:
            return zone
    return country.get("default")


def is_us_state(region: str) -> bool:
    """Whether ``region`` is a US state's (or territory's) two-letter code: US carriers and
    platforms often write the state without the country."""
    return _normal(region) in _zones()["US"]["regions"]


def resolve_zone(location: Location | None, home_zone: str | None) -> ResolvedZone:
    """The zone to read a local time at ``location`` in, and how it was chosen."""
    name = zone_of_location(location)
    if name is not None and (zone := _zone(name)) is not None:
        return ResolvedZone(zone, ScanTimeZone(TimeZoneSource.LOCATION, name))
    if home_zone is not None and (zone := _zone(home_zone)) is not None:
        return ResolvedZone(zone, ScanTimeZone(TimeZoneSource.CARRIER_HOME, home_zone))
    return ResolvedZone(ZoneInfo("UTC"), _UTC)
