"""The published messages: orders and scans as carriers word them, redeliveries, late reports."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from parcelwatch.schemas.types import Scan, ShipmentStatus
from parcelwatch.streams.simulation import SimulatedEvent

from tests.streams.simulation.journeys import (
    delivered_of,
    first_sends,
    orders_of,
    scans_of,
    status_of,
)


def test_orders_and_scans_look_like_real_carrier_data(big: list[SimulatedEvent]) -> None:
    orders = orders_of(big)
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
    delivered_codes = {(s.carrier, s.carrier_status_code) for s in delivered_of(big).values()}
    assert {("ups", "D"), ("fedex", "DL"), ("usps", "01"), ("dhl", "OK")} <= delivered_codes
    statuses = Counter(status_of(e) for e in scans_of(big))
    assert set(ShipmentStatus) - set(statuses) <= {ShipmentStatus.UNKNOWN, ShipmentStatus.CANCELLED}
    with_location = [e for e in scans_of(big) if isinstance(e.event, Scan) and e.event.location]
    assert len(with_location) == len(scans_of(big))
    with_estimate = [
        e for e in scans_of(big) if isinstance(e.event, Scan) and e.event.estimated_delivery
    ]
    assert 0.1 < len(with_estimate) / len(scans_of(big)) < 0.9


def test_some_scans_are_redelivered_with_the_same_event_later(big: list[SimulatedEvent]) -> None:
    sends: dict[str, list[SimulatedEvent]] = defaultdict(list)
    for e in scans_of(big):
        sends[e.event.event_id].append(e)
    repeats = [s for s in sends.values() if len(s) > 1]
    assert 0.02 < len(repeats) / len(sends) < 0.045  # configured 3 %
    for copies in repeats:
        assert all(c.event is copies[0].event for c in copies)
        assert copies[1].emit_at > copies[0].emit_at


def test_some_scans_are_reported_after_a_later_scan(big: list[SimulatedEvent]) -> None:
    late = total = 0
    for sends in first_sends(big).values():
        earliest_later: datetime | None = None
        for e in reversed(sends):  # newest first
            total += 1
            if earliest_later is not None and e.emit_at > earliest_later:
                late += 1
            earliest_later = e.emit_at if earliest_later is None else min(earliest_later, e.emit_at)
    assert 0.035 < late / total < 0.065  # configured 5 %
