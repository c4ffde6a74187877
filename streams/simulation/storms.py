"""Regional storms: a seeded calendar of them, and which one a parcel runs into."""

from __future__ import annotations

import functools
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from parcelwatch.streams.simulation.chance import _poisson, _weighted
from parcelwatch.streams.simulation.clock import _hours, _whole_seconds, _zone
from parcelwatch.streams.simulation.geography import _AREAS, _Area


@dataclass(frozen=True, slots=True)
class Storm:
    """A regional disruption: severe weather over one region from ``start`` to ``end``.

    Parcels at a facility in the region (picked up there, passing one of its hubs, or out for
    delivery into it) while the storm is active sit out part of it and the backlog after it.
    """

    country: str
    region: str  # as in the shipments' places: a US state, a German Land, ENG, SCT, a province
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC
    severity: float  # 0.4 to 1.0: the share of the remaining storm that parcels caught sit out

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and self.end > start


def storm_calendar(seed: int, start: datetime, end: datetime, *, rate: float = 1.0) -> list[Storm]:
    """The storms active at some time between ``start`` and ``end``, ordered by their start.

    The calendar is a function of the seed and the dates alone: the storms beginning on each day
    are drawn from that day's own seeded generator, so any window shows the same storms on the
    same days, whatever the number of shipments. ``rate`` scales how often storms form (0: never;
    the default is about four a month over the four countries in summer and eight in deep
    winter).
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if rate < 0:
        raise ValueError("rate must not be negative")
    storms = [
        storm
        for day in _days(start - _STORM_REACH, end + timedelta(days=1))
        for storm in _storms_beginning(seed, day, rate)
        if storm.overlaps(start, end)
    ]
    return sorted(storms, key=lambda storm: (storm.start, storm.country, storm.region))


# How wintry each month is (1: snow and ice storms dominate; 0: thunderstorms and hurricanes).
_WINTER = {1: 1.0, 2: 1.0, 3: 0.6, 4: 0.25, 10: 0.25, 11: 0.6, 12: 1.0}
_STORMS_PER_MONTH = (4.0, 8.0)  # over all four countries, in summer and in deep winter
_STORM_HOURS = (20.0, 72.0)  # how long one lasts: roughly one to three days
_STORM_REACH = timedelta(days=4)  # one active at t began (its UTC date) at most 4 days before
# How prone each region is to storms in winter and in summer (relative weights).
_STORM_PRONENESS: dict[tuple[str, str], tuple[float, float]] = {
    ("US", "NY"): (3.0, 1.0),
    ("US", "NJ"): (2.0, 1.0),
    ("US", "MA"): (3.0, 1.0),
    ("US", "PA"): (2.0, 1.0),
    ("US", "GA"): (0.5, 1.5),
    ("US", "FL"): (0.2, 3.0),
    ("US", "NC"): (1.0, 2.0),
    ("US", "OH"): (2.0, 1.0),
    ("US", "KY"): (1.5, 1.0),
    ("US", "IL"): (3.0, 1.5),
    ("US", "MN"): (3.0, 1.0),
    ("US", "TN"): (1.0, 1.0),
    ("US", "TX"): (1.0, 2.5),
    ("US", "CO"): (2.5, 1.0),
    ("US", "AZ"): (0.2, 1.0),
    ("US", "CA"): (1.0, 0.3),
    ("US", "OR"): (1.0, 0.3),
    ("US", "WA"): (1.5, 0.3),
    ("DE", "BE"): (1.0, 0.7),
    ("DE", "HH"): (1.0, 0.7),
    ("DE", "BY"): (1.5, 1.0),
    ("DE", "NW"): (1.0, 0.8),
    ("DE", "HE"): (0.8, 0.7),
    ("DE", "SN"): (1.0, 0.8),
    ("GB", "ENG"): (2.0, 0.8),
    ("GB", "SCT"): (2.0, 0.5),
    ("CA", "ON"): (3.0, 1.0),
    ("CA", "QC"): (3.0, 1.0),
    ("CA", "AB"): (2.0, 0.8),
    ("CA", "BC"): (1.5, 0.3),
}
_REGION_ZONES = {(area.country, area.region): area.tz for area in reversed(list(_AREAS.values()))}


def _days(start: datetime, end: datetime) -> Iterable[date]:
    """The UTC dates from ``start``'s to ``end``'s, both included."""
    day, last = start.astimezone(UTC).date(), end.astimezone(UTC).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


@functools.lru_cache(maxsize=16384)
def _storms_beginning(seed: int, day: date, rate: float) -> tuple[Storm, ...]:
    """The storms that begin on ``day`` (local time in the region hit)."""
    if rate == 0:
        return ()
    rng = random.Random(f"parcelwatch.simulate/{seed}/storms/{day.isoformat()}")
    winter = _WINTER.get(day.month, 0.0)
    summer_rate, winter_rate = _STORMS_PER_MONTH
    count = _poisson(rng, rate * (summer_rate + (winter_rate - summer_rate) * winter) / 30.4)
    weights = {
        region: in_winter * winter + in_summer * (1.0 - winter)
        for region, (in_winter, in_summer) in _STORM_PRONENESS.items()
    }
    storms = []
    for _ in range(count):
        country, region = _weighted(rng, weights)
        midnight = datetime.combine(day, time(), tzinfo=_zone(_REGION_ZONES[country, region]))
        start = _whole_seconds(midnight.astimezone(UTC) + _hours(rng.uniform(0.0, 24.0)))
        end = _whole_seconds(start + _hours(rng.uniform(*_STORM_HOURS)))
        storms.append(Storm(country, region, start, end, round(rng.uniform(0.4, 1.0), 3)))
    return tuple(storms)


def _storm_over(
    seed: int, rate: float, area: _Area, start: datetime, end: datetime
) -> Storm | None:
    """The first storm active over ``area``'s region at some time between ``start`` and ``end``."""
    hits = [
        storm
        for day in _days(start - _STORM_REACH, end + timedelta(days=1))
        for storm in _storms_beginning(seed, day, rate)
        if storm.region == area.region
        and storm.country == area.country
        and storm.overlaps(start, end)
    ]
    return min(hits, key=lambda storm: storm.start, default=None)
