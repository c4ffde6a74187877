"""The demo's flagged feedback: one line per ``feedback-flagged`` message (written by the
contract's encoder), the counting of this run's flags, and the expected-vs-seen table."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.feedback import (
    FeedbackChannel,
    FeedbackFlag,
    FeedbackTopic,
    FlaggedFeedback,
    FlagReason,
    Sentiment,
    SentimentLabel,
    ShipmentContext,
    TopicConfidence,
)
from parcelwatch.schemas.types import ExceptionReason, Severity, ShipmentStatus
from parcelwatch.streams.devtools.demo_clock import scaled_feedback_wait_env
from parcelwatch.streams.devtools.feedback_mix import (
    EXCERPT_CHARS,
    FEEDBACK_MARK,
    ExpectedFlags,
    SeenFeedback,
    excerpt,
    expected_flags,
    feedback_mix_lines,
    flagged_feedback_line,
)
from parcelwatch.streams.runtime.settings import Settings
from parcelwatch.streams.simulation import SimulationConfig, generate_run

NOW = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)
NEGATIVE = Sentiment(SentimentLabel.NEGATIVE, -0.7, 0.9)


def _shipment(carrier: str = "dhl") -> ShipmentContext:
    return ShipmentContext(
        tracking_number="JD014600006281234567",
        carrier=carrier,
        service_level="ground",
        status=ShipmentStatus.DELIVERED,
        promised_by=NOW - timedelta(days=12),
        delivered_at=NOW - timedelta(days=2),
        late=True,
        late_by_hours=240.0,
        alert_kinds=(),
        exceptions=(ExceptionReason.DAMAGED,),
        failed_attempts=0,
        notifications=(),
        last_location=None,
        destination=None,
    )


def _message(
    text: str | None = "Produto ótimo, mas chegou 10 dias atrasado.",
    *,
    order_id: str = "ord-100042",
    reason: FlagReason = FlagReason.LOGISTICS_PAIN,
    shipment: ShipmentContext | None = None,
    delivery: Sentiment | None = NEGATIVE,
    rating: int | None = 3,
) -> dict:
    flagged = FlaggedFeedback(
        feedback_id="fb-1",
        event_id="ord-100042-f1",
        order_id=order_id,
        tracking_number=None if shipment is None else shipment.tracking_number,
        customer_id=None,
        channel=FeedbackChannel.REVIEW,
        text=text,
        rating=rating,
        language="pt",
        received_at=NOW,
        flagged_at=NOW,
        sentiment=NEGATIVE,
        delivery_sentiment=delivery,
        product_sentiment=Sentiment(SentimentLabel.POSITIVE, 0.6, 0.8),
        topics=(
            TopicConfidence(FeedbackTopic.LATE_DELIVERY, 0.93),
            TopicConfidence(FeedbackTopic.PRODUCT_QUALITY, 0.55),
        ),
        shipment=shipment,
        flag=FeedbackFlag(reason, Severity.WARNING),
        analyzer_version="rules-1",
    )
    return orjson.loads(encode(flagged))


def test_a_line_names_reason_severity_language_carrier_delivery_sentiment_topics_and_text():
    line = flagged_feedback_line(_message(shipment=_shipment()))

    assert line.startswith(f"{FEEDBACK_MARK} logistics_pain ")
    fields = line.split()
    assert fields[2:6] == ["warning", "pt", "dhl", "delivery"]
    assert fields[6:8] == ["negative", "late_delivery,product_quality:"]
    assert line.endswith('"Produto ótimo, mas chegou 10 dias atrasado."')


def test_an_unmatched_piece_has_no_carrier_and_a_rating_only_piece_no_text():
    line = flagged_feedback_line(
        _message(None, reason=FlagReason.UNMATCHED, delivery=None, rating=4)
    )

    assert " unmatched " in line and " unknown " in line
    assert " delivery - " in line
    assert line.endswith("(rating 4/5, no text)")
    assert excerpt(None) == "(no text)"


def test_the_excerpt_is_one_line_of_at_most_sixty_characters_without_escape_sequences():
    long = "Where is my order???\n\n" + "It has been three weeks and nobody answers. " * 3
    cut = excerpt(long)

    assert len(cut) == EXCERPT_CHARS + 2  # the quotes around it
    assert cut.startswith('"Where is my order??? It has been') and cut.endswith('…"')
    assert "\n" not in cut
    assert excerpt("\x1b[31mred\x1b[0m alert") == '"red alert"'
    line = flagged_feedback_line(_message(shipment=_shipment("\x1b[2Jups")))
    assert "\x1b" not in line and " ups " in line


def test_only_this_runs_flags_are_counted():
    seen = SeenFeedback()

    assert seen.record(_message(), frozenset({"ord-100042"}))
    assert seen.record(_message(reason=FlagReason.PRAISE), frozenset({"ord-100042"}))
    assert not seen.record(_message(order_id="ord-900001"), frozenset({"ord-100042"}))

    assert seen.by_reason == Counter({"logistics_pain": 1, "praise": 1})
    assert seen.other_runs == 1


def test_unmatched_pieces_are_expected_only_once_their_wait_is_over():
    run = generate_run(SimulationConfig(shipments=600, seed=9), now=NOW)
    unmatched = [p for p in run.feedback if p.expected_flag is FlagReason.UNMATCHED]
    assert unmatched
    first = min(p.item.emit_at for p in unmatched)

    before = expected_flags(run.feedback, wait=timedelta(days=7), until=first)
    after = expected_flags(run.feedback, wait=timedelta(0), until=NOW)

    assert before.by_reason["unmatched"] == 0 and before.still_waiting == len(unmatched)
    assert after.by_reason["unmatched"] == len(unmatched) and after.still_waiting == 0
    assert after.by_reason.total() == len(run.feedback)
    assert before.by_reason - Counter({"unmatched": 0}) == after.by_reason - Counter(
        {"unmatched": len(unmatched)}
    )


def test_the_table_compares_flags_by_reason_with_a_total():
    expected = ExpectedFlags(
        Counter({"logistics_pain": 4, "praise": 10, "unexplained_delivery_complaint": 2}), 3
    )
    seen = SeenFeedback(Counter({"logistics_pain": 5, "praise": 8, "neutral": 1}), other_runs=2)

    lines = feedback_mix_lines(expected, seen, {"en": 12, "pt": 2, "de": 2}, "168.0 hours")

    assert lines[0] == "feedback flags: expected vs seen (16 pieces played: de 2, en 12, pt 2)"
    rows = {line.split()[2]: line.split()[3:] for line in lines if line.startswith("flag mix ")}
    assert rows["reason"] == ["expected", "seen", "diff"]
    assert rows["logistics_pain"] == ["4", "5", "+1"]
    assert rows["praise"] == ["10", "8", "-2"]
    assert rows["unexplained_delivery_complaint"] == ["2", "0", "-2"]
    assert rows["neutral"] == ["0", "1", "+1"]
    assert rows["total"] == ["16", "14", "-2", "(-12.5%)"]
    assert "recovered" not in rows  # neither expected nor seen
    assert any("3 pieces about unknown orders still inside their wait (168.0 hours)" in line
               for line in lines)  # fmt: skip
    assert lines[-1] == "not compared: 2 flagged pieces about earlier demo runs"
    widths = {len(line) for line in lines[1:] if line.startswith("flag mix ")}
    assert len(widths) <= 2  # aligned columns (the total adds its share)

    one = feedback_mix_lines(ExpectedFlags(Counter(), 1), SeenFeedback(other_runs=1), {}, "1 h")
    assert "not compared: 1 piece about unknown orders still inside their wait (1 h)" in one[-2]
    assert one[-1] == "not compared: 1 flagged piece about earlier demo runs"


def test_the_worker_waits_for_an_unknown_order_as_long_in_simulated_time():
    wait = timedelta(hours=Settings().feedback_wait_hours)

    scaled = Settings.from_env(scaled_feedback_wait_env(wait, factor=3600.0))

    assert scaled.feedback_wait_hours * 3600 == pytest.approx(wait.total_seconds() / 3600)
    with pytest.raises(ValueError):
        scaled_feedback_wait_env(wait, factor=0)
