"""Behaviour of the shipment simulator: valid contract events with realistic shape and trouble."""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from parcelwatch.schemas.codec import decode_order, decode_scan, encode
from parcelwatch.schemas.state import ShipmentState
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import (
    AlertKind,
    ExceptionReason,
    Limits,
    Order,
    Scan,
    ShipmentStatus,
)
from parcelwatch.streams.core.silence import SILENCE_KINDS
from parcelwatch.streams.core.tracking import Applied, apply_event
from parcelwatch.streams.simulation import (
    SimulatedEvent,
    SimulationConfig,
    Storm,
    easter_sunday,
    generate_journeys,
    journey_events,
    produce,
    public_holidays,
    storm_calendar,
)

NOW = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)
BIG = SimulationConfig(shipments=2000, seed=7)
# Autumn to winter: US Thanksgiving, Christmas everywhere, German Unity Day, and many storms.
SEASON_END = datetime(2027, 1, 8, 12, 0, tzinfo=UTC)
SEASON = SimulationConfig(shipments=1500, seed=7, window_days=110)


@pytest.fixture(scope="module")
def big() -> list[SimulatedEvent]:
    return generate_journeys(BIG, now=NOW)


@pytest.fixture(scope="module")
def season() -> list[SimulatedEvent]:
    return generate_journeys(SEASON, now=SEASON_END)


def _orders(events: list[SimulatedEvent]) -> dict[bytes, Order]:
    return {e.key: e.event for e in events if isinstance(e.event, Order)}


def _scans(events: list[SimulatedEvent]) -> list[SimulatedEvent]:
    return [e for e in events if e.topic_kind == "scan"]


def _first_sends(events: list[SimulatedEvent]) -> dict[bytes, list[SimulatedEvent]]:
    """Per shipment, the first send of each scan, in event-time order."""
    per_shipment: dict[bytes, dict[str, SimulatedEvent]] = defaultdict(dict)
    for e in _scans(events):
        per_shipment[e.key].setdefault(e.event.event_id, e)
    return {
        key: sorted(sends.values(), key=lambda e: e.event.occurred_at)
        for key, sends in per_shipment.items()
    }


def _status(event: SimulatedEvent) -> ShipmentStatus:
    assert isinstance(event.event, Scan)
    return event.event.status


def _delivered(events: list[SimulatedEvent]) -> dict[bytes, Scan]:
    return {
        e.key: e.event
        for e in _scans(events)
        if isinstance(e.event, Scan) and e.event.status is ShipmentStatus.DELIVERED
    }


# ---------------------------------------------------------------------------------------------
# Determinism and shape


def test_same_seed_gives_identical_events_and_another_seed_different_ones() -> None:
    config = SimulationConfig(shipments=80, seed=11)
    first = generate_journeys(config, now=NOW)
    assert first == generate_journeys(config, now=NOW)
    other = generate_journeys(SimulationConfig(shipments=80, seed=12), now=NOW)
    assert {e.key for e in other}.isdisjoint({e.key for e in first})
    assert [e.event for e in other] != [e.event for e in first]


def test_more_shipments_keep_the_first_ones_unchanged() -> None:
    small = generate_journeys(SimulationConfig(shipments=30, seed=5), now=NOW)
    large = generate_journeys(SimulationConfig(shipments=80, seed=5), now=NOW)
    small_keys = {e.key for e in small}
    assert [e for e in large if e.key in small_keys] == small


def test_every_shipment_has_its_order_and_events_are_sorted_by_publication(
    big: list[SimulatedEvent],
) -> None:
    orders = _orders(big)
    assert len(orders) == BIG.shipments
    assert [e.emit_at for e in big] == sorted(e.emit_at for e in big)
    order_emitted = {e.key: e.emit_at for e in big if e.topic_kind == "order"}
    for e in big:
        assert e.emit_at.utcoffset() == timedelta(0)
        assert e.key == e.event.tracking_number.encode()
        assert (e.topic_kind == "order") == isinstance(e.event, Order)
        assert order_emitted[e.key] <= e.emit_at


