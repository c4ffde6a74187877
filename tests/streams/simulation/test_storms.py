"""Regional storms: their seeded calendar, and the shipments they hold up."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from parcelwatch.schemas.types import ExceptionReason, Scan, ShipmentStatus
from parcelwatch.streams.simulation import (
    SimulatedEvent,
    SimulationConfig,
    Storm,
    generate_journeys,
    storm_calendar,
)

from tests.streams.simulation.journeys import (
    BIG,
    NOW,
    SEASON,
    SEASON_END,
    delivered_of,
    orders_of,
    scans_of,
)


def test_the_storm_calendar_depends_on_the_seed_and_the_dates_alone() -> None:
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC)
    storms = storm_calendar(7, start, end)
    assert storms == storm_calendar(7, start, end)
    assert storms != storm_calendar(8, start, end)
    assert 15 <= len(storms) <= 45  # several a month over the four countries
    assert [s.start for s in storms] == sorted(s.start for s in storms)
    # a shorter window shows the very same storms: nothing depends on where the window starts
    part_start, part_end = datetime(2026, 12, 10, 6, tzinfo=UTC), datetime(2027, 1, 3, tzinfo=UTC)
    part = storm_calendar(7, part_start, part_end)
    assert part and part == [s for s in storms if s.overlaps(part_start, part_end)]
    assert {s.country for s in storms} <= {"US", "DE", "GB", "CA"}
    assert len({(s.country, s.region) for s in storms}) > 8
    for storm in storms:
        assert storm.start.utcoffset() == timedelta(0)
        assert timedelta(hours=12) <= storm.end - storm.start <= timedelta(days=3)
        assert 0 < storm.severity <= 1
    assert storm_calendar(7, start, end, rate=0) == []


def test_storms_are_more_frequent_in_winter() -> None:
    def storms_in(month: int) -> int:
        return sum(
            len(
                storm_calendar(
                    3, datetime(year, month, 1, tzinfo=UTC), datetime(year, month, 29, tzinfo=UTC)
                )
            )
            for year in range(2026, 2031)
        )

    assert storms_in(1) > 1.5 * storms_in(7)
    assert storms_in(7) >= 5  # but summer has its thunderstorms and hurricanes too


_AT_THE_MERCHANT = (ShipmentStatus.INFO_RECEIVED, ShipmentStatus.CANCELLED)


def _in_storm(scan: Scan, storm: Storm) -> bool:
    """Whether the parcel was scanned in the storm's region while it raged (labels do not count:
    the parcel is still with the merchant)."""
    return (
        scan.location is not None
        and (scan.location.country, scan.location.region) == (storm.country, storm.region)
        and storm.start <= scan.occurred_at <= storm.end
        and scan.status not in _AT_THE_MERCHANT
    )


@dataclass
class _StormExposure:
    caught: dict[bytes, Storm]  # shipments scanned in a storm's region while it raged
    others: set[bytes]  # shipments on the move (elsewhere) while some storm raged
    weather: set[bytes]  # shipments with a weather_delay exception
    late: set[bytes]  # shipments not delivered by their promise


def _storm_exposure(events: list[SimulatedEvent], storms: list[Storm]) -> _StormExposure:
    orders, delivered = orders_of(events), delivered_of(events)
    exposure = _StormExposure({}, set(), set(), set())
    for e in scans_of(events):
        assert isinstance(e.event, Scan)
        scan = e.event
        if scan.reason is ExceptionReason.WEATHER_DELAY:
            exposure.weather.add(e.key)
        for storm in storms:
            if storm.start <= scan.occurred_at <= storm.end and scan.status not in _AT_THE_MERCHANT:
                exposure.others.add(e.key)
                if _in_storm(scan, storm):
                    exposure.caught.setdefault(e.key, storm)
    exposure.others -= set(exposure.caught)
    exposure.late = {
        key
        for key, order in orders.items()
        if key not in delivered or delivered[key].occurred_at > order.promised_by
    }
    return exposure


def test_storms_hit_the_same_shipments_whatever_the_shipment_count() -> None:
    now = datetime(2027, 1, 20, tzinfo=UTC)
    stormy = SimulationConfig(shipments=60, seed=5, window_days=12, storm_rate=4.0)
    small = generate_journeys(stormy, now=now)
    large = generate_journeys(replace(stormy, shipments=150), now=now)
    small_keys = {e.key for e in small}
    assert [e for e in large if e.key in small_keys] == small
    storms = storm_calendar(stormy.seed, now - timedelta(days=20), now, rate=stormy.storm_rate)
    exposure = _storm_exposure(small, storms)
    assert len(exposure.caught) >= 3 and exposure.weather <= set(exposure.caught)


def test_shipments_through_a_storm_region_are_late_and_held_for_weather(
    season: list[SimulatedEvent],
) -> None:
    storms = storm_calendar(
        SEASON.seed,
        SEASON_END - timedelta(days=SEASON.window_days),
        SEASON_END - timedelta(days=10),  # every shipment caught in them is due by the end
    )
    exposure = _storm_exposure(season, storms)
    caught, others = set(exposure.caught), exposure.others
    assert len(caught) > 25 and len(others) > 300
    late_caught = len(caught & exposure.late) / len(caught)
    late_others = len(others & exposure.late) / len(others)
    assert late_caught > 0.35 and late_caught > 2.5 * late_others
    assert len(caught & exposure.weather) / len(caught) > 0.5
    assert len(others & exposure.weather) / len(others) < 0.05


def test_a_storm_makes_many_shipments_in_its_region_late_together(
    big: list[SimulatedEvent],
) -> None:
    storms = storm_calendar(BIG.seed, NOW - timedelta(days=BIG.window_days), NOW)
    exposure = _storm_exposure(big, storms)
    worst, late_together = Counter(
        storm for key, storm in exposure.caught.items() if key in exposure.late
    ).most_common(1)[0]
    assert late_together >= 8, worst
    hit = {key for key, storm in exposure.caught.items() if storm == worst}
    assert len(hit & exposure.weather) > len(hit) / 2
