"""An order's return notices and alerts as the shared output contracts: ``notification.v1`` on
``customer-notifications`` and ``alert.v1`` on ``shipment-alerts``.

Both contracts name a parcel. A return's messages name its return parcel once the label exists;
before that (a refund without a return parcel), the order's first known shipment; with no parcel
known at all, alerts name the order itself (its id when it has the shape of a tracking number,
else a digest of it). ``status`` is the return parcel's, as the return state knows it:
``delivered`` once it is back, ``in_transit`` once it moves, else ``info_received`` — also for
refund notices, where it tells whether the goods are back.
"""

from __future__ import annotations

import hashlib

from parcelwatch.schemas.order_state import OrderFeedbackState
from parcelwatch.schemas.patterns import TRACKING_NUMBER, compile_full
from parcelwatch.schemas.types import Alert, Customer, Notification, ShipmentStatus
from parcelwatch.streams.core.notification_text import Templates
from parcelwatch.streams.core.return_text import render_return_message
from parcelwatch.streams.core.returns import ReturnAlert, ReturnNotice, ReturnState

UNKNOWN_CARRIER = "unknown"
_TRACKING_NUMBER = compile_full(TRACKING_NUMBER)


def return_parcel(state: ReturnState, order: OrderFeedbackState | None) -> tuple[str, str] | None:
    """(tracking number, carrier) the order's return messages name, or None with no parcel."""
    if state.return_tracking_number is not None:
        return state.return_tracking_number, state.return_carrier or UNKNOWN_CARRIER
    if order is not None and order.shipments:
        first = order.shipments[0]
        return first.tracking_number, first.carrier or UNKNOWN_CARRIER
    return None


def return_status(state: ReturnState) -> ShipmentStatus:
    if state.received_at is not None:
        return ShipmentStatus.DELIVERED
    if state.in_transit_at is not None:
        return ShipmentStatus.IN_TRANSIT
    return ShipmentStatus.INFO_RECEIVED


def return_notification(
    notice: ReturnNotice,
    state: ReturnState,
    parcel: tuple[str, str],
    customer: Customer,
    templates: Templates,
) -> Notification:
    written = render_return_message(notice, templates, customer.locale)
    tracking_number, carrier = parcel
    return Notification(
        notification_id=notice.notification_id,
        tracking_number=tracking_number,
        order_id=notice.order_id,
        customer=customer,
        kind=notice.kind,
        carrier=carrier,
        status=return_status(state),
        locale=written.locale,
        message=written.message,
        created_at=notice.created_at,
        occurred_at=notice.occurred_at,
    )


def return_alert(alert: ReturnAlert, state: ReturnState, order: OrderFeedbackState | None) -> Alert:
    tracking_number, carrier = return_parcel(state, order) or (
        _order_as_parcel(state.order_id),
        UNKNOWN_CARRIER,
    )
    # A timer's alert has no triggering input: the last one applied before it stands in.
    source = alert.source_event_id or (state.seen_event_ids[-1] if state.seen_event_ids else None)
    return Alert(
        alert_id=alert.alert_id,
        tracking_number=tracking_number,
        carrier=alert.carrier or carrier,
        kind=alert.kind,
        severity=alert.severity,
        status=return_status(state),
        message=alert.message,
        detected_at=alert.detected_at,
        occurred_at=alert.occurred_at,
        source_event_id=source or alert.alert_id,
        order_id=state.order_id,
    )


def _order_as_parcel(order_id: str) -> str:
    if _TRACKING_NUMBER.fullmatch(order_id):
        return order_id
    return "order-" + hashlib.sha256(order_id.encode()).hexdigest()[:24]
