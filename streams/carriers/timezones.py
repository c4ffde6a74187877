"""The time zone of a carrier's local time: the event location's, else the carrier's home zone.

Offline, from ``data/zones.json`` (written for this project from the IANA tz database's
zone1970.tab and the countries' postal code plans): a country with one zone has it; countries with
several are split by postal code prefix (the most precise: it also finds the places whose zone
differs from their state's, such as El Paso or the Florida panhandle), then by region (state,
province), then by big city. A location that names no zone falls back to the carrier's home zone,
and the scan says which was used.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
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
    """Upper-case letters and digits only, accents folded: "Québec" and "QUEBEC" are one key."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[^A-Z0-9]", "", bare.upper())


def zone_of_location(location: Location | None) -> str | None:
    """The IANA zone name of ``location``, or None when it names none we know."""
    if location is None or not location.country:
        return None
    country = _zones().get(location.country.upper())
    if country is None:
        return None
    if isinstance(country, str):
        return country
    postal = _normal(location.postal_code or "")
    # Every postal code these tables split has digits: "N/A" or "NONE" must not read as a prefix.
    if len(postal) >= 3 and any(char.isdigit() for char in postal):
        # Longest prefix first: "prefixes" maps postal code beginnings to zones.
        prefixes = country.get("prefixes", {})
        for length in range(min(len(postal), 5), 0, -1):
            zone = prefixes.get(postal[:length])
            if zone:
                return zone
    if location.region:
        zone = country.get("regions", {}).get(_normal(location.region))
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
    code = _normal(region)
    return len(code) == 2 and code in _zones()["US"]["regions"]


def resolve_zone(location: Location | None, home_zone: str | None) -> ResolvedZone:
    """The zone to read a local time at ``location`` in, and how it was chosen."""
    name = zone_of_location(location)
    if name is not None and (zone := _zone(name)) is not None:
        return ResolvedZone(zone, ScanTimeZone(TimeZoneSource.LOCATION, name))
    if home_zone is not None and (zone := _zone(home_zone)) is not None:
        return ResolvedZone(zone, ScanTimeZone(TimeZoneSource.CARRIER_HOME, home_zone))
    return ResolvedZone(ZoneInfo("UTC"), _UTC)
