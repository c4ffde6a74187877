"""Decoders of the feedback contracts (``schemas/feedback.py``), validating like ``codec``.

``customer-feedback`` is an input from anyone; ``order-shipments`` and ``shipment-feedback`` are
parcelwatch's own internal topics, but anyone can write to a topic, so they are validated too and
a bad message is dead-lettered with its reason like every other input.
"""

from __future__ import annotations

from datetime import datetime

# The codec's field readers and checks: one validation style for every contract.
from parcelwatch.schemas.codec import (
    _CARRIER,
    _LOCALE,
    _TRACKING_NUMBER,
    InvalidEvent,
    _check_event_time,
    _check_key,
    _customer,
    _Fields,
    _load_object,
    _required,
)
from parcelwatch.schemas.feedback import (
    MAX_FEEDBACK_TEXT_CHARS,
    Feedback,
    FeedbackChannel,
    FeedbackTopic,
    OrderShipmentLink,
    Sentiment,
    SentimentLabel,
    ShipmentFeedback,
    TextAnalysis,
    TopicConfidence,
)
from parcelwatch.schemas.types import DeadLetterReason, Limits

_LANGUAGE_MAX_CHARS = 35  # a BCP 47 tag such as "pt-BR"; the longest registered ones fit
MAX_PARTITION = 100_000  # no topic has more partitions than this


def decode_feedback(
    payload: bytes, *, key: bytes | object | None, now: datetime, limits: Limits
) -> Feedback:
    """A ``customer-feedback`` message, keyed by its order id."""
    feedback = feedback_from_fields(_load_object(payload, limits), limits)
    _check_event_time("received_at", feedback.received_at, now, limits)
    _check_key(key, feedback.order_id, "order_id")
    return feedback


def decode_order_shipment_link(
    payload: bytes, *, key: bytes | object | None, now: datetime, limits: Limits
) -> OrderShipmentLink:
    fields = _load_object(payload, limits)
    link = OrderShipmentLink(
        order_id=fields.required_text("order_id", max_length=limits.id_max_length),
        tracking_number=fields.required_text("tracking_number", pattern=_TRACKING_NUMBER),
        shipment_partition=fields.integer("shipment_partition", minimum=0, maximum=MAX_PARTITION),
        linked_at=fields.required_timestamp("linked_at"),
        customer=_customer(fields.obj("customer")),
        carrier=fields.text("carrier", pattern=_CARRIER),
    )
    _check_event_time("linked_at", link.linked_at, now, limits)
    _check_key(key, link.order_id, "order_id")
    return link


def decode_shipment_feedback(
    payload: bytes, *, key: bytes | object | None, now: datetime, limits: Limits
) -> ShipmentFeedback:
    fields = _load_object(payload, limits)
    feedback_fields = fields.obj("feedback")
    analysis_fields = fields.obj("analysis")
    if feedback_fields is None or analysis_fields is None:
        raise InvalidEvent(
            DeadLetterReason.MISSING_FIELD, "required fields 'feedback' and 'analysis'"
        )
    forwarded = ShipmentFeedback(
        tracking_number=fields.required_text("tracking_number", pattern=_TRACKING_NUMBER),
        feedback=feedback_from_fields(feedback_fields, limits),
        analysis=analysis_from_fields(analysis_fields),
        analyzer_version=fields.required_text("analyzer_version"),
        forwarded_at=fields.required_timestamp("forwarded_at"),
    )
    _check_event_time("forwarded_at", forwarded.forwarded_at, now, limits)
    _check_key(key, forwarded.tracking_number)
    return forwarded


def feedback_from_fields(fields: _Fields, limits: Limits) -> Feedback:
    feedback = Feedback(
        event_id=fields.required_text("event_id", max_length=limits.id_max_length),
        order_id=fields.required_text("order_id", max_length=limits.id_max_length),
        channel=_required(
            fields.choice("channel", FeedbackChannel, DeadLetterReason.INVALID_VALUE, required=True)
        ),
        received_at=fields.required_timestamp("received_at"),
        tracking_number=fields.text("tracking_number", pattern=_TRACKING_NUMBER),
        customer_id=fields.text("customer_id", max_length=limits.id_max_length),
        text=fields.text("text", max_length=MAX_FEEDBACK_TEXT_CHARS),
        rating=fields.optional_integer("rating", minimum=1, maximum=5),
        language=fields.text("language", max_length=_LANGUAGE_MAX_CHARS, pattern=_LOCALE),
    )
    if feedback.text is None and feedback.rating is None:
        raise InvalidEvent(
            DeadLetterReason.MISSING_FIELD, "feedback needs a 'text', a 'rating' or both"
        )
    return feedback


def analysis_from_fields(fields: _Fields) -> TextAnalysis:
    return TextAnalysis(
        language=fields.required_text("language", max_length=_LANGUAGE_MAX_CHARS),
        sentiment=_sentiment(_required_object(fields, "sentiment")),
        delivery_sentiment=_optional_sentiment(fields.obj("delivery_sentiment")),
        product_sentiment=_optional_sentiment(fields.obj("product_sentiment")),
        topics=tuple(
            TopicConfidence(
                topic=_required(
                    item.choice(
                        "topic", FeedbackTopic, DeadLetterReason.INVALID_VALUE, required=True
                    )
                ),
                confidence=item.number("confidence", minimum=0.0, maximum=1.0),
            )
            for item in fields.objects("topics")
        ),
    )


def _required_object(fields: _Fields, name: str) -> _Fields:
    found = fields.obj(name)
    if found is None:
        raise InvalidEvent(DeadLetterReason.MISSING_FIELD, f"required field '{name}' is missing")
    return found


def _optional_sentiment(fields: _Fields | None) -> Sentiment | None:
    return None if fields is None else _sentiment(fields)


def _sentiment(fields: _Fields) -> Sentiment:
    return Sentiment(
        label=_required(
            fields.choice("label", SentimentLabel, DeadLetterReason.INVALID_VALUE, required=True)
        ),
        score=fields.number("score", minimum=-1.0, maximum=1.0),
        confidence=fields.number("confidence", minimum=0.0, maximum=1.0),
    )
