"""Topics by pattern: each language's patterns (``lexicons/<language>.json``, "topics") vote.

A topic's confidence is 1 - Π(1 - weight) over its matched patterns, so two weak cues add up
to a likely topic; only topics at or above ``MIN_TOPIC_CONFIDENCE`` are reported.
"""

from __future__ import annotations

from parcelwatch.models.feedback.lexicon import Lexicon
from parcelwatch.schemas.feedback import FeedbackTopic, TopicConfidence

MIN_TOPIC_CONFIDENCE = 0.5


def _word_matches(pattern: str, word: str, lexicon: Lexicon) -> bool:
    if pattern == "#":
        return word.isdigit() or word in lexicon.numbers
    if pattern.endswith("*"):
        return word.startswith(pattern[:-1])
    return pattern == word


def find_topics(words: list[str], lexicon: Lexicon) -> tuple[TopicConfidence, ...]:
    matched: dict[FeedbackTopic, set[tuple[str, ...]]] = {}
    weights: dict[tuple[str, ...], float] = {}
    for start, word in enumerate(words):
        for pattern in lexicon.topic_candidates(word):
            rest = words[start : start + len(pattern.words)]
            if len(rest) == len(pattern.words) and all(
                _word_matches(expected, actual, lexicon)
                for expected, actual in zip(pattern.words, rest, strict=True)
            ):
                matched.setdefault(pattern.topic, set()).add(pattern.words)
                weights[pattern.words] = pattern.weight
    confidences = []
    for topic, patterns in matched.items():
        missing = 1.0
        for words_matched in patterns:
            missing *= 1.0 - weights[words_matched]
        if 1.0 - missing >= MIN_TOPIC_CONFIDENCE:
            confidences.append(TopicConfidence(topic, round(1.0 - missing, 4)))
    return tuple(sorted(confidences, key=lambda found: (-found.confidence, found.topic.value)))
