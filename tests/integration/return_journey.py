"""Building a return's messages for the real-broker tests: the merchant's return steps (keyed by
order id), the return parcel's scans and orders (keyed by tracking number)."""

from __future__ import annotations

from datetime import datetime

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.returns import ReturnEvent, ReturnEventType, ReturnReason
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import Item, Scan, ShipmentStatus

FAST_TIMERS = {
    "PARCELWATCH_CHECK_INTERVAL_SECONDS": "1",
    "PARCELWATCH_QUIET_HOURS": "off",  # the tests must not depend on the time of day
}
RETURN_JOURNEY = ["return_label_ready", "return_in_transit", "return_received", "refund_issued"]


def return_step(order_id: str, kind: ReturnEventType, moment: datetime, **fields) -> ReturnEvent:
    return ReturnEvent(
        event_id=f"{order_id}-{kind.value}", order_id=order_id, type=kind, occurred_at=moment,
        **fields,
    )  # fmt: skip


def parcel_scan(parcel: str, status: str, moment: datetime) -> Scan:
    return Scan(
        event_id=f"{parcel}-{status}", tracking_number=parcel, carrier="dhl_express",
        status=ShipmentStatus(status), occurred_at=moment,
    )  # fmt: skip


def returned_unrefunded(
    order_id: str, parcel: str, requested: datetime, picked_up: datetime, received: datetime
) -> list[ReturnEvent | Scan]:
    """A return whose parcel came back at ``received``, with no refund since."""
    return [
        return_step(
            order_id, ReturnEventType.RETURN_REQUESTED, requested,
            items=(Item("SKU-1", 2, "toys"),), reason=ReturnReason.NO_LONGER_NEEDED,
        ),
        return_step(
            order_id, ReturnEventType.RETURN_LABEL_CREATED, requested,
            return_tracking_number=parcel, carrier="dhl_express",
        ),
        parcel_scan(parcel, "picked_up", picked_up),
        parcel_scan(parcel, "delivered", received),
    ]  # fmt: skip


def routed(topics: TopicNames, events) -> list[tuple[str, bytes, bytes]]:
    """Each event on its topic with its key: returns by order id, scans and orders by tracking
    number."""
    messages = []
    for event in events:
        if isinstance(event, ReturnEvent):
            messages.append((topics.returns, event.order_id.encode(), encode(event)))
        elif isinstance(event, Scan):
            messages.append((topics.carrier_scans, event.tracking_number.encode(), encode(event)))
        else:
            messages.append((topics.orders, event.tracking_number.encode(), encode(event)))
    return messages


def kinds_for(parcel: str):
    """``done`` for ``collect``: the kinds of the notifications about ``parcel``, in order."""
    return lambda values: [n["kind"] for n in values if n["tracking_number"] == parcel]
