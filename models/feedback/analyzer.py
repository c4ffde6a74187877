"""The feedback analyzer: language, overall and per-aspect sentiment, and topics, in batches.

Three signals make the overall sentiment, each weighted by how much it knows:
- the rules (``rules.py``), weighted by how much evidence they found (none: weight 0);
- the learned polarity model, when there is one, weighted per language (it learned mostly from
  English, so it counts fully there and less elsewhere) and by the share of the text's words it
  learned (character n-grams give even "asdf qwerty" an opinion; unknown words are no evidence);
- the rating, when given (1-2 negative, 3 neutral, 4-5 positive).
Their weighted mean is divided by at least 1, so little evidence gives a score near 0: neutral
with low confidence, never positive by default. Aspects come from the rules alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from parcelwatch.models.feedback.language import UNDETERMINED, detect_language
from parcelwatch.models.feedback.lexicon import SUPPORTED_LANGUAGES, Aspect, load_lexicon
from parcelwatch.models.feedback.polarity import PolarityModel
from parcelwatch.models.feedback.rules import AspectReading, read_rules
from parcelwatch.models.feedback.text import tokenize
from parcelwatch.models.feedback.topics import find_topics
from parcelwatch.schemas.feedback import Sentiment, SentimentLabel, TextAnalysis

RULES_VERSION = "rules-1"
NEUTRAL_BAND = 0.03  # |score| below this is neutral
ASPECT_NEUTRAL_BAND = 0.05
RULE_EVIDENCE_FOR_FULL_WEIGHT = 1.5  # one clear sentiment word (VADER scale)
LEARNED_WEIGHT = {"en": 0.6}  # per language; others below
LEARNED_WEIGHT_OTHER_SUPPORTED = 0.5
LEARNED_WEIGHT_UNSUPPORTED = 0.3
LEARNED_DEAD_ZONE = 0.05
LEARNED_FULL_WEIGHT_KNOWN_SHARE = 0.5
RATING_WEIGHT = 1.0
RATING_SCORE = {1: -1.0, 2: -0.6, 3: 0.0, 4: 0.6, 5: 1.0}
UNSUPPORTED_CONFIDENCE_CAP = 0.4


@dataclass(frozen=True, slots=True)
class FeedbackText:
    text: str | None
    rating: int | None = None  # 1-5, from the input
    language_hint: str | None = None  # the input's BCP 47 hint, may be wrong or absent


def _label(score: float, band: float) -> SentimentLabel:
    if score >= band:
        return SentimentLabel.POSITIVE
    if score <= -band:
        return SentimentLabel.NEGATIVE
    return SentimentLabel.NEUTRAL


def _clamp(value: float, low: float = -1.0, high: float = 1.0) -> float:
    return max(low, min(high, value))


def _learned_score(positive_probability: float) -> float:
    """P(positive) as a score in [-1, 1]; close to 0.5 says nothing, so it counts as 0."""
    lean = 2.0 * positive_probability - 1.0
    strength = max(0.0, abs(lean) - LEARNED_DEAD_ZONE) / (1.0 - LEARNED_DEAD_ZONE)
    return strength if lean > 0 else -strength


def _overall(signals: list[tuple[float, float]], supported: bool) -> Sentiment:
    """``signals``: (score in [-1, 1], weight) pairs."""
    weight = sum(w for _, w in signals)
    score = _clamp(sum(s * w for s, w in signals) / max(weight, 1.0))
    coverage = min(1.0, weight)
    label = _label(score, NEUTRAL_BAND)
    if label is SentimentLabel.NEUTRAL:
        confidence = 0.15 + 0.35 * coverage * (1.0 - abs(score) / NEUTRAL_BAND)
    else:
        agreeing = sum(w for s, w in signals if s * score > 0) / weight
        strength = 0.35 + 0.6 * min(1.0, abs(score) / 0.6)
        confidence = strength * coverage * (0.5 + 0.5 * agreeing)
    if not supported:
        confidence = min(confidence, UNSUPPORTED_CONFIDENCE_CAP)
    return Sentiment(label, round(score, 4), round(_clamp(confidence, 0.0, 1.0), 4))


def _aspect(reading: AspectReading | None) -> Sentiment | None:
    if reading is None:
        return None
    label = _label(reading.score, ASPECT_NEUTRAL_BAND)
    confidence = 0.3 if not reading.evidence else min(0.9, 0.35 + 0.55 * abs(reading.score) / 0.6)
    return Sentiment(label, round(reading.score, 4), round(confidence, 4))


class FeedbackAnalyzer:
    def __init__(self, polarity: PolarityModel | None = None, version: str | None = None) -> None:
        self.polarity = polarity
        self.version = version or (
            RULES_VERSION if polarity is None else f"{RULES_VERSION}+learned"
        )

    def analyze(self, items: Sequence[FeedbackText]) -> list[TextAnalysis]:
        languages = [detect_language(item.text, item.language_hint) for item in items]
        learned: list[tuple[float, float] | None] = [None] * len(items)
        with_text = [i for i, item in enumerate(items) if item.text and item.text.strip()]
        if self.polarity is not None and with_text:
            probabilities, known_shares = self.polarity.read(
                [items[i].text or "" for i in with_text], [languages[i] for i in with_text]
            )
            for i, probability, known in zip(with_text, probabilities, known_shares, strict=True):
                learned[i] = (float(probability), float(known))
        return [
            self._analyze_one(item, language, probability)
            for item, language, probability in zip(items, languages, learned, strict=True)
        ]

    def _analyze_one(
        self, item: FeedbackText, language: str, learned: tuple[float, float] | None
    ) -> TextAnalysis:
        supported = language in SUPPORTED_LANGUAGES
        lexicon = load_lexicon(language if supported else UNDETERMINED)
        tokens = tokenize(item.text or "", lexicon.language)
        reading = read_rules(tokens, lexicon)
        signals = [(reading.score, min(1.0, reading.evidence / RULE_EVIDENCE_FOR_FULL_WEIGHT))]
        if learned is not None:
            positive_probability, known_share = learned
            if supported:
                weight = LEARNED_WEIGHT.get(language, LEARNED_WEIGHT_OTHER_SUPPORTED)
            else:
                weight = LEARNED_WEIGHT_UNSUPPORTED
            # Unknown words are no evidence: full weight once the model knows half of the words.
            known = min(1.0, known_share / LEARNED_FULL_WEIGHT_KNOWN_SHARE)
            signals.append((_learned_score(positive_probability), weight * known))
        if item.rating in RATING_SCORE:
            signals.append((RATING_SCORE[item.rating], RATING_WEIGHT))
        signals = [(score, weight) for score, weight in signals if weight > 0]
        sentiment = (
            _overall(signals, supported) if signals else Sentiment(SentimentLabel.NEUTRAL, 0.0, 0.1)
        )
        return TextAnalysis(
            language=language,
            sentiment=sentiment,
            delivery_sentiment=_aspect(reading.aspects.get(Aspect.DELIVERY)),
            product_sentiment=_aspect(reading.aspects.get(Aspect.PRODUCT)),
            topics=find_topics([token.norm for token in tokens], lexicon) if supported else (),
        )
