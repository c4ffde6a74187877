"""The ``support-escalations`` output: a case for a person, with everything they need attached.

Helpdesks (Zendesk, Gorgias, Intercom, ...) consume it; ``json/support-escalation.v1.schema.json``
is the same contract for them. ``case_id`` is deterministic (reason, subject and episode), so a
redelivery or a replay carries the same id and the helpdesk de-duplicates by it (its external id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from parcelwatch.schemas.lookup import ShipmentAnswer
from parcelwatch.schemas.returns import RefundMethod, ReturnReason
from parcelwatch.schemas.types import SCHEMA_VERSION, Item


class EscalationReason(StrEnum):
    PARCEL_LOST = "parcel_lost"  # expired tracking, a "lost" scan, or stalled well past its promise
    DELIVERY_DISPUTED = "delivery_disputed"  # "never arrived", but the carrier says delivered
    REFUND_OVERDUE = "refund_overdue"  # the return arrived; no refund by the second limit
    UNREQUESTED_RETURN = "unrequested_return"  # going back to the sender, not asked for


class Resolution(StrEnum):
    RESHIP = "reship"
    REFUND = "refund"
    CARRIER_CLAIM = "carrier_claim"  # a claim with the carrier (loss, or no proof of delivery)
    CONTACT_CARRIER = "contact_carrier"  # e.g. redirect a parcel on its way back
    CONTACT_CUSTOMER = "contact_customer"  # e.g. confirm the address, check with neighbours


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class RefundStatus(StrEnum):
    OWED = "owed"  # no refund issued yet
    FAILED = "failed"  # the last refund failed after it was issued
    ISSUED = "issued"


@dataclass(frozen=True, slots=True)
class CaseCustomer:
    """Who to help: a reference only, never a name or an address."""

    id: str | None  # the merchant's customer id, when the order gave one
    locale: str | None


@dataclass(frozen=True, slots=True)
class ReturnSummary:
    """An order's return and refund, as parcelwatch's return state records it."""

    order_id: str
    reason: ReturnReason | None
    items: tuple[Item, ...]
    requested_at: datetime | None
    return_tracking_number: str | None
    return_carrier: str | None
    received_at: datetime | None  # the return arrived back at the merchant
    refund_status: RefundStatus
    refund_requested_at: datetime | None
    refund_approved_at: datetime | None
    refund_issued_at: datetime | None
    refund_method: RefundMethod | None
    refund_failed_at: datetime | None


@dataclass(frozen=True, slots=True)
class CaseContext:
    """What a person needs to act without looking anything up."""

    # The lookup API's answer (shipment-answer.v1) about the shipment at ``opened_at``; for a
    # refund case the order's shipment when it is known, else null.
    shipment: ShipmentAnswer | None
    returns: ReturnSummary | None  # refund cases only


@dataclass(frozen=True, slots=True)
class SupportEscalation:
    """A case for a person, on ``support-escalations`` keyed by order id (else tracking number).

    One per case: ``case_id`` is deterministic and parcelwatch records it, so a case is opened
    once whatever is redelivered or replayed; consumers de-duplicate by ``case_id``.
    """

    case_id: str
    reason: EscalationReason
    reason_text: str  # the facts, in plain English for a support agent
    suggested_resolution: Resolution
    other_resolutions: tuple[Resolution, ...]  # alongside or instead, as resolution_text says
    resolution_text: str
    priority: Priority
    opened_at: datetime  # when parcelwatch opened the case
    order_id: str | None  # null: a shipment whose order parcelwatch never saw
    tracking_number: str | None  # null: an order-only case (a refund without a known shipment)
    carrier: str | None
    customer: CaseCustomer | None
    feedback_id: str | None  # the feedback-flagged message behind a disputed delivery
    context: CaseContext
    schema_version: int = SCHEMA_VERSION

    @property
    def key(self) -> str:
        """The message key: the order id when known, so a helpdesk sees an order's cases in
        order; else the tracking number."""
        key = self.order_id or self.tracking_number
        assert key is not None  # every case names its order or its shipment
        return key