def test_all_events_round_trip_as_valid_contract_events() -> None:
    limits = Limits()
    events = generate_journeys(SimulationConfig(shipments=500, seed=19), now=NOW)
    for e in events:
        payload = encode(e.event)
        if isinstance(e.event, Order):
            decoded: Order | Scan = decode_order(payload, key=e.key, now=NOW, limits=limits)
        else:
            decoded = decode_scan(payload, key=e.key, now=NOW, limits=limits)
        assert decoded == e.event


def test_nothing_happens_after_now(big: list[SimulatedEvent]) -> None:
    for e in big:
        happened = e.event.ordered_at if isinstance(e.event, Order) else e.event.occurred_at
        assert happened <= e.emit_at <= NOW


def test_event_ids_identify_one_event_and_scans_are_numbered_in_event_time_order(
    big: list[SimulatedEvent],
) -> None:
    by_id: dict[str, Order | Scan] = {}
    for e in big:
        assert by_id.setdefault(e.event.event_id, e.event) == e.event
    for key, sends in _first_sends(big).items():
        numbers = [int(e.event.event_id.rsplit("-s", 1)[1]) for e in sends]
        assert numbers == sorted(numbers), key
        assert numbers[0] == 1, key  # the label is the first scan


def test_orders_and_scans_look_like_real_carrier_data(big: list[SimulatedEvent]) -> None:
    orders = _orders(big)
    assert {o.carrier for o in orders.values()} == {"ups", "fedex", "usps", "dhl"}
    assert {o.service_level for o in orders.values()} == {"ground", "express", "2day", "economy"}
    countries = Counter(o.destination.country for o in orders.values() if o.destination)
    assert set(countries) == {"US", "DE", "GB", "CA"}
    assert countries["US"] > sum(countries.values()) / 2
    for order in orders.values():
        assert order.customer is not None and order.customer.id.startswith("cust-")
        assert order.customer.timezone is not None
        local_promise = order.promised_by.astimezone(ZoneInfo(order.customer.timezone))
        assert (local_promise.hour, local_promise.minute) == (23, 59)
        assert order.promised_by.utcoffset() == local_promise.utcoffset()
        if order.carrier == "ups":
            assert order.tracking_number.startswith("1Z") and len(order.tracking_number) == 18
    delivered_codes = {(s.carrier, s.carrier_status_code) for s in _delivered(big).values()}
    assert {("ups", "D"), ("fedex", "DL"), ("usps", "01"), ("dhl", "OK")} <= delivered_codes
    statuses = Counter(_status(e) for e in _scans(big))
    assert set(ShipmentStatus) - set(statuses) <= {ShipmentStatus.UNKNOWN, ShipmentStatus.CANCELLED}
    with_location = [e for e in _scans(big) if isinstance(e.event, Scan) and e.event.location]
    assert len(with_location) == len(_scans(big))
    with_estimate = [
        e for e in _scans(big) if isinstance(e.event, Scan) and e.event.estimated_delivery
    ]
    assert 0.1 < len(with_estimate) / len(_scans(big)) < 0.9


def test_some_labels_are_never_picked_up(big: list[SimulatedEvent]) -> None:
    orders = _orders(big)
    stuck = [
        key
        for key, sends in _first_sends(big).items()
        if [e.event.status for e in sends] == [ShipmentStatus.INFO_RECEIVED]
        and orders[key].ordered_at < NOW - timedelta(days=5)
    ]
    assert 0.003 < len(stuck) / len(orders) < 0.04


# ---------------------------------------------------------------------------------------------
# Transport: duplicates and late reports


def test_some_scans_are_redelivered_with_the_same_event_later(big: list[SimulatedEvent]) -> None:
    sends: dict[str, list[SimulatedEvent]] = defaultdict(list)
    for e in _scans(big):
        sends[e.event.event_id].append(e)
    repeats = [s for s in sends.values() if len(s) > 1]
    assert 0.02 < len(repeats) / len(sends) < 0.045  # configured 3 %
    for copies in repeats:
        assert all(c.event is copies[0].event for c in copies)
        assert copies[1].emit_at > copies[0].emit_at


