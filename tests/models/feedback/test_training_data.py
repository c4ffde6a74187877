"""The labelled training set of the feedback analyzer is well formed and covers what it should."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from parcelwatch.schemas.feedback import FeedbackChannel, FeedbackTopic, SentimentLabel
from tests.models.feedback.labelled_format import FIELDS, LANGUAGES, normalised

TRAINING_FILE = (
    Path(__file__).resolve().parents[3]
    / "models"
    / "feedback"
    / "training_data"
    / "feedback_train.jsonl"
)
MIN_TEXTS_PER_LANGUAGE = 110
MIN_TEXTS_PER_TOPIC_AND_LANGUAGE = 8


def _load() -> list[dict[str, Any]]:
    with TRAINING_FILE.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return _load()


def test_every_line_is_a_json_object_with_exactly_the_format_fields(
    rows: list[dict[str, Any]],
) -> None:
    assert rows
    for row in rows:
        assert set(row) == FIELDS, row.get("id")


def test_every_value_is_in_its_enum(rows: list[dict[str, Any]]) -> None:
    labels = {label.value for label in SentimentLabel}
    for row in rows:
        assert row["language"] in LANGUAGES, row["id"]
        assert row["channel"] in {channel.value for channel in FeedbackChannel}, row["id"]
        assert row["sentiment"] in labels, row["id"]
        assert row["delivery_sentiment"] in labels | {None}, row["id"]
        assert row["product_sentiment"] in labels | {None}, row["id"]
        assert row["rating"] is None or row["rating"] in range(1, 6), row["id"]
        topics = row["topics"]
        assert isinstance(topics, list), row["id"]
        assert len(set(topics)) == len(topics), row["id"]
        assert set(topics) <= {topic.value for topic in FeedbackTopic}, row["id"]


def test_texts_are_non_empty_strings(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        assert isinstance(row["text"], str) and row["text"].strip(), row["id"]


def test_ids_are_unique_and_name_their_language(rows: list[dict[str, Any]]) -> None:
    ids = [row["id"] for row in rows]
    assert len(set(ids)) == len(ids)
    for row in rows:
        assert re.fullmatch(rf"{row['language']}-train-\d{{4}}", row["id"]), row["id"]


def test_each_language_has_enough_texts(rows: list[dict[str, Any]]) -> None:
    per_language = Counter(row["language"] for row in rows)
    for language in LANGUAGES:
        assert per_language[language] >= MIN_TEXTS_PER_LANGUAGE, language


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_topic_is_covered_in_each_language(rows: list[dict[str, Any]], language: str) -> None:
    per_topic = Counter(
        topic for row in rows if row["language"] == language for topic in row["topics"]
    )
    for topic in FeedbackTopic:
        assert per_topic[topic.value] >= MIN_TEXTS_PER_TOPIC_AND_LANGUAGE, (language, topic)


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_has_every_label_and_channel(
    rows: list[dict[str, Any]], language: str
) -> None:
    in_language = [row for row in rows if row["language"] == language]
    assert {row["sentiment"] for row in in_language} == {label.value for label in SentimentLabel}
    assert {row["channel"] for row in in_language} == {channel.value for channel in FeedbackChannel}


def test_no_two_texts_are_the_same_oncenormalised(rows: list[dict[str, Any]]) -> None:
    seen: dict[str, str] = {}
    for row in rows:
        key = normalised(row["text"])
        assert key not in seen, (row["id"], seen.get(key))
        seen[key] = row["id"]


def test_the_normalisation_ignores_case_accents_and_punctuation() -> None:
    assert normalised("Não chegou!!!") == normalised("nao  CHEGOU")
    assert normalised("Não chegou") != normalised("Chegou")
