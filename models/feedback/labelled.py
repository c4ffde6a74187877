"""Labelled feedback files: JSONL, one labelled text per line, read and checked.

The format (shared by the training set, the evaluation set and their tools)::

    {"id": "pt-eval-017", "language": "pt", "channel": "review", "text": "...", "rating": 3,
     "sentiment": "negative", "delivery_sentiment": "negative", "product_sentiment": "positive",
     "topics": ["late_delivery", "product_quality"]}

``delivery_sentiment`` / ``product_sentiment`` are null when the text says nothing about that
aspect. A line that breaks the format is an error naming the file and line, never skipped: a
silently shorter evaluation set would report figures about other data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from parcelwatch.schemas.feedback import FeedbackChannel, FeedbackTopic, SentimentLabel

LABELLED_LANGUAGES = ("en", "pt", "es", "de", "fr")


@dataclass(frozen=True, slots=True)
class LabelledFeedback:
    id: str
    language: str  # the language the text is written in (one of LABELLED_LANGUAGES)
    channel: FeedbackChannel
    text: str
    rating: int | None
    sentiment: SentimentLabel  # what a support agent would judge the whole message to be
    delivery_sentiment: SentimentLabel | None
    product_sentiment: SentimentLabel | None
    topics: frozenset[FeedbackTopic]


class LabelledFileError(ValueError):
    """A labelled file that breaks the format; the message names the file and line."""


def read_labelled(paths: Sequence[Path]) -> list[LabelledFeedback]:
    """Every labelled text of ``paths``, in file then line order; ids are unique across files."""
    rows: list[LabelledFeedback] = []
    seen: dict[str, str] = {}
    for path in paths:
        for number, line in enumerate(path.read_bytes().split(b"\n"), start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = _row(orjson.loads(line))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
                raise LabelledFileError(f"{where}: {error}") from None
            if row.id in seen:
                raise LabelledFileError(f"{where}: id {row.id!r} already at {seen[row.id]}")
            seen[row.id] = where
            rows.append(row)
    return rows


def _row(document: Any) -> LabelledFeedback:
    if not isinstance(document, dict):
        raise TypeError("not a JSON object")
    language = document["language"]
    if language not in LABELLED_LANGUAGES:
        raise ValueError(f"language {language!r} is not one of {', '.join(LABELLED_LANGUAGES)}")
    text = document["text"]
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text is missing or empty")
    rating = document.get("rating")
    if rating is not None and (type(rating) is not int or not 1 <= rating <= 5):
        raise ValueError(f"rating {rating!r} is not a whole number from 1 to 5")
    topics = document.get("topics", [])
    if not isinstance(topics, list):
        raise TypeError("topics is not a list")
    return LabelledFeedback(
        id=_text(document, "id"),
        language=language,
        channel=FeedbackChannel(document["channel"]),
        text=text,
        rating=rating,
        sentiment=SentimentLabel(document["sentiment"]),
        delivery_sentiment=_label_or_none(document.get("delivery_sentiment")),
        product_sentiment=_label_or_none(document.get("product_sentiment")),
        topics=frozenset(FeedbackTopic(topic) for topic in topics),
    )


def _text(document: dict[str, Any], name: str) -> str:
    value = document[name]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} is missing or not a string")
    return value


def _label_or_none(value: Any) -> SentimentLabel | None:
    return None if value is None else SentimentLabel(value)
