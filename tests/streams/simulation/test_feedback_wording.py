"""The words of simulated feedback: enough templates in each language, every one fills in."""

from __future__ import annotations

import random

import pytest

from parcelwatch.streams.simulation.feedback import Situation
from parcelwatch.streams.simulation.feedback_wording import (
    LANGUAGES,
    feedback_text,
    sloppy,
    wording,
)

WRITTEN = [situation.value for situation in Situation if situation is not Situation.RATING_ONLY]
CATEGORIES = ("apparel", "electronics", "home", "beauty", "books", "toys", "sports", "grocery")


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_has_templates_for_every_situation(language: str) -> None:
    words = wording(language)

    assert set(words.templates) == set(WRITTEN)
    assert sum(len(texts) for texts in words.templates.values()) >= 25
    assert all(len(texts) >= 4 for texts in words.templates.values())
    assert set(CATEGORIES) | {"other"} <= set(words.products)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_fills_in_with_the_facts(language: str) -> None:
    words = wording(language)
    for situation, templates in words.templates.items():
        for template in templates:
            filled = template.format(product="P", Product="P", late="L", waited="W", carrier="C")
            assert "{" not in filled and "}" not in filled, (situation, template)
    rng = random.Random(1)
    texts = {
        feedback_text(
            rng, language, "late_complaint", category=category, carrier="dhl",
            late_days=3, waited_days=9,
        )
        for category in (*CATEGORIES, None)
        for _ in range(5)
    }  # fmt: skip
    assert len(texts) >= 6  # templates and products vary
    assert all(text[:1] == text[:1].upper() or text == text.lower() for text in texts)


def test_one_day_and_several_days_are_said_as_the_language_says_them() -> None:
    rng = random.Random(3)
    one = {
        feedback_text(rng, "en", "where_is_my_order", category=None, carrier="ups",
                      late_days=1, waited_days=1)
        for _ in range(60)
    }  # fmt: skip
    several = {
        feedback_text(rng, "de", "unknown_order", category=None, carrier="ups",
                      late_days=1, waited_days=12)
        for _ in range(60)
    }  # fmt: skip
    assert any("a day" in text.lower() for text in one)
    assert not any("1 days" in text for text in one)
    assert any("12 Tagen" in text for text in several)


def test_sloppy_writing_drops_accents_lowercases_swaps_or_shouts() -> None:
    text = "Não recebi o pedido. Péssimo serviço."
    rng = random.Random(5)
    variants = {sloppy(rng, text) for _ in range(400)}

    assert text in variants
    assert "Nao recebi o pedido. Pessimo servico." in variants
    assert "não recebi o pedido. péssimo serviço" in variants
    assert any(v.endswith("!!") for v in variants)
    swapped = [v for v in variants if sorted(v) == sorted(text) and v != text]
    assert swapped


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError):
        wording("it")
