"""The lookup API's answer: everything a support agent or a chatbot needs about one shipment.

Served by ``GET /v1/shipments/{tracking_number}`` (and, per shipment, ``GET /v1/orders/{order_id}``)
and described for consumers by ``json/shipment-answer.v1.schema.json``. It is built from the
shipment's state (``schemas/state.py``) and, when the shipment has an order id, the order's return
(``ReturnState``, kept under ``~return~<order id>``). Alert and notification times come from the
state's logs; states stored before the logs existed answer them as null.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from parcelwatch.schemas.returns import RefundMethod, ReturnReason
from parcelwatch.schemas.types import (
    SCHEMA_VERSION,
    AlertKind,
    ExceptionReason,
    Item,
    Location,
    NotificationKind,
    Place,
    ShipmentStatus,
)


class Situation(StrEnum):
    """Where the shipment stands, in the terms a customer asks about."""

    NOT_SHIPPED = "not_shipped"  # order or label only: the carrier has not moved it yet
    IN_TRANSIT = "in_transit"  # moving, expected by the promise
    RUNNING_LATE = "running_late"  # moving, expected after the promise (or the promise is past)
    OUT_FOR_DELIVERY = "out_for_delivery"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    ATTEMPT_FAILED = "attempt_failed"
    EXCEPTION = "exception"
    RETURNING = "returning"  # on its way back to the sender
    RETURNED = "returned"  # back with the sender
    CANCELLED = "cancelled"
    LOST = "lost"  # the carrier lost it, or tracking went dead (an ``expired`` alert)


@dataclass(frozen=True, slots=True)
class AnswerOrder:
    """The order's terms, as the latest order event gave them."""

    order_id: str | None
    service_level: str | None
    ordered_at: datetime | None
    promised_by: datetime | None
    origin: Place | None
    destination: Place | None
    customer_locale: str | None
    # The order's first 50 items; None: not recorded (a state stored before items were kept).
    items: tuple[Item, ...] | None


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One carrier scan, oldest first (the state keeps the latest 20)."""

    status: ShipmentStatus
    occurred_at: datetime
    reason: ExceptionReason | None
    location: Location | None


@dataclass(frozen=True, slots=True)
class Prediction:
    """The delay-risk model's latest delivery estimate (80% interval) and risk of missing the
    promise."""

    expected: datetime
    earliest: datetime
    latest: datetime
    risk: float | None
    model_version: str | None


@dataclass(frozen=True, slots=True)
class RaisedAlert:
    """An alert raised for the shipment; ``open`` while its episode lasts. States stored before
    the alert log existed know only the kind (and, for an open episode, the id): the rest is
    None."""

    kind: AlertKind
    open: bool
    raised_at: datetime | None  # when parcelwatch raised it
    occurred_at: datetime | None  # when the trouble began (event time)
    alert_id: str | None  # as published on shipment-alerts


@dataclass(frozen=True, slots=True)
class SentNotification:
    """A notification parcelwatch published for the customer (``customer-notifications``).
    ``sent_at`` and ``notification_id`` are None for a milestone decided before the state logged
    them (it was sent then, or skipped as stale)."""

    kind: NotificationKind
    milestone: str  # the milestone key: "shipped", "delayed/<promise>", ...
    sent_at: datetime | None
    notification_id: str | None


class ReturnStatus(StrEnum):
    """Where an order's return stands, in the terms a customer asks about."""

    REQUESTED = "requested"
    LABEL_READY = "label_ready"
    IN_TRANSIT = "in_transit"  # the return parcel is on its way back
    RECEIVED = "received"  # back with the merchant; refund still to come
    REFUND_ISSUED = "refund_issued"
    REFUND_FAILED = "refund_failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class ReturnAnswer:
    """An order's return and refund, as the lookup API tells them."""

    order_id: str
    status: ReturnStatus
    reason: ReturnReason | None
    items: tuple[Item, ...]
    return_tracking_number: str | None
    return_carrier: str | None
    requested_at: datetime | None
    label_created_at: datetime | None
    in_transit_at: datetime | None
    received_at: datetime | None
    cancelled_at: datetime | None
    refund_amount: str | None  # exact decimal string
    refund_currency: str | None
    refund_method: RefundMethod | None
    refund_issued_at: datetime | None
    refund_failed_at: datetime | None
    # When the refund is due: PARCELWATCH_REFUND_DELAY_BUSINESS_DAYS business days after the
    # return arrived, while no refund is issued (None before it arrives, and once refunded).
    refund_due_at: datetime | None
    answer: str  # a ready-to-send sentence about the return, in ``locale``
    locale: str


@dataclass(frozen=True, slots=True)
class ShipmentAnswer:
    tracking_number: str
    carrier: str | None
    situation: Situation
    status: ShipmentStatus | None  # None: no carrier scan yet
    status_reason: ExceptionReason | None
    status_at: datetime | None
    delivered_at: datetime | None
    delivered_location: Location | None  # where the delivering scan was made
    carrier_estimate: datetime | None
    order: AnswerOrder
    timeline: tuple[TimelineEntry, ...]
    prediction: Prediction | None
    alerts: tuple[RaisedAlert, ...]  # undated ones first, then by time raised
    notifications: tuple[SentNotification, ...]  # undated ones first, then by time sent
    next_step: str | None  # what the customer can do, in ``locale``
    answer: str  # a ready-to-send reply, in ``locale`` (with the return's, if any)
    locale: str  # the locale ``answer`` and ``next_step`` are written in
    answered_at: datetime
    returns: ReturnAnswer | None = None  # the order's return and refund, if there is one
    schema_version: int = SCHEMA_VERSION
