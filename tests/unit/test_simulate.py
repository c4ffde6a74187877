"""Behaviour of the shipment simulator: valid contract events with realistic shape and trouble."""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from schemas.codec import decode_order, decode_scan, encode
from schemas.state import ShipmentState
from schemas.topics import TopicNames
from schemas.types import AlertKind, Limits, Order, Scan, ShipmentStatus
from streams.core.tracking import Applied, apply_event
from streams.simulate import (
    SimulatedEvent,
    SimulationConfig,
    generate_journeys,
    journey_events,
    produce,
)

NOW = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)
BIG = SimulationConfig(shipments=2000, seed=7)


@pytest.fixture(scope="module")
def big() -> list[SimulatedEvent]:
    return generate_journeys(BIG, now=NOW)


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
    assert 0.03 <= len(late) / len(delivered) <= 0.15


def test_nothing_is_delivered_on_a_sunday_in_the_destination(big: list[SimulatedEvent]) -> None:
    orders = _orders(big)
    for key, scan in _delivered(big).items():
        customer = orders[key].customer
        assert customer is not None and customer.timezone is not None
        assert scan.occurred_at.astimezone(ZoneInfo(customer.timezone)).weekday() != 6


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
    # delay_risk needs a model; every rule-based kind must show up in simulated traffic
    assert set(alerts) == set(AlertKind) - {AlertKind.DELAY_RISK}
    assert all(count >= 1 for count in alerts.values())
    for key in _delivered(big):
        assert states[key].status is ShipmentStatus.DELIVERED, key


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
