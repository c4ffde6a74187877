"""The analyzer as a whole: deterministic, batch-invariant, bounded, and versioned."""

from __future__ import annotations

from parcelwatch.models.feedback.analyzer import RULES_VERSION, FeedbackAnalyzer, FeedbackText
from parcelwatch.models.feedback.text import MAX_ANALYSED_CHARS
from parcelwatch.schemas.feedback import SentimentLabel

ITEMS = [
    FeedbackText("Great product, but it came ten days late.", rating=3),
    FeedbackText("Produto ótimo, mas chegou 10 dias atrasado.", language_hint="pt-BR"),
    FeedbackText("Das Paket ist immer noch nicht angekommen!!!"),
    FeedbackText("Toujours pas reçu, 3 semaines !", language_hint="en"),
    FeedbackText("El repartidor lo dejó fuera y no tocó el timbre."),
    FeedbackText(None, rating=5),
    FeedbackText(""),
    FeedbackText("Pacco arrivato, grazie 👍"),
]


def test_the_same_input_gives_the_same_output():
    assert FeedbackAnalyzer().analyze(ITEMS) == FeedbackAnalyzer().analyze(ITEMS)


def test_a_batch_gives_what_each_item_alone_gives():
    analyzer = FeedbackAnalyzer()
    one_by_one = [analyzer.analyze([item])[0] for item in ITEMS]
    assert analyzer.analyze(ITEMS) == one_by_one
    assert analyzer.analyze(list(reversed(ITEMS))) == list(reversed(one_by_one))


def test_only_the_start_of_a_long_text_is_read():
    analyzer = FeedbackAnalyzer()
    opening = "Terrible, the parcel never arrived. "
    padding = "x" * MAX_ANALYSED_CHARS
    long, short = analyzer.analyze(
        [FeedbackText(opening + padding + " Wonderful, I love it!"), FeedbackText(opening)]
    )
    assert long.sentiment == short.sentiment
    assert long.sentiment.label is SentimentLabel.NEGATIVE


def test_the_version_names_the_rules_or_the_model():
    assert FeedbackAnalyzer().version == RULES_VERSION
    assert RULES_VERSION.startswith("rules-")
    assert FeedbackAnalyzer(version="feedback-2026-12-01").version == "feedback-2026-12-01"
