"""The ``returns`` input: an order's return and refund journey, keyed by order id.

One event type per step, in one flat contract: ``type`` says which step, and the fields that step
needs are required for it (the decoder and ``schemas/json/return-event.v1.schema.json`` agree).
Validation follows ``codec.decode_order``: every failure is an :class:`InvalidEvent` whose reason
is the dead-letter code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from parcelwatch.schemas import patterns
from parcelwatch.schemas.codec import (
    _CARRIER,
    _TRACKING_NUMBER,
    InvalidEvent,
    _check_event_time,
    _check_key,
    _item,
    _load_object,
    _required,
)
from parcelwatch.schemas.types import SCHEMA_VERSION, DeadLetterReason, Item, Limits

_AMOUNT = patterns.compile_full(patterns.AMOUNT)
_CURRENCY = patterns.compile_full(patterns.CURRENCY)


class ReturnEventType(StrEnum):
    RETURN_REQUESTED = "return_requested"
    RETURN_LABEL_CREATED = "return_label_created"
    RETURN_CANCELLED = "return_cancelled"
    REFUND_REQUESTED = "refund_requested"
    REFUND_APPROVED = "refund_approved"
    REFUND_ISSUED = "refund_issued"
    REFUND_FAILED = "refund_failed"


class ReturnReason(StrEnum):
    """Why the customer sends the order back (counted by carrier and product category)."""

    DAMAGED = "damaged"
    DEFECTIVE = "defective"
    WRONG_ITEM = "wrong_item"
    NOT_AS_DESCRIBED = "not_as_described"
    SIZE_OR_FIT = "size_or_fit"
    ARRIVED_LATE = "arrived_late"
    NO_LONGER_NEEDED = "no_longer_needed"
    OTHER = "other"


class RefundMethod(StrEnum):
    ORIGINAL_PAYMENT = "original_payment"
    STORE_CREDIT = "store_credit"
    BANK_TRANSFER = "bank_transfer"
    GIFT_CARD = "gift_card"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class ReturnEvent:
    """One step of an order's return or refund, on ``returns`` keyed by order id.

    ``event_id`` is unique at the source: a redelivery with the same id is a duplicate.
    """

    event_id: str
    order_id: str
    type: ReturnEventType
    occurred_at: datetime
    # return_requested
    items: tuple[Item, ...] = ()
    reason: ReturnReason | None = None
    # return_label_created
    return_tracking_number: str | None = None
    carrier: str | None = None
    # refund_issued
    amount: str | None = None  # a decimal string: money stays exact
    currency: str | None = None
    method: RefundMethod | None = None
    # refund_failed
    failure_reason: str | None = None  # the payment provider's words, for people, not machines
    schema_version: int = SCHEMA_VERSION

    @property
    def amount_value(self) -> Decimal | None:
        return None if self.amount is None else Decimal(self.amount)


# What each step must carry besides the common fields (the JSON Schema's if/then rules).
REQUIRED_FOR_TYPE: dict[ReturnEventType, tuple[str, ...]] = {
    ReturnEventType.RETURN_REQUESTED: ("items", "reason"),
    ReturnEventType.RETURN_LABEL_CREATED: ("return_tracking_number", "carrier"),
    ReturnEventType.REFUND_ISSUED: ("amount", "currency", "method"),
    ReturnEventType.REFUND_FAILED: ("failure_reason",),
}


def decode_return_event(
    payload: bytes, *, key: bytes | object | None, now: datetime, limits: Limits
) -> ReturnEvent:
    """A ``returns`` message, keyed by its order id."""
    fields = _load_object(payload, limits)
    event = ReturnEvent(
        event_id=fields.required_text("event_id", max_length=limits.id_max_length),
        order_id=fields.required_text("order_id", max_length=limits.id_max_length),
        type=_required(
            fields.choice("type", ReturnEventType, DeadLetterReason.INVALID_VALUE, required=True)
        ),
        occurred_at=fields.required_timestamp("occurred_at"),
        items=tuple(_item(item) for item in fields.objects("items")),
        reason=fields.choice("reason", ReturnReason, DeadLetterReason.UNKNOWN_REASON),
        return_tracking_number=fields.text("return_tracking_number", pattern=_TRACKING_NUMBER),
        carrier=fields.text("carrier", pattern=_CARRIER),
        amount=fields.text("amount", max_length=17, pattern=_AMOUNT),
        currency=fields.text("currency", max_length=3, pattern=_CURRENCY),
        method=fields.choice("method", RefundMethod, DeadLetterReason.INVALID_VALUE),
        failure_reason=fields.text("failure_reason", max_length=limits.max_text_length),
    )
    _check_required_for_type(event)
    _check_event_time("occurred_at", event.occurred_at, now, limits)
    _check_key(key, event.order_id, "order_id")
    return event


def _check_required_for_type(event: ReturnEvent) -> None:
    missing = [
        name for name in REQUIRED_FOR_TYPE.get(event.type, ()) if getattr(event, name) in (None, ())
    ]
    if missing:
        raise InvalidEvent(
            DeadLetterReason.MISSING_FIELD,
            f"a {event.type.value} event needs {', '.join(repr(name) for name in missing)}",
        )
