"""How well the feedback analyzer reads labelled feedback, per language and overall.

Pure: the analyses are computed by the caller (``parcelwatch feedback evaluate`` runs the
analyzer in batches, as the worker does) and compared here with the labels.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from parcelwatch.models.feedback.evaluation_result import (
    Accuracy,
    FeedbackEvaluation,
    Scores,
    TopicScores,
)
from parcelwatch.models.feedback.labelled import LabelledFeedback
from parcelwatch.schemas.feedback import FeedbackTopic, Sentiment, SentimentLabel, TextAnalysis

POLAR = frozenset({SentimentLabel.NEGATIVE, SentimentLabel.POSITIVE})


def evaluate_feedback(
    rows: Sequence[LabelledFeedback],
    analyses: Sequence[TextAnalysis],
    *,
    analyzer_version: str,
    data: dict[str, Any],
) -> FeedbackEvaluation:
    if len(rows) != len(analyses):
        raise ValueError(f"{len(rows)} labelled rows but {len(analyses)} analyses")
    pairs = list(zip(rows, analyses, strict=True))
    languages = sorted({row.language for row in rows})
    return FeedbackEvaluation(
        analyzer_version=analyzer_version,
        data={**data, "rows": len(rows)},
        overall=scores(pairs),
        languages={
            language: scores([pair for pair in pairs if pair[0].language == language])
            for language in languages
        },
    )


def scores(pairs: Sequence[tuple[LabelledFeedback, TextAnalysis]]) -> Scores:
    gold = [row.sentiment for row, _ in pairs]
    read = [analysis.sentiment.label for _, analysis in pairs]
    confusion: dict[str, dict[str, int]] = {
        label.value: {other.value: 0 for other in SentimentLabel} for label in SentimentLabel
    }
    for expected, found in zip(gold, read, strict=True):
        confusion[expected.value][found.value] += 1
    return Scores(
        rows=len(pairs),
        accuracy=_share(sum(e == f for e, f in zip(gold, read, strict=True)), len(pairs)),
        macro_f1=_macro_f1(gold, read),
        polar=_accuracy(
            (row.sentiment, analysis.sentiment) for row, analysis in pairs if row.sentiment in POLAR
        ),
        delivery=_accuracy(
            (row.delivery_sentiment, analysis.delivery_sentiment)
            for row, analysis in pairs
            if row.delivery_sentiment is not None
        ),
        product=_accuracy(
            (row.product_sentiment, analysis.product_sentiment)
            for row, analysis in pairs
            if row.product_sentiment is not None
        ),
        language=Accuracy(
            len(pairs),
            _share(sum(row.language == analysis.language for row, analysis in pairs), len(pairs)),
        ),
        topics={topic.value: _topic_scores(topic, pairs) for topic in FeedbackTopic},
        confusion=confusion,
    )


def _accuracy(pairs: Iterable[tuple[SentimentLabel, Sentiment | None]]) -> Accuracy:
    outcomes = [found is not None and found.label == expected for expected, found in pairs]
    return Accuracy(len(outcomes), _share(sum(outcomes), len(outcomes)))


def _macro_f1(gold: Sequence[SentimentLabel], read: Sequence[SentimentLabel]) -> float | None:
    labels = set(gold) | set(read)
    if not labels:
        return None
    f1s = []
    for label in labels:
        true_positive = sum(e == label and f == label for e, f in zip(gold, read, strict=True))
        f1s.append(_f1(true_positive, read.count(label), gold.count(label)) or 0.0)
    return sum(f1s) / len(f1s)


def _topic_scores(
    topic: FeedbackTopic, pairs: Sequence[tuple[LabelledFeedback, TextAnalysis]]
) -> TopicScores:
    labelled = [topic in row.topics for row, _ in pairs]
    # A topic counts as read when the analyzer emits it, whatever its confidence: that is what
    # flagged feedback carries and what the pain-point windows count.
    found = [any(t.topic == topic for t in analysis.topics) for _, analysis in pairs]
    counts = Counter(zip(labelled, found, strict=True))
    true_positive = counts[(True, True)]
    support, predicted = sum(labelled), sum(found)
    return TopicScores(
        support=support,
        predicted=predicted,
        precision=_share(true_positive, predicted),
        recall=_share(true_positive, support),
        f1=_f1(true_positive, predicted, support),
    )


def _f1(true_positive: int, predicted: int, support: int) -> float | None:
    if predicted + support == 0:
        return None
    return 2 * true_positive / (predicted + support)


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole
