"""Python types of the customer-feedback contracts.

``customer-feedback`` (input, keyed by order id) carries what shoppers write back;
``feedback-flagged`` (output, keyed by tracking number, or by order id when unmatched) carries
each piece of feedback with what the text says and what really happened to the shipment.

Two internal topics join them: ``order-shipments`` (order id -> its shipments, written when an
order is applied) and ``shipment-feedback`` (analysed feedback re-keyed to one shipment,
co-partitioned with the shipments table). The JSON Schema files in ``schemas/json/`` are the
same contracts for consumers in any language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from parcelwatch.schemas.types import (
    SCHEMA_VERSION,
    AlertKind,
    Customer,
    ExceptionReason,
    Location,
    NotificationKind,
    Place,
    Severity,
    ShipmentStatus,
)

MAX_FEEDBACK_TEXT_CHARS = 10_000


class FeedbackChannel(StrEnum):
    REVIEW = "review"
    SURVEY = "survey"
    CHAT = "chat"
    EMAIL = "email"
    SOCIAL = "social"
    CALL_TRANSCRIPT = "call_transcript"


class SentimentLabel(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class FeedbackTopic(StrEnum):
    """What a piece of feedback is about (several may apply)."""

    LATE_DELIVERY = "late_delivery"
    NOT_RECEIVED = "not_received"
    DAMAGED = "damaged"
    WRONG_OR_MISSING_ITEM = "wrong_or_missing_item"
    COURIER_BEHAVIOUR = "courier_behaviour"  # left outside, did not ring, rude
    RETURN_OR_REFUND = "return_or_refund"
    CUSTOMER_SERVICE = "customer_service"
    PRODUCT_QUALITY = "product_quality"
    PRICE = "price"


class FlagReason(StrEnum):
    """Why a piece of feedback is flagged: what the text says against what the shipment did."""

    LOGISTICS_PAIN = "logistics_pain"  # negative about delivery, and the history shows why
    DISPUTED_DELIVERY = "disputed_delivery"  # "never arrived", but the carrier says delivered
    UNEXPLAINED_DELIVERY_COMPLAINT = "unexplained_delivery_complaint"  # nothing wrong on record
    PRODUCT_ISSUE = "product_issue"  # negative about the product only
    RECOVERED = "recovered"  # positive although late or in exception
    PRAISE = "praise"
    NEUTRAL = "neutral"
    UNMATCHED = "unmatched"  # no shipment of the order was found within the wait


@dataclass(frozen=True, slots=True)
class Sentiment:
    label: SentimentLabel
    score: float  # in [-1, 1]: -1 all negative, 1 all positive
    confidence: float  # in [0, 1]


@dataclass(frozen=True, slots=True)
class TopicConfidence:
    topic: FeedbackTopic
    confidence: float  # in [0, 1]


@dataclass(frozen=True, slots=True)
class Feedback:
    """What a shopper wrote back, on ``customer-feedback`` keyed by order id."""

    event_id: str
    order_id: str
    channel: FeedbackChannel
    received_at: datetime
    tracking_number: str | None = None  # when the customer or helpdesk knows it
    customer_id: str | None = None
    text: str | None = None  # optional when ``rating`` is given
    rating: int | None = None  # 1-5
    language: str | None = None  # a BCP 47 hint; the detected language is in the output
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class ShipmentContext:
    """What really happened to the shipment, as its state said when the feedback was joined."""

    tracking_number: str
    carrier: str | None
    service_level: str | None
    status: ShipmentStatus | None
    promised_by: datetime | None
    delivered_at: datetime | None
    late: bool | None  # None: no promise, or not delivered and not yet past it
    late_by_hours: float | None
    alert_kinds: tuple[AlertKind, ...]
    exceptions: tuple[ExceptionReason, ...]
    failed_attempts: int
    notifications: tuple[NotificationKind, ...]
    last_location: Location | None
    destination: Place | None


@dataclass(frozen=True, slots=True)
class FeedbackFlag:
    reason: FlagReason
    severity: Severity


@dataclass(frozen=True, slots=True)
class FlaggedFeedback:
    """Feedback with what it says and what happened, on ``feedback-flagged``.

    Keyed by tracking number, or by order id when unmatched. ``feedback_id`` is deterministic
    (the same input and shipment give the same id), so consumers de-duplicate redeliveries by it.
    """

    feedback_id: str
    event_id: str
    order_id: str
    tracking_number: str | None  # the shipment joined, else the one the input named
    customer_id: str | None
    channel: FeedbackChannel
    text: str | None
    rating: int | None
    language: str  # detected (ISO 639-1), "und" when unknown
    received_at: datetime
    flagged_at: datetime
    sentiment: Sentiment
    delivery_sentiment: Sentiment | None
    product_sentiment: Sentiment | None
    topics: tuple[TopicConfidence, ...]
    shipment: ShipmentContext | None
    flag: FeedbackFlag
    analyzer_version: str
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class TextAnalysis:
    """What the feedback analyzer read in one piece of feedback (``models/feedback``)."""

    language: str  # ISO 639-1, or "und"
    sentiment: Sentiment
    delivery_sentiment: Sentiment | None
    product_sentiment: Sentiment | None
    topics: tuple[TopicConfidence, ...]


@dataclass(frozen=True, slots=True)
class OrderShipmentLink:
    """Internal: "this order has this shipment", on ``order-shipments`` keyed by order id.

    Written by the owner of the shipment when it applies the shipment's order, so the shipment's
    state exists before any feedback is forwarded to it.
    """

    order_id: str
    tracking_number: str
    shipment_partition: int  # where the shipment's state lives: feedback is sent there
    linked_at: datetime
    # Added within schema_version 1: the order's customer (return notices are sent to them) and
    # the shipment's carrier (returns are counted by the carrier that delivered the order).
    customer: Customer | None = None
    carrier: str | None = None
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class ShipmentFeedback:
    """Internal: analysed feedback forwarded to one shipment of its order, on
    ``shipment-feedback`` keyed by tracking number (co-partitioned with the shipments table)."""

    tracking_number: str
    feedback: Feedback
    analysis: TextAnalysis
    analyzer_version: str
    forwarded_at: datetime
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class FeedbackTally:
    """Internal: one flagged piece of feedback as the pain-point windows count it, on
    ``feedback-tallies`` keyed by carrier (so one worker owns each carrier's windows)."""

    feedback_id: str  # counted once per window, whatever is redelivered
    carrier: str  # "unknown" when unmatched
    region: str  # the destination's region, else its country, else "unknown"
    reason: FlagReason
    topics: tuple[FeedbackTopic, ...]
    received_at: datetime  # the window is chosen by this (event time)
    schema_version: int = SCHEMA_VERSION
