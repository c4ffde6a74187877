"""What the simulator tests share: the reference runs and ways to look at their events."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from parcelwatch.schemas.types import Order, Scan, ShipmentStatus
from parcelwatch.streams.simulation import SimulatedEvent, SimulationConfig

NOW = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)
BIG = SimulationConfig(shipments=2000, seed=7)
# Autumn to winter: US Thanksgiving, Christmas everywhere, German Unity Day, and many storms.
SEASON_END = datetime(2027, 1, 8, 12, 0, tzinfo=UTC)
SEASON = SimulationConfig(shipments=1500, seed=7, window_days=110)


def orders_of(events: list[SimulatedEvent]) -> dict[bytes, Order]:
    return {e.key: e.event for e in events if isinstance(e.event, Order)}


def scans_of(events: list[SimulatedEvent]) -> list[SimulatedEvent]:
    return [e for e in events if e.topic_kind == "scan"]


def first_sends(events: list[SimulatedEvent]) -> dict[bytes, list[SimulatedEvent]]:
    """Per shipment, the first send of each scan, in event-time order."""
    per_shipment: dict[bytes, dict[str, SimulatedEvent]] = defaultdict(dict)
    for e in scans_of(events):
        per_shipment[e.key].setdefault(e.event.event_id, e)
    return {
        key: sorted(sends.values(), key=lambda e: e.event.occurred_at)
        for key, sends in per_shipment.items()
    }


def status_of(event: SimulatedEvent) -> ShipmentStatus:
    assert isinstance(event.event, Scan)
    return event.event.status


def delivered_of(events: list[SimulatedEvent]) -> dict[bytes, Scan]:
    return {
        e.key: e.event
        for e in scans_of(events)
        if isinstance(e.event, Scan) and e.event.status is ShipmentStatus.DELIVERED
    }


def local_day(moment: datetime, order: Order) -> date:
    """The date of ``moment`` in the recipient's time zone."""
    assert order.customer is not None and order.customer.timezone is not None
    return moment.astimezone(ZoneInfo(order.customer.timezone)).date()
