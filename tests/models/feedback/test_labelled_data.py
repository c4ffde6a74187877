"""The labelled feedback evaluation set (tests/data/feedback): well-formed, covering, documented.

It is test data for the feedback analyzer: these checks keep it valid and as broad as its README
says, so an accuracy figure measured on it means the same thing from one change to the next.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from parcelwatch.schemas.feedback import (
    MAX_FEEDBACK_TEXT_CHARS,
    FeedbackChannel,
    FeedbackTopic,
    SentimentLabel,
)
from tests.models.feedback.labelled_format import FIELDS, LANGUAGES, normalised

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "feedback"
DATA_FILE = DATA_DIR / "labelled_feedback.jsonl"
README = DATA_DIR / "README.md"

MIN_PER_LANGUAGE = 65
MIN_PER_TOPIC_AND_LANGUAGE = 6
LABELS = {label.value for label in SentimentLabel}
README_LANGUAGE_ROW = re.compile(
    r"^\|\s*(?P<language>[a-z]{2})\s*\|\s*(?P<negative>\d+)\s*\|\s*(?P<neutral>\d+)\s*\|"
    r"\s*(?P<positive>\d+)\s*\|\s*(?P<total>\d+)\s*\|\s*$"
)


def _read_records() -> list[dict[str, Any]]:
    lines = DATA_FILE.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


RECORDS = _read_records()


def _of_language(language: str) -> list[dict[str, Any]]:
    return [record for record in RECORDS if record["language"] == language]


def test_every_line_is_a_json_object_with_no_blank_lines() -> None:
    for number, line in enumerate(DATA_FILE.read_text(encoding="utf-8").splitlines(), start=1):
        assert line.strip(), f"line {number} is blank"
        assert isinstance(json.loads(line), dict), f"line {number} is not a JSON object"


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record.get("id", "?"))
def test_record_fields_and_values_follow_the_format(record: dict[str, Any]) -> None:
    assert set(record) == FIELDS
    assert record["language"] in LANGUAGES
    assert re.fullmatch(rf"{record['language']}-eval-\d{{3}}", record["id"])
    assert record["channel"] in {channel.value for channel in FeedbackChannel}
    text = record["text"]
    assert isinstance(text, str) and text.strip() == text and text
    assert len(text) <= MAX_FEEDBACK_TEXT_CHARS
    rating = record["rating"]
    assert rating is None or (type(rating) is int and 1 <= rating <= 5)
    assert record["sentiment"] in LABELS
    assert record["delivery_sentiment"] is None or record["delivery_sentiment"] in LABELS
    assert record["product_sentiment"] is None or record["product_sentiment"] in LABELS
    topics = record["topics"]
    assert isinstance(topics, list)
    assert set(topics) <= {topic.value for topic in FeedbackTopic}
    assert len(set(topics)) == len(topics), "a topic is listed twice"


def test_ids_are_unique() -> None:
    duplicates = [id_ for id_, n in Counter(r["id"] for r in RECORDS).items() if n > 1]
    assert duplicates == []


def test_no_two_texts_are_the_same_oncenormalised() -> None:
    by_text: dict[str, list[str]] = {}
    for record in RECORDS:
        by_text.setdefault(normalised(record["text"]), []).append(record["id"])
    assert [ids for ids in by_text.values() if len(ids) > 1] == []


def test_the_overall_label_agrees_with_aspects_that_agree() -> None:
    """Where every aspect the text mentions has one label, the whole message has it too; the
    overall judgement only departs from the aspects when they disagree."""
    inconsistent = []
    for record in RECORDS:
        aspects = {record["delivery_sentiment"], record["product_sentiment"]} - {None}
        if len(aspects) == 1 and aspects != {record["sentiment"]}:
            inconsistent.append(record["id"])
    assert inconsistent == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_has_enough_texts(language: str) -> None:
    assert len(_of_language(language)) >= MIN_PER_LANGUAGE


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_topic_is_covered_in_each_language(language: str) -> None:
    counts = Counter(topic for record in _of_language(language) for topic in record["topics"])
    short = {
        topic.value: counts[topic.value]
        for topic in FeedbackTopic
        if counts[topic.value] < MIN_PER_TOPIC_AND_LANGUAGE
    }
    assert short == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_uses_every_channel_and_every_label(language: str) -> None:
    records = _of_language(language)
    assert {record["channel"] for record in records} == {c.value for c in FeedbackChannel}
    assert {record["sentiment"] for record in records} == LABELS


def test_readme_counts_per_language_match_the_file() -> None:
    documented = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        match = README_LANGUAGE_ROW.match(line)
        if match and match["language"] in LANGUAGES:
            assert match["language"] not in documented, f"{match['language']} listed twice"
            documented[match["language"]] = {
                key: int(match[key]) for key in ("negative", "neutral", "positive", "total")
            }
    actual = {}
    for language in LANGUAGES:
        labels = Counter(record["sentiment"] for record in _of_language(language))
        actual[language] = {label: labels[label] for label in ("negative", "neutral", "positive")}
        actual[language]["total"] = sum(labels.values())
    assert documented == actual