def test_some_scans_are_reported_after_a_later_scan(big: list[SimulatedEvent]) -> None:
    late = total = 0
    for sends in _first_sends(big).values():
        earliest_later: datetime | None = None
        for e in reversed(sends):  # newest first
            total += 1
            if earliest_later is not None and e.emit_at > earliest_later:
                late += 1
            earliest_later = e.emit_at if earliest_later is None else min(earliest_later, e.emit_at)
    assert 0.035 < late / total < 0.065  # configured 5 %


def test_without_transport_noise_or_trouble_journeys_are_clean() -> None:
    config = SimulationConfig(
        shipments=100,
        seed=3,
        duplicate_rate=0,
        out_of_order_rate=0,
        exception_rate=0,
        failed_attempt_rate=0,
        return_rate=0,
        never_picked_up_rate=0,
        storm_rate=0,
    )
    events = generate_journeys(config, now=NOW)
    ids = [e.event.event_id for e in events]
    assert len(ids) == len(set(ids))
    for sends in _first_sends(events).values():
        assert [e.emit_at for e in sends] == sorted(e.emit_at for e in sends)
    troubled = {
        ShipmentStatus.EXCEPTION,
        ShipmentStatus.ATTEMPT_FAILED,
        ShipmentStatus.RETURNING_TO_SENDER,
        ShipmentStatus.RETURNED_TO_SENDER,
        ShipmentStatus.CANCELLED,
    }
    assert not [e for e in _scans(events) if _status(e) in troubled]


# ---------------------------------------------------------------------------------------------
# Delivery realism


def test_late_share_of_delivered_shipments_is_realistic(big: list[SimulatedEvent]) -> None:
    orders = _orders(big)
    delivered = _delivered(big)
    assert len(delivered) > 600
    late = [k for k, scan in delivered.items() if scan.occurred_at > orders[k].promised_by]
    assert 0.05 <= len(late) / len(delivered) <= 0.12


def test_nothing_is_delivered_on_a_sunday_in_the_destination(big: list[SimulatedEvent]) -> None:
    orders = _orders(big)
    for key, scan in _delivered(big).items():
        customer = orders[key].customer
        assert customer is not None and customer.timezone is not None
        assert scan.occurred_at.astimezone(ZoneInfo(customer.timezone)).weekday() != 6


def _local_day(moment: datetime, order: Order) -> date:
    """The date of ``moment`` in the recipient's time zone."""
    assert order.customer is not None and order.customer.timezone is not None
    return moment.astimezone(ZoneInfo(order.customer.timezone)).date()


def test_public_holidays_follow_their_rules_in_any_year() -> None:
    assert [easter_sunday(year) for year in (2024, 2025, 2026, 2027, 2038)] == [
        date(2024, 3, 31),
        date(2025, 4, 20),
        date(2026, 4, 5),
        date(2027, 3, 28),
        date(2038, 4, 25),
    ]
    us = {year: public_holidays("US", year) for year in (2025, 2026, 2027)}
    assert date(2025, 11, 27) in us[2025] and date(2027, 11, 25) in us[2027]  # Thanksgiving
    assert date(2026, 11, 26) in us[2026] and date(2026, 11, 19) not in us[2026]
    assert {date(2026, 5, 25), date(2026, 9, 7)} <= us[2026]  # Memorial Day, Labor Day
    assert {date(2026, 7, 3), date(2026, 7, 4)} <= us[2026]  # the 4th is a Saturday
    assert date(2027, 12, 31) in us[2027]  # New Year's Day 2028 is a Saturday
    for country in ("DE", "GB"):
        assert {date(2026, 4, 3), date(2026, 4, 6)} <= public_holidays(country, 2026)  # Easter
    assert date(2026, 4, 6) not in us[2026] | public_holidays("CA", 2026)
    assert date(2026, 4, 3) in public_holidays("CA", 2026)  # Good Friday
    assert date(2026, 10, 3) in public_holidays("DE", 2026)  # German Unity Day
    assert date(2026, 5, 14) in public_holidays("DE", 2026)  # Ascension Day
    assert {date(2026, 7, 1), date(2026, 5, 18), date(2026, 10, 12)} <= public_holidays("CA", 2026)
    assert date(2026, 12, 28) in public_holidays("GB", 2026)  # for Boxing Day on a Saturday
    assert {date(2027, 12, 27), date(2027, 12, 28)} <= public_holidays("GB", 2027)
    for country in ("US", "DE", "GB", "CA"):
        holidays = public_holidays(country, 2026)
        assert date(2026, 12, 25) in holidays and date(2026, 1, 1) in holidays
        assert {day.year for day in holidays} == {2026}
        assert 6 <= len(holidays) <= 11
    with pytest.raises(ValueError):
        public_holidays("FR", 2026)


