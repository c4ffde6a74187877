"""The analyzer's API as the other feedback modules use it."""

from __future__ import annotations

from parcelwatch.models.feedback.analyzer import FeedbackAnalyzer, FeedbackText
from parcelwatch.schemas.feedback import SentimentLabel, TextAnalysis


def test_analyze_returns_one_text_analysis_per_item_in_order():
    analyzer = FeedbackAnalyzer()
    items = [FeedbackText("Where is my order??? 3 weeks!!!"), FeedbackText(None, rating=5)]
    first, second = analyzer.analyze(items)
    assert isinstance(first, TextAnalysis)
    assert first.sentiment.label is SentimentLabel.NEGATIVE
    assert second.sentiment.label is SentimentLabel.POSITIVE
    assert analyzer.version.startswith("rules-")


def test_an_empty_batch_gives_an_empty_list():
    assert FeedbackAnalyzer().analyze([]) == []
