"""Delivery sentiment apart from product sentiment, in every language."""

from __future__ import annotations

import pytest

from parcelwatch.models.feedback.analyzer import FeedbackAnalyzer, FeedbackText
from parcelwatch.schemas.feedback import SentimentLabel

NEG, NEU, POS = SentimentLabel.NEGATIVE, SentimentLabel.NEUTRAL, SentimentLabel.POSITIVE

# (language, text, overall, delivery, product); None: the text says nothing about that aspect.
CASES = [
    ("en", "Great product, but it came ten days late.", NEG, NEG, POS),
    ("en", "Fast delivery, but the quality is poor.", NEG, POS, NEG),
    ("en", "Still waiting for my parcel.", NEG, NEG, None),
    ("en", "The shirt fits perfectly and the fabric is lovely.", POS, None, POS),
    ("pt", "Produto ótimo, mas chegou 10 dias atrasado.", NEG, NEG, POS),
    ("pt", "Chegou antes do prazo, mas veio com defeito.", NEG, POS, NEG),
    ("pt", "Não recebi o produto.", NEG, NEG, None),
    ("pt", "Produto de ótima qualidade.", POS, None, POS),
    ("es", "Buen producto, pero el envío tardó tres semanas.", NEG, NEG, POS),
    ("es", "Llegó rapidísimo, pero dejó de funcionar.", NEG, POS, NEG),
    ("de", "Tolles Produkt, aber die Lieferung kam viel zu spät.", NEG, NEG, POS),
    ("de", "Schnelle Lieferung, aber schlechte Qualität.", NEG, POS, NEG),
    ("fr", "Produit super, mais livré avec dix jours de retard.", NEG, NEG, POS),
    ("fr", "Livraison rapide, mais le produit ne fonctionne pas.", NEG, POS, NEG),
]


def _label(sentiment):
    return None if sentiment is None else sentiment.label


@pytest.mark.parametrize(("language", "text", "overall", "delivery", "product"), CASES,
                         ids=lambda v: str(v)[:25])  # fmt: skip
def test_delivery_and_product_are_read_apart(
    analyzer: FeedbackAnalyzer, language, text, overall, delivery, product
):
    (analysis,) = analyzer.analyze([FeedbackText(text, language_hint=language)])
    assert analysis.language == language
    assert (
        analysis.sentiment.label,
        _label(analysis.delivery_sentiment),
        _label(analysis.product_sentiment),
    ) == (overall, delivery, product)


def test_a_delivery_named_without_sentiment_is_neutral_with_low_confidence(
    analyzer: FeedbackAnalyzer,
):
    (analysis,) = analyzer.analyze([FeedbackText("The parcel came on Tuesday.")])
    assert analysis.delivery_sentiment is not None
    assert analysis.delivery_sentiment.label is NEU
    assert analysis.delivery_sentiment.confidence < 0.5
    assert analysis.product_sentiment is None


def test_aspect_scores_stay_in_range(analyzer: FeedbackAnalyzer):
    analyses = analyzer.analyze([FeedbackText(text) for _, text, *_ in CASES])
    for analysis in analyses:
        for sentiment in (
            analysis.sentiment,
            analysis.delivery_sentiment,
            analysis.product_sentiment,
        ):
            if sentiment is not None:
                assert -1 <= sentiment.score <= 1
                assert 0 <= sentiment.confidence <= 1
