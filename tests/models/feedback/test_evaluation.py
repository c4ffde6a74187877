"""The feedback evaluation report: figures computed from hand-made readings of labelled texts."""

from __future__ import annotations

import pytest

from parcelwatch.models.feedback.evaluation import evaluate_feedback
from parcelwatch.models.feedback.labelled import LabelledFeedback
from parcelwatch.schemas.feedback import (
    FeedbackChannel,
    FeedbackTopic,
    Sentiment,
    SentimentLabel,
    TextAnalysis,
    TopicConfidence,
)

NEG, NEU, POS = SentimentLabel.NEGATIVE, SentimentLabel.NEUTRAL, SentimentLabel.POSITIVE
LATE, DAMAGED = FeedbackTopic.LATE_DELIVERY, FeedbackTopic.DAMAGED


def labelled(language, sentiment, delivery=None, product=None, topics=()) -> LabelledFeedback:
    return LabelledFeedback(
        id=f"{language}-{sentiment}-{delivery}-{product}-{len(topics)}",
        language=language, channel=FeedbackChannel.REVIEW, text="...", rating=None,
        sentiment=sentiment, delivery_sentiment=delivery, product_sentiment=product,
        topics=frozenset(topics),
    )  # fmt: skip


def read(language, sentiment, delivery=None, product=None, topics=()) -> TextAnalysis:
    def as_sentiment(label):
        return None if label is None else Sentiment(label, 0.0, 0.5)

    return TextAnalysis(
        language=language,
        sentiment=as_sentiment(sentiment),
        delivery_sentiment=as_sentiment(delivery),
        product_sentiment=as_sentiment(product),
        topics=tuple(TopicConfidence(topic, 0.3) for topic in topics),
    )


ROWS = [
    # (labelled, read)
    (labelled("en", NEG, NEG, POS, [LATE]), read("en", NEG, NEG, NEG, [LATE])),
    (labelled("en", POS, None, POS), read("en", NEU, None, POS, [DAMAGED])),
    (labelled("en", NEU), read("en", NEU)),
    (labelled("pt", NEG, NEG, None, [DAMAGED, LATE]), read("es", NEG, None, None, [DAMAGED])),
    (labelled("pt", POS), read("pt", POS)),
]


@pytest.fixture
def result():
    rows, analyses = zip(*ROWS, strict=True)
    return evaluate_feedback(rows, analyses, analyzer_version="rules-1", data={"files": []})


def test_overall_label_figures(result) -> None:
    assert result.overall.rows == 5
    assert result.overall.accuracy == pytest.approx(4 / 5)
    # negative F1 1, neutral 2/3 (1 right of 1 labelled, 2 read), positive 2/3 (1 of 2, 1 read)
    assert result.overall.macro_f1 == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    assert result.overall.confusion["positive"] == {"negative": 0, "neutral": 1, "positive": 1}


def test_the_polar_subset_counts_a_neutral_reading_as_wrong(result) -> None:
    assert (result.overall.polar.rows, result.overall.polar.accuracy) == (4, pytest.approx(3 / 4))
    assert result.languages["en"].polar.accuracy == pytest.approx(1 / 2)
    assert result.languages["pt"].polar.accuracy == 1.0


def test_aspects_are_scored_where_labelled_and_a_missing_reading_is_wrong(result) -> None:
    assert (result.overall.delivery.rows, result.overall.delivery.accuracy) == (2, 0.5)
    assert (result.overall.product.rows, result.overall.product.accuracy) == (2, 0.5)
    assert result.languages["pt"].product.accuracy is None  # nothing labelled to measure


def test_topics_and_language_detection(result) -> None:
    late, damaged = result.overall.topics["late_delivery"], result.overall.topics["damaged"]
    assert (late.support, late.predicted, late.precision, late.recall) == (2, 1, 1.0, 0.5)
    assert damaged.precision == pytest.approx(1 / 2)
    assert damaged.recall == 1.0
    assert damaged.f1 == pytest.approx(2 / 3)
    price = result.overall.topics["price"]
    assert (price.precision, price.recall, price.f1) == (None, None, None)
    assert result.overall.language.accuracy == pytest.approx(4 / 5)
    assert result.languages["pt"].language.accuracy == 0.5


def test_the_report_is_json_and_a_table(result) -> None:
    document = result.to_json()
    assert set(document) == {"analyzer_version", "data", "overall", "languages"}
    assert document["data"]["rows"] == 5
    assert set(document["languages"]) == {"en", "pt"}
    assert document["overall"]["topics"]["damaged"]["support"] == 1
    table = result.table().splitlines()
    assert table[0] == "feedback analyzer rules-1, 5 labelled texts"
    assert [line.split()[0] for line in table[3:6]] == ["en", "pt", "all"]
    assert table[5].split()[1:3] == ["5", "0.800"]


def test_rows_and_readings_must_pair_up() -> None:
    with pytest.raises(ValueError, match="2 labelled rows but 1 analyses"):
        evaluate_feedback(
            [ROWS[0][0], ROWS[1][0]], [ROWS[0][1]], analyzer_version="rules-1", data={}
        )
