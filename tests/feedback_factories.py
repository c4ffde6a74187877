"""Builders of feedback contract values for tests: valid by default, every field overridable."""

from __future__ import annotations

from typing import Any

from parcelwatch.schemas.feedback import (
    Feedback,
    FeedbackChannel,
    FeedbackTopic,
    OrderShipmentLink,
    Sentiment,
    SentimentLabel,
    TextAnalysis,
    TopicConfidence,
)
from tests.factories import TRACKING, at

ORDER_ID = "A-1001"


def feedback(event_id: str = "fb-1", hours: float = 100, **extra: Any) -> Feedback:
    return Feedback(
        event_id=event_id,
        order_id=extra.pop("order_id", ORDER_ID),
        channel=FeedbackChannel(extra.pop("channel", "review")),
        received_at=at(hours),
        text=extra.pop("text", "It came two weeks late and the box was crushed."),
        **extra,
    )


def sentiment(label: str, score: float | None = None, confidence: float = 0.9) -> Sentiment:
    default = {"negative": -0.8, "neutral": 0.0, "positive": 0.8}[label]
    return Sentiment(SentimentLabel(label), default if score is None else score, confidence)


def analysis(
    overall: str = "negative",
    delivery: str | None = "negative",
    product: str | None = None,
    topics: tuple[str, ...] = ("late_delivery", "damaged"),
    language: str = "en",
) -> TextAnalysis:
    return TextAnalysis(
        language=language,
        sentiment=sentiment(overall),
        delivery_sentiment=None if delivery is None else sentiment(delivery),
        product_sentiment=None if product is None else sentiment(product),
        topics=tuple(TopicConfidence(FeedbackTopic(topic), 0.8) for topic in topics),
    )


def link(
    tracking_number: str = TRACKING, partition: int = 0, order_id: str = ORDER_ID
) -> OrderShipmentLink:
    return OrderShipmentLink(order_id, tracking_number, partition, linked_at=at(1))
