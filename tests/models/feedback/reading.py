"""How the rule tests read a sentence: the analyzer's label, or the rules' score alone."""

from __future__ import annotations

from parcelwatch.models.feedback.analyzer import FeedbackAnalyzer, FeedbackText
from parcelwatch.models.feedback.lexicon import load_lexicon
from parcelwatch.models.feedback.rules import read_rules
from parcelwatch.models.feedback.text import tokenize
from parcelwatch.schemas.feedback import SentimentLabel


def label(analyzer: FeedbackAnalyzer, text: str, language: str = "en") -> SentimentLabel:
    (analysis,) = analyzer.analyze([FeedbackText(text, language_hint=language)])
    return analysis.sentiment.label


def rule_score(text: str, language: str = "en") -> float:
    return read_rules(tokenize(text, language), load_lexicon(language)).score
