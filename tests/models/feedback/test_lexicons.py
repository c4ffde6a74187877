"""The lexicon files: complete in every language, and loadable without the network."""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from parcelwatch.models.feedback.lexicon import SUPPORTED_LANGUAGES, load_lexicon
from parcelwatch.schemas.feedback import FeedbackTopic

SECTIONS = {
    "words", "phrases", "delivery", "product", "delivery_terms", "product_terms", "negators",
    "intensifiers", "contrast", "sarcasm_openers", "fillers", "numbers", "long_units",
    "day_units", "topics", "inflections", "negated", "scope_words", "coordinators",
    "faint_praise", "limiters", "negating_prefixes", "hyperbole_negators", "hyperbole_closers",
    "negating_phrases", "verb_only",
}  # fmt: skip


def _file(language: str) -> dict:
    folder = resources.files("parcelwatch.models.feedback").joinpath("lexicons")
    return json.loads(folder.joinpath(f"{language}.json").read_text("utf-8"))


@pytest.mark.parametrize("language", [*SUPPORTED_LANGUAGES, "und"])
def test_every_file_has_every_section(language: str):
    assert set(_file(language)) >= SECTIONS


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_language_has_a_real_lexicon_and_every_topic(language: str):
    data = _file(language)
    valence_entries = sum(
        len(data[section]) for section in ("words", "phrases", "delivery", "product")
    )
    assert valence_entries >= 250
    assert set(data["topics"]) == {topic.value for topic in FeedbackTopic}
    assert all(
        0 < weight <= 1 for patterns in data["topics"].values() for weight in patterns.values()
    )
    assert all(-4 <= value <= 4 for section in ("words", "phrases", "delivery", "product")
               for value in data[section].values())  # fmt: skip


def test_english_builds_on_the_vader_lexicon():
    lexicon = load_lexicon("en")
    assert lexicon.entries[("horrible",)].valence < 0 < lexicon.entries[("delightful",)].valence
    assert ("not",) not in lexicon.entries  # negators are not sentiment words


@pytest.mark.parametrize(("language", "accented", "bare"), [
    ("pt", ("nao", "recebi"), ("nao", "recebi")), ("pt", ("pessimo",), ("pessimo",)),
    ("fr", ("pas", "recu"), ("pas", "recu")), ("de", ("schoen",), ("schoen",)),
])  # fmt: skip
def test_keys_are_folded(language: str, accented: tuple[str, ...], bare: tuple[str, ...]):
    lexicon = load_lexicon(language)
    assert accented in lexicon.entries
    assert bare == accented


def test_the_lexicon_files_are_package_data():
    """Read at run time from the installed package: a wheel without them could not start."""
    pyproject = Path(__file__).resolve().parents[3] / "pyproject.toml"
    package_data = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]["package-data"]
    assert "lexicons/*.json" in package_data["parcelwatch.models.feedback"]
