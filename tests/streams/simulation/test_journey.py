"""One shipment's journey: the carrier lifecycle, its trouble and its timing."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from parcelwatch.schemas.types import ShipmentStatus
from parcelwatch.streams.simulation import SimulatedEvent, SimulationConfig, generate_journeys

from tests.streams.simulation.journeys import (
    NOW,
    delivered_of,
    first_sends,
    orders_of,
    scans_of,
    status_of,
)


def test_some_labels_are_never_picked_up(big: list[SimulatedEvent]) -> None:
    orders = orders_of(big)
    stuck = [
        key
        for key, sends in first_sends(big).items()
        if [e.event.status for e in sends] == [ShipmentStatus.INFO_RECEIVED]
        and orders[key].ordered_at < NOW - timedelta(days=5)
    ]
    assert 0.003 < len(stuck) / len(orders) < 0.04


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
    for sends in first_sends(events).values():
        assert [e.emit_at for e in sends] == sorted(e.emit_at for e in sends)
    troubled = {
        ShipmentStatus.EXCEPTION,
        ShipmentStatus.ATTEMPT_FAILED,
        ShipmentStatus.RETURNING_TO_SENDER,
        ShipmentStatus.RETURNED_TO_SENDER,
        ShipmentStatus.CANCELLED,
    }
    assert not [e for e in scans_of(events) if status_of(e) in troubled]


def test_late_share_of_delivered_shipments_is_realistic(big: list[SimulatedEvent]) -> None:
    orders = orders_of(big)
    delivered = delivered_of(big)
    assert len(delivered) > 600
    late = [k for k, scan in delivered.items() if scan.occurred_at > orders[k].promised_by]
    assert 0.05 <= len(late) / len(delivered) <= 0.12


def test_nothing_is_delivered_on_a_sunday_in_the_destination(big: list[SimulatedEvent]) -> None:
    orders = orders_of(big)
    for key, scan in delivered_of(big).items():
        customer = orders[key].customer
        assert customer is not None and customer.timezone is not None
        assert scan.occurred_at.astimezone(ZoneInfo(customer.timezone)).weekday() != 6


def test_journeys_follow_the_carrier_lifecycle(big: list[SimulatedEvent]) -> None:
    for key, sends in first_sends(big).items():
        statuses = [status_of(e) for e in sends]
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
