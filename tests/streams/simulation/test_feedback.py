"""Customer feedback on simulated shipments: its own random stream, what customers write about
and when, in which language and channel, and the flag the simulator expects."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import jsonschema
import orjson
import pytest

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.feedback import Feedback, FeedbackChannel, FlagReason
from parcelwatch.schemas.feedback_codec import decode_feedback
from parcelwatch.schemas.types import ExceptionReason, Limits, Order
from parcelwatch.streams.simulation import (
    SimulatedEvent,
    SimulatedFeedback,
    SimulationConfig,
    generate_journeys,
    generate_run,
)
from parcelwatch.streams.simulation.feedback import (
    ShipmentTruth,
    Situation,
    expected_flag,
    generate_feedback,
    shipment_truths,
)
from parcelwatch.streams.simulation.ground_truth import expected_feedback_flags
from tests.factories import order
from tests.schemas.test_schema_sync import load
from tests.streams.simulation.journeys import BIG, NOW, orders_of

S = Situation
# Where customers write without a helpdesk to look the parcel up.
TEXT_ONLY_CHANNELS = {FeedbackChannel.REVIEW, FeedbackChannel.SURVEY, FeedbackChannel.SOCIAL}
DELIVERED_SITUATIONS = {
    S.LATE_COMPLAINT,
    S.DAMAGED_COMPLAINT,
    S.NEVER_ARRIVED,
    S.COURIER_COMPLAINT,
    S.PRODUCT_COMPLAINT,
    S.RECOVERED_PRAISE,
    S.PRAISE,
    S.QUESTION_AFTER_DELIVERY,
    S.RATING_ONLY,
}


@pytest.fixture(scope="module")
def feedback(big: list[SimulatedEvent]) -> list[SimulatedFeedback]:
    return generate_feedback(big, BIG, now=NOW)


@pytest.fixture(scope="module")
def truths(big: list[SimulatedEvent]) -> dict[str, ShipmentTruth]:
    return {truth.order.order_id: truth for truth in shipment_truths(big)}


def _bytes(events: list[SimulatedEvent]) -> list[tuple[str, bytes, bytes, datetime]]:
    return [(e.topic_kind, e.key, encode(e.event), e.emit_at) for e in events]


def test_the_journeys_are_byte_for_byte_the_same_with_or_without_feedback() -> None:
    config = SimulationConfig(shipments=150, seed=11)
    without = generate_journeys(replace(config, feedback_rate=0.0), now=NOW)

    run = generate_run(config, now=NOW)

    assert run.feedback
    assert _bytes(run.journeys) == _bytes(without)
    assert _bytes([e for e in run.events if e.topic_kind != "feedback"]) == _bytes(without)
    assert generate_run(replace(config, feedback_rate=0.0), now=NOW).feedback == []


def test_the_same_seed_gives_the_same_feedback_and_another_seed_other_feedback() -> None:
    config = SimulationConfig(shipments=150, seed=11)
    first = generate_run(config, now=NOW)
    again = generate_run(config, now=NOW)
    other = generate_run(replace(config, seed=12), now=NOW)

    assert _bytes([p.item for p in first.feedback]) == _bytes([p.item for p in again.feedback])
    assert [p.expected_flag for p in first.feedback] == [p.expected_flag for p in again.feedback]
    assert _bytes([p.item for p in first.feedback]) != _bytes([p.item for p in other.feedback])


def test_a_run_publishes_everything_in_time_order_with_feedback_keyed_by_order_id() -> None:
    run = generate_run(SimulationConfig(shipments=150, seed=11), now=NOW)
    events = run.events

    assert [e.emit_at for e in events] == sorted(e.emit_at for e in events)
    assert len(events) == len(run.journeys) + len(run.feedback)
    pieces = [e for e in events if e.topic_kind == "feedback"]
    assert pieces
    for item in pieces:
        assert isinstance(item.event, Feedback)
        assert item.key == item.event.order_id.encode()


def test_about_the_configured_share_of_customers_write_and_every_situation_occurs(
    feedback: list[SimulatedFeedback],
) -> None:
    assert set(Counter(piece.situation for piece in feedback)) == set(Situation)
    # 30 % write; those whose feedback would come after NOW have not written yet.
    assert 0.12 < len(feedback) / BIG.shipments < 0.3
    assert len({piece.feedback.event_id for piece in feedback}) == len(feedback)
    assert set(expected_feedback_flags(feedback)) == set(FlagReason)


def test_feedback_is_received_after_the_order_and_published_by_now(
    feedback: list[SimulatedFeedback], big: list[SimulatedEvent]
) -> None:
    orders = {o.order_id: o for o in orders_of(big).values()}
    for piece in feedback:
        received = piece.feedback.received_at
        assert received.utcoffset() is not None
        assert received <= piece.item.emit_at <= NOW
        assert piece.item.emit_at - received <= timedelta(minutes=2)
        if piece.situation is S.UNKNOWN_ORDER:
            assert piece.feedback.order_id not in orders
            assert piece.feedback.tracking_number is None  # nothing to match it by
            continue
        if piece.feedback.tracking_number is not None:
            assert orders[piece.feedback.order_id].tracking_number == piece.feedback.tracking_number
        assert received > orders[piece.feedback.order_id].ordered_at


def test_feedback_on_a_delivery_comes_within_five_days_once_the_delivery_is_known(
    feedback: list[SimulatedFeedback], truths: dict[str, ShipmentTruth]
) -> None:
    about_deliveries = [p for p in feedback if p.situation in DELIVERED_SITUATIONS]
    assert len(about_deliveries) > 100
    for piece in about_deliveries:
        truth = truths[piece.feedback.order_id]
        assert truth.delivered_at is not None and truth.delivered_emit_at is not None
        assert truth.history_known_at is not None
        received = piece.feedback.received_at
        assert truth.delivered_at <= received <= truth.delivered_at + timedelta(days=5)
        # the worker has heard of the delivery and of everything before it
        assert received > truth.history_known_at >= truth.delivered_emit_at


def test_where_is_my_order_is_asked_after_the_promise_and_before_the_delivery(
    feedback: list[SimulatedFeedback], truths: dict[str, ShipmentTruth]
) -> None:
    asking = [p for p in feedback if p.situation is S.WHERE_IS_MY_ORDER]
    assert len(asking) > 10
    for piece in asking:
        truth = truths[piece.feedback.order_id]
        assert piece.feedback.received_at > truth.order.promised_by
        if truth.delivered_emit_at is not None:
            assert piece.item.emit_at < truth.delivered_emit_at


def test_a_few_write_before_their_order_is_published(
    feedback: list[SimulatedFeedback], truths: dict[str, ShipmentTruth]
) -> None:
    early = [
        p
        for p in feedback
        if p.situation is not S.UNKNOWN_ORDER
        and p.item.emit_at < truths[p.feedback.order_id].order_emit_at
    ]
    assert 0 < len(early) < len(feedback) * 0.05
    for piece in early:
        assert piece.situation is S.QUESTION_IN_TRANSIT
        assert piece.expected_flag is FlagReason.NEUTRAL  # whatever the state at the join


def test_the_five_languages_the_six_channels_and_some_wrong_or_missing_hints(
    feedback: list[SimulatedFeedback],
) -> None:
    languages = Counter(piece.language for piece in feedback)
    assert set(languages) == {"en", "pt", "es", "de", "fr"}
    assert languages["en"] > len(feedback) / 2
    channels = Counter(piece.feedback.channel for piece in feedback)
    assert set(channels) == set(FeedbackChannel)
    assert channels[FeedbackChannel.REVIEW] + channels[FeedbackChannel.SURVEY] > len(feedback) / 3
    hints = [piece.feedback.language for piece in feedback]
    missing = sum(hint is None for hint in hints)
    wrong = sum(
        hint is not None and not hint.startswith(piece.language)
        for hint, piece in zip(hints, feedback, strict=True)
    )
    assert 0.05 < missing / len(feedback) < 0.3
    assert 0 < wrong < len(feedback) * 0.2


def test_the_language_follows_the_customer_locale(
    feedback: list[SimulatedFeedback], truths: dict[str, ShipmentTruth]
) -> None:
    for piece in feedback:
        customer = truths[piece.feedback.order_id.split("-x")[0]].order.customer
        assert customer is not None and customer.locale is not None
        if customer.locale.startswith("de"):
            assert piece.language == "de"
        if customer.locale == "fr-CA":
            assert piece.language == "fr"
        if piece.language in ("es", "pt"):  # customers in the US writing their own language
            assert customer.locale == "en-US"


def test_ratings_follow_the_tone_and_rating_only_answers_have_no_text(
    feedback: list[SimulatedFeedback],
) -> None:
    negative = {S.LATE_COMPLAINT, S.DAMAGED_COMPLAINT, S.WHERE_IS_MY_ORDER, S.NEVER_ARRIVED}
    for piece in feedback:
        rating, text = piece.feedback.rating, piece.feedback.text
        assert rating is None or 1 <= rating <= 5
        if piece.situation is S.RATING_ONLY:
            assert text is None and rating is not None
            assert piece.feedback.channel in (FeedbackChannel.REVIEW, FeedbackChannel.SURVEY)
            continue
        assert text and "{" not in text and "}" not in text
        if piece.situation in negative and rating is not None:
            assert rating <= 3
        if piece.situation in (S.PRAISE, S.RECOVERED_PRAISE) and rating is not None:
            assert rating >= 4
        if piece.feedback.channel is FeedbackChannel.REVIEW:
            assert rating is not None


def test_texts_are_varied_and_name_the_facts(feedback: list[SimulatedFeedback]) -> None:
    texts = [piece.feedback.text for piece in feedback if piece.feedback.text]
    assert len(set(texts)) > len(texts) / 3
    late = [p for p in feedback if p.situation is S.LATE_COMPLAINT and p.language == "en"]
    assert any("day" in (p.feedback.text or "") for p in late)


def _truth(
    *,
    late: bool = False,
    exceptions: tuple[ExceptionReason, ...] = (),
    failed: int = 0,
    delivered: bool = True,
) -> ShipmentTruth:
    placed: Order = order(promised_in_hours=48)
    promised = placed.promised_by
    delivered_at = promised + timedelta(hours=30 if late else -20)
    return ShipmentTruth(
        order=placed,
        order_emit_at=placed.ordered_at + timedelta(seconds=30),
        delivered_at=delivered_at if delivered else None,
        delivered_emit_at=delivered_at + timedelta(minutes=20) if delivered else None,
        history_known_at=delivered_at + timedelta(minutes=20) if delivered else None,
        late_by=delivered_at - promised if late and delivered else None,
        exceptions=exceptions,
        failed_attempts=failed,
    )


@pytest.mark.parametrize(
    ("situation", "truth", "rating", "flag"),
    [
        (S.LATE_COMPLAINT, _truth(late=True), 1, FlagReason.LOGISTICS_PAIN),
        (S.WHERE_IS_MY_ORDER, _truth(delivered=False), None, FlagReason.LOGISTICS_PAIN),
        (S.DAMAGED_COMPLAINT, _truth(exceptions=(ExceptionReason.DAMAGED,)), 1,
         FlagReason.LOGISTICS_PAIN),
        (S.DAMAGED_COMPLAINT, _truth(), 1, FlagReason.UNEXPLAINED_DELIVERY_COMPLAINT),
        (S.COURIER_COMPLAINT, _truth(failed=1), 2, FlagReason.LOGISTICS_PAIN),
        (S.COURIER_COMPLAINT, _truth(), 2, FlagReason.UNEXPLAINED_DELIVERY_COMPLAINT),
        (S.NEVER_ARRIVED, _truth(), 1, FlagReason.DISPUTED_DELIVERY),
        (S.PRODUCT_COMPLAINT, _truth(late=True), 2, FlagReason.PRODUCT_ISSUE),
        (S.RECOVERED_PRAISE, _truth(late=True), 5, FlagReason.RECOVERED),
        (S.PRAISE, _truth(), 5, FlagReason.PRAISE),
        (S.RATING_ONLY, _truth(), 5, FlagReason.PRAISE),
        (S.RATING_ONLY, _truth(), 3, FlagReason.NEUTRAL),
        (S.QUESTION_IN_TRANSIT, _truth(delivered=False), None, FlagReason.NEUTRAL),
        (S.QUESTION_AFTER_DELIVERY, _truth(late=True), None, FlagReason.NEUTRAL),
        (S.UNKNOWN_ORDER, _truth(late=True), 1, FlagReason.UNMATCHED),
    ],
)  # fmt: skip
def test_the_expected_flag_of_each_situation(
    situation: Situation, truth: ShipmentTruth, rating: int | None, flag: FlagReason
) -> None:
    assert expected_flag(situation, truth, rating) is flag


def test_each_piece_carries_the_flag_its_situation_and_shipment_call_for(
    feedback: list[SimulatedFeedback], truths: dict[str, ShipmentTruth]
) -> None:
    for piece in feedback:
        if piece.situation is S.UNKNOWN_ORDER:
            assert piece.expected_flag is FlagReason.UNMATCHED
            continue
        truth = truths[piece.feedback.order_id]
        assert piece.expected_flag is expected_flag(piece.situation, truth, piece.feedback.rating)
        if piece.situation in (S.PRAISE, S.RATING_ONLY):
            assert not truth.troubled  # praise of a troubled shipment would be "recovered"
        if piece.situation in (S.RECOVERED_PRAISE, S.LATE_COMPLAINT):
            assert truth.troubled


def test_without_the_timezone_now_is_refused() -> None:
    with pytest.raises(ValueError):
        generate_feedback([], BIG, now=datetime(2026, 3, 18, 15, 0))
    assert generate_feedback([], BIG, now=datetime(2026, 3, 18, 15, 0, tzinfo=UTC)) == []


def test_every_piece_is_valid_customer_feedback_keyed_by_its_order(
    feedback: list[SimulatedFeedback],
) -> None:
    schema = jsonschema.Draft202012Validator(load("customer-feedback"))
    for piece in feedback:
        payload = encode(piece.feedback)
        schema.validate(orjson.loads(payload))
        decoded = decode_feedback(payload, key=piece.item.key, now=NOW, limits=Limits())
        assert decoded == piece.feedback


def test_the_feedback_rate_is_a_share() -> None:
    with pytest.raises(ValueError):
        SimulationConfig(feedback_rate=1.5)


def test_some_name_their_tracking_number_and_most_their_customer_id(
    feedback: list[SimulatedFeedback], big: list[SimulatedEvent]
) -> None:
    customers = {o.order_id: o.customer for o in orders_of(big).values()}
    with_tracking = [p for p in feedback if p.feedback.tracking_number is not None]
    assert 0 < len(with_tracking) < len(feedback) / 4
    assert all(p.feedback.channel not in TEXT_ONLY_CHANNELS for p in with_tracking)
    named = [p for p in feedback if p.feedback.customer_id is not None]
    assert len(named) > len(feedback) * 0.7
    for piece in named:
        customer = customers.get(piece.feedback.order_id.split("-x")[0])
        assert customer is not None and customer.id == piece.feedback.customer_id