def test_nothing_is_delivered_on_a_public_holiday_in_the_destination(
    season: list[SimulatedEvent],
) -> None:
    orders = _orders(season)
    per_day: Counter[tuple[str, date]] = Counter()
    at_the_door = (
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.ATTEMPT_FAILED,
        ShipmentStatus.DELIVERED,
    )
    for e in _scans(season):
        assert isinstance(e.event, Scan)
        if e.event.status not in at_the_door:
            continue
        order = orders[e.key]
        assert order.destination is not None
        day = _local_day(e.event.occurred_at, order)
        assert day not in public_holidays(order.destination.country, day.year), (e.key, day)
        assert day.weekday() != 6, (e.key, day)
        per_day[order.destination.country, day] += 1
    quiet = [("US", date(2026, 11, 26)), ("DE", date(2026, 10, 3))]
    quiet += [(country, date(2026, 12, 25)) for country in ("US", "DE", "GB", "CA")]
    assert [per_day[day] for day in quiet] == [0] * len(quiet)
    # ...while the working days around them are busy
    assert per_day["US", date(2026, 11, 25)] > 20 and per_day["US", date(2026, 11, 27)] > 20
    assert per_day["US", date(2026, 12, 24)] > 10 and per_day["US", date(2026, 12, 28)] > 10
    saturdays_in_germany = [n for (c, d), n in per_day.items() if c == "DE" and d.weekday() == 5]
    assert sum(saturdays_in_germany) > 5  # DHL delivers on Saturdays, not on that one


def test_promises_skip_weekends_and_the_destinations_holidays(
    season: list[SimulatedEvent],
) -> None:
    orders = _orders(season).values()
    for order in orders:
        assert order.destination is not None
        due = _local_day(order.promised_by, order)
        assert due.weekday() < 5 and due not in public_holidays(order.destination.country, due.year)
    eastern = ZoneInfo("America/New_York")
    before_thanksgiving = [
        order
        for order in orders
        if order.origin is not None
        and order.destination is not None
        and order.origin.country == order.destination.country == "US"
        and order.ordered_at.astimezone(eastern).date() == date(2026, 11, 25)
        and 6 <= order.ordered_at.astimezone(eastern).hour < 20
    ]
    assert len(before_thanksgiving) > 5
    # ships by Friday (Thursday is Thanksgiving), so due on Monday 30 November at the earliest
    assert min(_local_day(o.promised_by, o) for o in before_thanksgiving) == date(2026, 11, 30)


