"""The lookup API's answer: everything a support agent or a chatbot needs about one shipment.

Served by ``GET /v1/shipments/{tracking_number}`` (and, per shipment, ``GET /v1/orders/{order_id}``)
and described for consumers by ``json/shipment-answer.v1.schema.json``. It is built only from the
shipment's state (``schemas/state.py``), so it says no more than the state records: the state keeps
which alert kinds were raised and which milestones were notified, but not when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from parcelwatch.schemas.types import (
    SCHEMA_VERSION,
    AlertKind,
    ExceptionReason,
    Item,
    Location,
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
    # The shipment state does not keep the order's items yet: null means "not recorded".
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
    """An alert kind raised for the shipment; ``open`` while its episode lasts."""

    kind: AlertKind
    open: bool


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
    alerts: tuple[RaisedAlert, ...]
    # Milestone keys the customer was notified about ("shipped", "delayed/<promise>", ...), in
    # the order they were decided; the state keeps no send times.
    notifications_sent: tuple[str, ...]
    next_step: str | None  # what the customer can do, in ``locale``
    answer: str  # a ready-to-send reply, in ``locale``
    locale: str  # the locale ``answer`` and ``next_step`` are written in
    answered_at: datetime
    returns: None = None  # returns and refunds: not tracked yet
    schema_version: int = SCHEMA_VERSION
