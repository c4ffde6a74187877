"""Local times are read in the event location's zone, else the carrier's home zone, else UTC."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest

from parcelwatch.schemas.types import Location, TimeZoneSource
from parcelwatch.streams.carriers.timezones import (
    ZONES_FILE,
    is_us_state,
    resolve_zone,
    zone_of_location,
)


@pytest.mark.parametrize(
    ("location", "zone"),
    [
        (Location(country="DE", city="Berlin"), "Europe/Berlin"),
        (Location(country="FR"), "Europe/Paris"),
        (Location(country="US", region="TX", city="Houston"), "America/Chicago"),
        (Location(country="US", region="az"), "America/Phoenix"),
        (Location(country="gb"), "Europe/London"),
    ],
)
def test_a_location_names_its_zone(location, zone):
    assert zone_of_location(location) == zone


def test_a_location_without_a_zone_falls_back_to_the_carriers_home():
    resolved = resolve_zone(Location(country="US"), "America/New_York")
    assert resolved.said.resolved_by is TimeZoneSource.CARRIER_HOME
    assert resolved.zone == ZoneInfo("America/New_York")
    assert resolve_zone(None, None).said.resolved_by is TimeZoneSource.UTC


def test_the_location_wins_over_the_home_zone():
    resolved = resolve_zone(Location(country="JP"), "America/New_York")
    assert (resolved.said.resolved_by, resolved.said.zone) == (
        TimeZoneSource.LOCATION,
        "Asia/Tokyo",
    )


def test_every_zone_in_the_data_exists_in_the_tz_database():
    countries = json.loads(ZONES_FILE.read_text())["countries"]
    names = set()
    for value in countries.values():
        if isinstance(value, str):
            names.add(value)
            continue
        names.update(value.get("regions", {}).values())
        names.update(value.get("prefixes", {}).values())
        names.update(value.get("cities", {}).values())
        if value.get("default"):
            names.add(value["default"])
    unknown = set()
    for name in names:
        try:
            ZoneInfo(name)
        except Exception:
            unknown.add(name)
    assert unknown == set()


def test_us_states_are_known_without_their_country():
    assert is_us_state("TX") and is_us_state("ny")
    assert not is_us_state("BY")
