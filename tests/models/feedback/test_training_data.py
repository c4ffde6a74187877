"""The labelled training files of the feedback analyzer are well formed and cover what they should.

``feedback_train.jsonl`` is checked in detail (topics, channels); every ``*.jsonl`` file in the
folder, including the shop review corpora, is checked by glob: it reads with the project's
labelled-feedback reader, its ids follow its file's scheme, its ratings agree with its labels,
its labels are balanced per language, and no text repeats one of another training file or of
the evaluation set (which would leak test data into training).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from parcelwatch.models.feedback.labelled import read_labelled
from parcelwatch.schemas.feedback import FeedbackChannel, FeedbackTopic, SentimentLabel
from tests.models.feedback.labelled_format import FIELDS, LANGUAGES, normalised

REPOSITORY = Path(__file__).resolve().parents[3]
TRAINING_DIR = REPOSITORY / "models" / "feedback" / "training_data"
TRAINING_FILE = TRAINING_DIR / "feedback_train.jsonl"
TRAINING_FILES = sorted(TRAINING_DIR.glob("*.jsonl"))
SHOP_REVIEW_FILES = sorted(TRAINING_DIR.glob("shop_reviews_*.jsonl"))
EVALUATION_FILE = REPOSITORY / "tests" / "data" / "feedback" / "labelled_feedback.jsonl"
MIN_TEXTS_PER_LANGUAGE = 110
MIN_TEXTS_PER_TOPIC_AND_LANGUAGE = 8

# The id word of each file's scheme, `<language>-<word>-NNNN`; a new file needs its entry here.
ID_WORDS = {"feedback_train.jsonl": "train", "shop_reviews_en.jsonl": "shop"}
ID_WORD_OF_SHOP_REVIEWS = "shop"
# Exact counts of the files whose size is documented in training_data/README.md.
TEXTS_PER_LANGUAGE = {"shop_reviews_en.jsonl": {"en": 900}}
MIN_SHOP_TEXTS_PER_LANGUAGE = 100
SHOP_REVIEW_WORDS = range(3, 41)
# Per language: the smaller of negative and positive is at least this share of the larger, and
# neutral texts are a minority that is still there (a model must see what "neither" looks like).
MIN_NEGATIVE_POSITIVE_RATIO = 0.6
NEUTRAL_SHARE = (0.05, 0.25)
RATINGS_OF_LABEL = {"negative": {1, 2}, "neutral": {3}, "positive": {4, 5}}


def _load(path: Path = TRAINING_FILE) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _id_word(path: Path) -> str:
    if path.name in ID_WORDS:
        return ID_WORDS[path.name]
    if path.name.startswith("shop_reviews_"):
        return ID_WORD_OF_SHOP_REVIEWS
    pytest.fail(f"{path.name}: no id scheme known for this training file; add it to ID_WORDS")


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


def test_the_glob_finds_the_training_files() -> None:
    names = {path.name for path in TRAINING_FILES}
    assert {"feedback_train.jsonl", "shop_reviews_en.jsonl"} <= names
    assert EVALUATION_FILE.is_file()


@pytest.mark.parametrize("path", TRAINING_FILES, ids=lambda path: path.name)
def test_every_training_file_reads_with_the_labelled_reader_and_has_the_format_fields(
    path: Path,
) -> None:
    raw = _load(path)
    assert raw
    for row in raw:
        assert set(row) == FIELDS, (path.name, row.get("id"))
        assert row["text"] == row["text"].strip(), (path.name, row["id"])
    assert [row.id for row in read_labelled([path])] == [row["id"] for row in raw]


def test_ids_are_unique_across_all_training_files() -> None:
    rows = read_labelled(TRAINING_FILES)  # raises on an id already read from another file
    assert len({row.id for row in rows}) == len(rows)


@pytest.mark.parametrize("path", TRAINING_FILES, ids=lambda path: path.name)
def test_ids_follow_the_file_scheme_and_name_their_language(path: Path) -> None:
    word = _id_word(path)
    for row in read_labelled([path]):
        assert re.fullmatch(rf"{row.language}-{word}-\d{{4}}", row.id), (path.name, row.id)


@pytest.mark.parametrize("path", TRAINING_FILES, ids=lambda path: path.name)
def test_ratings_agree_with_the_labels(path: Path) -> None:
    for row in read_labelled([path]):
        if row.rating is not None:
            assert row.rating in RATINGS_OF_LABEL[row.sentiment.value], (path.name, row.id)


@pytest.mark.parametrize("path", TRAINING_FILES, ids=lambda path: path.name)
def test_labels_are_balanced_in_each_language(path: Path) -> None:
    labels = Counter((row.language, row.sentiment.value) for row in read_labelled([path]))
    for language in {language for language, _ in labels}:
        negative, neutral, positive = (
            labels[language, label] for label in ("negative", "neutral", "positive")
        )
        total = negative + neutral + positive
        assert min(negative, positive) >= MIN_NEGATIVE_POSITIVE_RATIO * max(negative, positive), (
            path.name,
            language,
            negative,
            positive,
        )
        assert NEUTRAL_SHARE[0] <= neutral / total <= NEUTRAL_SHARE[1], (
            path.name,
            language,
            neutral,
            total,
        )


def test_no_text_repeats_across_the_training_files_and_the_evaluation_set() -> None:
    seen: dict[str, str] = {}
    for path in [*TRAINING_FILES, EVALUATION_FILE]:
        for row in _load(path):
            key = normalised(row["text"])
            assert key not in seen, (path.name, row["id"], seen.get(key))
            seen[key] = row["id"]


@pytest.mark.parametrize("path", SHOP_REVIEW_FILES, ids=lambda path: path.name)
def test_shop_review_files_hold_their_languages_and_counts(path: Path) -> None:
    per_language = Counter(row.language for row in read_labelled([path]))
    suffix = path.stem.removeprefix("shop_reviews_")
    if suffix in LANGUAGES:  # a file named after one language holds only that language
        assert set(per_language) == {suffix}, path.name
    if path.name in TEXTS_PER_LANGUAGE:
        assert dict(per_language) == TEXTS_PER_LANGUAGE[path.name], path.name
    for language, count in per_language.items():
        assert count >= MIN_SHOP_TEXTS_PER_LANGUAGE, (path.name, language)


@pytest.mark.parametrize("path", SHOP_REVIEW_FILES, ids=lambda path: path.name)
def test_shop_reviews_are_short_review_texts(path: Path) -> None:
    for row in read_labelled([path]):
        assert len(row.text.split()) in SHOP_REVIEW_WORDS, (path.name, row.id)
