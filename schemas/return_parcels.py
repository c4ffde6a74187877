"""Internal contracts that join an order's return (keyed by order id) with its return parcel
(keyed by tracking number): two partitions, possibly two workers.

* ``return-parcels`` (keyed by the return tracking number): the order's owner, on a
  ``return_label_created`` that sets or changes the return parcel, tells the parcel's owner that
  the parcel is a return of this order and where the order's return state lives.
* ``return-scans`` (keyed by order id, sent to the order's partition): every scan applied to a
  return parcel, and the ones it held when it was linked, go back to the order's return state.

Anyone can write to a topic, so both are validated like inputs; a bad message is dead-lettered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from parcelwatch.schemas.codec import (
    _CARRIER,
    _TRACKING_NUMBER,
    _check_event_time,
    _check_key,
    _Fields,
    _load_object,
    _required,
)
from parcelwatch.schemas.feedback_codec import MAX_PARTITION
from parcelwatch.schemas.types import (
    SCHEMA_VERSION,
    DeadLetterReason,
    Limits,
    Scan,
    ShipmentStatus,
)


@dataclass(frozen=True, slots=True)
class ReturnParcelLink:
    """Internal: "this parcel is the return of this order", on ``return-parcels``."""

    order_id: str
    return_tracking_number: str  # the message key
    carrier: str
    order_partition: int  # where the order's return state lives: the parcel's scans go there
    linked_at: datetime
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class ReturnParcelScan:
    """Internal: one carrier scan of an order's return parcel, on ``return-scans``."""

    order_id: str  # the message key
    return_tracking_number: str
    carrier: str
    event_id: str  # the scan's own: the order's return state applies each once
    status: ShipmentStatus
    occurred_at: datetime
    forwarded_at: datetime
    schema_version: int = SCHEMA_VERSION

    def as_scan(self) -> Scan:
        return Scan(
            event_id=self.event_id,
            tracking_number=self.return_tracking_number,
            carrier=self.carrier,
            status=self.status,
            occurred_at=self.occurred_at,
        )


def decode_return_parcel_link(
    payload: bytes, *, key: bytes | object | None, now: datetime, limits: Limits
) -> ReturnParcelLink:
    fields = _load_object(payload, limits)
    link = ReturnParcelLink(
        *_order_and_parcel(fields, limits),
        order_partition=fields.integer("order_partition", minimum=0, maximum=MAX_PARTITION),
        linked_at=fields.required_timestamp("linked_at"),
    )
    _check_event_time("linked_at", link.linked_at, now, limits)
    _check_key(key, link.return_tracking_number, "return_tracking_number")
    return link


def decode_return_parcel_scan(
    payload: bytes, *, key: bytes | object | None, now: datetime, limits: Limits
) -> ReturnParcelScan:
    fields = _load_object(payload, limits)
    forwarded = ReturnParcelScan(
        *_order_and_parcel(fields, limits),
        event_id=fields.required_text("event_id", max_length=limits.id_max_length),
        status=_required(
            fields.choice("status", ShipmentStatus, DeadLetterReason.UNKNOWN_STATUS, required=True)
        ),
        occurred_at=fields.required_timestamp("occurred_at"),
        forwarded_at=fields.required_timestamp("forwarded_at"),
    )
    _check_event_time("forwarded_at", forwarded.forwarded_at, now, limits)
    _check_key(key, forwarded.order_id, "order_id")
    return forwarded


def _order_and_parcel(fields: _Fields, limits: Limits) -> tuple[str, str, str]:
    """``order_id``, ``return_tracking_number`` and ``carrier``: both contracts start with them."""
    return (
        fields.required_text("order_id", max_length=limits.id_max_length),
        fields.required_text("return_tracking_number", pattern=_TRACKING_NUMBER),
        fields.required_text("carrier", pattern=_CARRIER),
    )