def test_journeys_follow_the_carrier_lifecycle(big: list[SimulatedEvent]) -> None:
    for key, sends in _first_sends(big).items():
        statuses = [_status(e) for e in sends]
        assert statuses[0] is ShipmentStatus.INFO_RECEIVED, key
        if ShipmentStatus.DELIVERED in statuses:
            assert statuses[-1] is ShipmentStatus.DELIVERED, key
            assert ShipmentStatus.PICKED_UP in statuses, key
            assert statuses.index(ShipmentStatus.PICKED_UP) < statuses.index(
                ShipmentStatus.IN_TRANSIT
            )
        if ShipmentStatus.RETURNED_TO_SENDER in statuses:
            assert ShipmentStatus.RETURNING_TO_SENDER in statuses, key
            assert ShipmentStatus.DELIVERED not in statuses, key
        for position, status in enumerate(statuses[:-1]):
            if status is ShipmentStatus.ATTEMPT_FAILED:  # a new try, a pickup point, or a return
                assert statuses[position + 1] in (
                    ShipmentStatus.OUT_FOR_DELIVERY,
                    ShipmentStatus.AVAILABLE_FOR_PICKUP,
                    ShipmentStatus.RETURNING_TO_SENDER,
                ), key
            if status is ShipmentStatus.EXCEPTION:  # the parcel moves on after the episode
                assert statuses[position + 1] is ShipmentStatus.IN_TRANSIT, key


def test_the_tracking_core_digests_the_stream_and_raises_every_rule_alert_kind(
    big: list[SimulatedEvent],
) -> None:
    states: dict[bytes, ShipmentState] = {}
    alerts: Counter[AlertKind] = Counter()
    for e in big:
        outcome = apply_event(states.get(e.key), e.event, e.emit_at)
        states[e.key] = outcome.state
        if isinstance(outcome, Applied):
            alerts.update(alert.kind for alert in outcome.alerts)
    # delay_risk needs a model and silences need timers; every scan rule must show up
    assert set(alerts) == set(AlertKind) - {AlertKind.DELAY_RISK} - SILENCE_KINDS
    assert all(count >= 1 for count in alerts.values())
    for key in _delivered(big):
        assert states[key].tracking.status is ShipmentStatus.DELIVERED, key


# ---------------------------------------------------------------------------------------------
# Storms


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
    orders, delivered = _orders(events), _delivered(events)
    exposure = _StormExposure({}, set(), set(), set())
    for e in _scans(events):
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


# ---------------------------------------------------------------------------------------------
# One journey, and producing


def test_journey_events_describe_one_whole_shipment() -> None:
    ordered_at = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)  # a Monday, mid-morning in the US
    events = journey_events(random.Random(1), 41, ordered_at)
    assert len({e.key for e in events}) == 1
    order = events[0].event
    assert isinstance(order, Order)
    assert order.order_id == "ord-100041"
    assert order.ordered_at == ordered_at
    assert order.promised_by > ordered_at
    scans = [e.event for e in events if isinstance(e.event, Scan)]
    assert scans and all(s.occurred_at > ordered_at for s in scans)
    assert scans[0].status is ShipmentStatus.INFO_RECEIVED


async def test_produce_sends_each_event_to_its_topic_at_the_requested_rate() -> None:
    events = generate_journeys(SimulationConfig(shipments=3, seed=2), now=NOW)[:12]
    sent: list[tuple[str, bytes, bytes]] = []

    class Recorder:
        async def send_and_wait(self, topic: str, *, key: bytes, value: bytes) -> None:
            sent.append((topic, key, value))

    topics = TopicNames.with_prefix("sim.")
    loop = asyncio.get_running_loop()
    started = loop.time()
    count = await produce(events, producer=Recorder(), topics=topics, rate=200.0)
    assert loop.time() - started >= (len(events) - 1) / 200.0 * 0.9
    assert count == len(events) == len(sent)
    for e, (topic, key, value) in zip(events, sent, strict=True):
        assert topic == (topics.orders if e.topic_kind == "order" else topics.carrier_scans)
        assert key == e.key
        decode = decode_order if e.topic_kind == "order" else decode_scan
        assert decode(value, key=key, now=NOW, limits=Limits()) == e.event
    with pytest.raises(ValueError):
        await produce(events, producer=Recorder(), topics=topics, rate=0)
