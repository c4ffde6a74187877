"""The polarity training set: polar labelled texts plus the English corpora, with provenance."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from parcelwatch.models.feedback.labelled import LabelledFileError, read_labelled
from parcelwatch.models.feedback.training_set import (
    PROJECT_LICENCE,
    RT_POLARITY_LICENCE,
    UCI_LICENCE,
    build_training_set,
)
from tests.models.feedback.lifecycle_data import (
    LABELLED_ROWS,
    RESERVED_SENTENCE,
    write_corpora,
    write_labelled,
)


def test_only_polar_labelled_texts_are_trained_on(tmp_path: Path) -> None:
    training = build_training_set([write_labelled(tmp_path / "labelled.jsonl")], None)
    polar = [row for row in LABELLED_ROWS if row["sentiment"] != "neutral"]
    assert training.texts == [row["text"] for row in polar]
    assert training.labels == [1 if row["sentiment"] == "positive" else 0 for row in polar]
    assert training.languages == [row["language"] for row in polar]
    (source,) = training.provenance()["sources"]
    assert source["neutral_not_used"] == len(LABELLED_ROWS) - len(polar)
    assert source["licence"] == PROJECT_LICENCE
    assert training.counts_per_language() == {"de": 2, "en": 3, "pt": 2}


def test_the_english_corpora_are_added_with_their_provenance(tmp_path: Path) -> None:
    corpora = write_corpora(tmp_path / "sentiment")
    labelled = write_labelled(tmp_path / "labelled.jsonl")
    training = build_training_set([labelled], corpora)

    pairs = zip(training.texts, training.languages, strict=True)
    english = [text for text, language in pairs if language == "en"]
    assert "Great food\u0085 and friendly staff." in english  # NEL is not a line break there
    assert "a dull , lifeless mess of a movie ." in english
    by_file = {source["file"]: source for source in training.provenance()["sources"]}
    assert set(by_file) == {
        "labelled.jsonl", "rt-polarity.pos", "rt-polarity.neg",
        "uci_yelp_labelled.txt", "uci_imdb_labelled.txt",
    }  # fmt: skip
    assert by_file["rt-polarity.neg"]["licence"] == RT_POLARITY_LICENCE
    assert by_file["uci_imdb_labelled.txt"]["licence"] == UCI_LICENCE
    assert by_file["uci_yelp_labelled.txt"]["rows"] == 2
    expected_sha = hashlib.sha256((corpora / "uci_yelp_labelled.txt").read_bytes()).hexdigest()
    assert by_file["uci_yelp_labelled.txt"]["sha256"] == expected_sha
    assert training.provenance()["rows"] == len(training) == 7 + 6


def test_the_reserved_amazon_sentences_beside_the_corpora_are_never_read(tmp_path: Path) -> None:
    training = build_training_set(
        [write_labelled(tmp_path / "labelled.jsonl")], write_corpora(tmp_path / "sentiment")
    )
    assert RESERVED_SENTENCE not in training.texts
    assert all("amazon" not in source["file"] for source in training.sources)


def test_a_missing_corpus_file_is_an_error_not_a_smaller_model(tmp_path: Path) -> None:
    corpora = write_corpora(tmp_path / "sentiment")
    (corpora / "rt-polarity.pos").unlink()
    with pytest.raises(FileNotFoundError, match=r"rt-polarity\.pos"):
        build_training_set([write_labelled(tmp_path / "labelled.jsonl")], corpora)


def test_one_polarity_alone_cannot_be_trained_on(tmp_path: Path) -> None:
    positive = [row for row in LABELLED_ROWS if row["sentiment"] == "positive"]
    with pytest.raises(ValueError, match="both negative and positive"):
        build_training_set([write_labelled(tmp_path / "labelled.jsonl", positive)], None)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"language": "it"}, "language 'it'"),
        ({"sentiment": "angry"}, "angry"),
        ({"rating": 6}, "rating 6"),
        ({"topics": ["weather"]}, "weather"),
        ({"text": ""}, "text is missing"),
    ],
)
def test_a_line_that_breaks_the_format_is_named(tmp_path: Path, change, message) -> None:
    rows = [LABELLED_ROWS[0], {**LABELLED_ROWS[1], **change}]
    path = write_labelled(tmp_path / "labelled.jsonl", rows)
    with pytest.raises(LabelledFileError, match=f"labelled.jsonl:2: .*{message}"):
        read_labelled([path])


def test_ids_are_unique_across_files(tmp_path: Path) -> None:
    first = write_labelled(tmp_path / "a.jsonl")
    second = write_labelled(tmp_path / "b.jsonl", LABELLED_ROWS[:1])
    with pytest.raises(LabelledFileError, match=r"b\.jsonl:1: id 'en-1' already at"):
        read_labelled([first, second])
