"""Feedback joined with its shipment: its context, the flag, the output event and the tally."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parcelwatch.schemas.codec import to_jsonable
from parcelwatch.schemas.feedback import (
    Feedback,
    FeedbackChannel,
    FeedbackFlag,
    FeedbackTopic,
    FlaggedFeedback,
    FlagReason,
    Sentiment,
    SentimentLabel,
    ShipmentContext,
    TextAnalysis,
    TopicConfidence,
)
from parcelwatch.schemas.state import ShipmentState
from parcelwatch.schemas.types import (
    RETURN_ALERT_KINDS,
    AlertKind,
    ExceptionReason,
    Location,
    NotificationKind,
    Place,
    Severity,
    ShipmentStatus,
)
from parcelwatch.streams.core.feedback_flags import (
    DELIVERY_TOPICS,
    decide_flag,
    feedback_id,
    flag_feedback,
    shipment_context,
    tally_of,
)
from parcelwatch.streams.core.tracking import apply_event
from tests.factories import TRACKING, at, order, scan

S = ShipmentStatus
T = FeedbackTopic
R = FlagReason
NEG, NEU, POS = SentimentLabel.NEGATIVE, SentimentLabel.NEUTRAL, SentimentLabel.POSITIVE
_SCORES = {NEG: -0.7, NEU: 0.0, POS: 0.7}
BERLIN = Place(postal_code="10115", region="BE", country="DE")


# --- builders --------------------------------------------------------------------------------


def run(*events) -> ShipmentState:
    """A shipment's state after ``events``."""
    return run_more(None, *events)


def run_more(state: ShipmentState | None, *events) -> ShipmentState:
    """``state`` after ``events``."""
    for event in events:
        state = apply_event(state, event, at(200)).state
    return state


def sentiment(label: SentimentLabel) -> Sentiment:
    return Sentiment(label=label, score=_SCORES[label], confidence=0.8)


def analysis(
    overall: SentimentLabel = NEU,
    *,
    delivery: SentimentLabel | None = None,
    product: SentimentLabel | None = None,
    topics: dict[FeedbackTopic, float] | None = None,
    language: str = "en",
) -> TextAnalysis:
    listed = sorted((topics or {}).items(), key=lambda item: -item[1])
    return TextAnalysis(
        language=language,
        sentiment=sentiment(overall),
        delivery_sentiment=sentiment(delivery) if delivery else None,
        product_sentiment=sentiment(product) if product else None,
        topics=tuple(TopicConfidence(topic, confidence) for topic, confidence in listed),
    )


def context(**overrides) -> ShipmentContext:
    """A shipment delivered on time with nothing wrong on record, unless overridden."""
    fields = {
        "tracking_number": TRACKING,
        "carrier": "ups",
        "service_level": "ground",
        "status": S.DELIVERED,
        "promised_by": at(72),
        "delivered_at": at(50),
        "late": False,
        "late_by_hours": 0.0,
        "alert_kinds": (),
        "exceptions": (),
        "failed_attempts": 0,
        "notifications": (),
        "last_location": None,
        "destination": BERLIN,
    }
    return ShipmentContext(**(fields | overrides))


def feedback(**overrides) -> Feedback:
    fields = {
        "event_id": "fb-1",
        "order_id": "A-1001",
        "channel": FeedbackChannel.REVIEW,
        "received_at": at(120),
        "tracking_number": None,
        "customer_id": "cust-7",
        "text": "Great shoes, but they came a week late.",
        "rating": 3,
        "language": "en-GB",
    }
    return Feedback(**(fields | overrides))


def reason_of(text: TextAnalysis, shipment: ShipmentContext | None) -> FlagReason:
    return decide_flag(text, shipment).reason


LATE_DELIVERED = {"delivered_at": at(82), "late": True, "late_by_hours": 10.0}


# --- feedback_id -----------------------------------------------------------------------------


def test_feedback_id_is_the_same_for_the_same_event_and_target():
    assert feedback_id(feedback(), TRACKING) == feedback_id(feedback(), TRACKING)


def test_feedback_id_differs_per_target_and_per_event():
    ids = {
        feedback_id(feedback(), TRACKING),
        feedback_id(feedback(), "1ZTEST0000000002"),
        feedback_id(feedback(), "A-1001"),
        feedback_id(feedback(event_id="fb-2"), TRACKING),
    }
    assert len(ids) == 4


def test_feedback_id_depends_on_the_event_id_only_not_on_the_text():
    edited = feedback(text="Changed my mind, all good.", rating=5)
    assert feedback_id(edited, TRACKING) == feedback_id(feedback(), TRACKING)


# --- shipment_context: what the state says ---------------------------------------------------


def test_context_copies_the_shipments_identity_terms_and_destination():
    state = run(order(72, destination=BERLIN, service_level="express"), scan(S.IN_TRANSIT, 5))
    shipment = shipment_context(state, at(10))
    assert shipment.tracking_number == TRACKING
    assert shipment.carrier == "ups"
    assert shipment.service_level == "express"
    assert shipment.status is S.IN_TRANSIT
    assert shipment.promised_by == at(72)
    assert shipment.delivered_at is None
    assert shipment.destination == BERLIN


def test_context_of_a_state_with_scans_only_has_no_order_terms():
    shipment = shipment_context(run(scan(S.IN_TRANSIT, 5)), at(10))
    assert (shipment.service_level, shipment.promised_by, shipment.destination) == (None,) * 3
    assert (shipment.late, shipment.late_by_hours) == (None, None)  # no promise


def test_context_of_an_order_without_scans_has_no_status():
    shipment = shipment_context(run(order(72)), at(0))
    assert shipment.status is None and shipment.last_location is None
    assert shipment.alert_kinds == () and shipment.failed_attempts == 0


# --- shipment_context: lateness --------------------------------------------------------------


@pytest.mark.parametrize(("delivered_hour", "hours_late"), [(82, 10.0), (72.5, 0.5), (200, 128.0)])
def test_delivered_after_the_promise_is_late_by_the_difference(delivered_hour, hours_late):
    state = run(order(72), scan(S.DELIVERED, delivered_hour))
    shipment = shipment_context(state, at(300))
    assert shipment.late is True
    assert shipment.late_by_hours == pytest.approx(hours_late)
    assert shipment.delivered_at == at(delivered_hour)


@pytest.mark.parametrize("delivered_hour", [10, 71, 72])
def test_delivered_by_the_promise_is_not_late(delivered_hour):
    state = run(order(72), scan(S.DELIVERED, delivered_hour))
    shipment = shipment_context(state, at(300))  # later than the promise: judged by delivery
    assert (shipment.late, shipment.late_by_hours) == (False, 0.0)


@pytest.mark.parametrize(("now_hour", "hours_late"), [(73, 1.0), (96, 24.0), (172, 100.0)])
def test_not_delivered_past_the_promise_is_late_so_far(now_hour, hours_late):
    state = run(order(72), scan(S.IN_TRANSIT, 30))
    shipment = shipment_context(state, at(now_hour))
    assert shipment.late is True
    assert shipment.late_by_hours == pytest.approx(hours_late)


@pytest.mark.parametrize("now_hour", [31, 71, 72])
def test_not_delivered_before_the_promise_is_not_known_yet(now_hour):
    state = run(order(72), scan(S.IN_TRANSIT, 30))
    shipment = shipment_context(state, at(now_hour))
    assert (shipment.late, shipment.late_by_hours) == (None, None)


def test_lateness_is_judged_at_the_given_clock_not_at_the_scans():
    state = run(order(72), scan(S.IN_TRANSIT, 30))
    assert shipment_context(state, at(50)).late is None
    assert shipment_context(state, at(100)).late is True


def test_a_parcel_returned_after_its_promise_is_late_so_far():
    state = run(order(72), scan(S.RETURNED_TO_SENDER, 60, reason="refused"))
    shipment = shipment_context(state, at(90))
    assert (shipment.late, shipment.late_by_hours) == (True, 18.0)


def test_a_cancelled_shipment_is_neither_late_nor_on_time():
    state = run(order(72), scan(S.CANCELLED, 5))
    assert shipment_context(state, at(300)).late is None


def test_late_by_hours_is_rounded_to_hundredths():
    state = run(order(72), scan(S.DELIVERED, 72 + 1 / 3))
    assert shipment_context(state, at(300)).late_by_hours == 0.33


# --- shipment_context: history ---------------------------------------------------------------


def test_alert_kinds_keep_episodes_that_closed_since():
    state = run(
        order(72),
        scan(S.EXCEPTION, 5, reason="weather_delay"),
        scan(S.IN_TRANSIT, 20),  # the exception episode closes here
        scan(S.ATTEMPT_FAILED, 60, reason="recipient_unavailable"),
        scan(S.DELIVERED, 70),  # and the attempt episode here
    )
    assert state.outputs.open_episodes == ()
    shipment = shipment_context(state, at(100))
    assert shipment.alert_kinds == (AlertKind.ATTEMPT_FAILED, AlertKind.CARRIER_EXCEPTION)


def test_alert_kinds_of_a_state_stored_before_raised_kinds_come_from_open_episodes():
    state = run(order(72), scan(S.RETURNING_TO_SENDER, 30), scan(S.IN_TRANSIT, 10, "old"))
    old = replace(state, outputs=replace(state.outputs, raised_kinds=()))
    assert shipment_context(old, at(40)).alert_kinds == (AlertKind.RETURNED,)


def test_alert_kinds_are_sorted_and_unique():
    state = run(order(72), scan(S.EXCEPTION, 5, reason="lost"), scan(S.IN_TRANSIT, 10))
    state = state.with_episode(AlertKind.DELAY_RISK, "scan-10")
    state = run_more(state, scan(S.EXCEPTION, 12, reason="damaged"))
    kinds = shipment_context(state, at(20)).alert_kinds
    assert list(kinds) == sorted(set(kinds))
    assert set(kinds) == {AlertKind.CARRIER_EXCEPTION, AlertKind.DELAY_RISK}


def test_exceptions_are_the_carriers_exception_reasons_in_order_each_once():
    state = run(
        order(72),
        scan(S.EXCEPTION, 5, reason="weather_delay"),
        scan(S.IN_TRANSIT, 6),
        scan(S.EXCEPTION, 9, reason="damaged"),
        scan(S.EXCEPTION, 12, reason="weather_delay"),
        scan(S.ATTEMPT_FAILED, 30, reason="recipient_unavailable"),
    )
    shipment = shipment_context(state, at(40))
    assert shipment.exceptions == (ExceptionReason.WEATHER_DELAY, ExceptionReason.DAMAGED)
    assert shipment.failed_attempts == 1  # counted apart, its reason not an exception


def test_an_exception_without_a_reason_is_an_unspecified_one():
    shipment = shipment_context(run(order(72), scan(S.EXCEPTION, 5)), at(10))
    assert shipment.exceptions == (ExceptionReason.OTHER,)


def test_failed_attempts_count_every_failed_attempt_scan_kept():
    state = run(
        order(72),
        *(scan(S.ATTEMPT_FAILED, hour, reason="recipient_unavailable") for hour in (50, 74, 98)),
        scan(S.DELIVERED, 120),
    )
    shipment = shipment_context(state, at(130))
    assert shipment.failed_attempts == 3
    assert shipment.exceptions == ()


def test_notifications_are_the_kinds_told_first_told_first_unknown_keys_ignored():
    state = run(order(72))
    notified = (
        "order_confirmed",
        "shipped",
        "exception/carrier_exception/scan-5",
        "delayed/2026-11-23T09:00:00+00:00",
        "exception/returned/scan-9",  # a second exception milestone: the kind once
        "something_newer/x",
        "delivered",
        "review_request",
    )
    state = replace(state, outputs=replace(state.outputs, notified=notified))
    assert shipment_context(state, at(10)).notifications == (
        NotificationKind.ORDER_CONFIRMED,
        NotificationKind.SHIPPED,
        NotificationKind.EXCEPTION,
        NotificationKind.DELAYED,
        NotificationKind.DELIVERED,
        NotificationKind.REVIEW_REQUEST,
    )


def test_last_location_is_the_newest_scan_that_had_one():
    memphis = Location(city="Memphis", region="TN", country="US")
    leipzig = Location(city="Leipzig", region="SN", country="DE")
    state = run(
        order(72),
        scan(S.IN_TRANSIT, 30, location=leipzig),
        scan(S.PICKED_UP, 1, location=memphis),  # arrives late, happened earlier
        scan(S.EXCEPTION, 5, reason="missorted", location=memphis),  # kept with the exceptions too
        scan(S.OUT_FOR_DELIVERY, 40),  # no location
    )
    assert shipment_context(state, at(50)).last_location == leipzig


def test_last_location_is_none_when_no_scan_had_one():
    state = run(order(72), scan(S.IN_TRANSIT, 30))
    assert shipment_context(state, at(50)).last_location is None


def test_last_location_of_an_exception_older_than_the_recent_trail_is_still_found():
    depot = Location(city="Hub", country="DE")
    state = run(order(72), scan(S.EXCEPTION, 1, reason="missorted", location=depot))
    state = replace(state, tracking=replace(state.tracking, recent_scans=()))  # evicted
    assert shipment_context(state, at(50)).last_location == depot


# --- decide_flag: unmatched ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        (analysis(NEG), Severity.WARNING),
        (analysis(NEU, delivery=NEG, topics={T.LATE_DELIVERY: 0.8}), Severity.WARNING),
        (analysis(NEU, topics={T.NOT_RECEIVED: 0.9}), Severity.WARNING),
        (analysis(NEU), Severity.INFO),
        (analysis(POS, topics={T.PRODUCT_QUALITY: 0.7}), Severity.INFO),
    ],
)
def test_without_a_shipment_feedback_is_unmatched(text, severity):
    assert decide_flag(text, None) == FeedbackFlag(R.UNMATCHED, severity)


# --- decide_flag: disputed_delivery ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        analysis(NEG, delivery=NEG, topics={T.NOT_RECEIVED: 0.9}),
        analysis(NEU, topics={T.NOT_RECEIVED: 0.5}),  # "where is it?" in flat words
        analysis(NEG, delivery=NEG, topics={T.NOT_RECEIVED: 0.3}),
        analysis(NEG, topics={T.NOT_RECEIVED: 0.3, T.LATE_DELIVERY: 0.6}),
    ],
)
def test_never_arrived_on_a_delivered_parcel_is_a_disputed_delivery(text):
    assert decide_flag(text, context()) == FeedbackFlag(R.DISPUTED_DELIVERY, Severity.CRITICAL)


def test_a_disputed_delivery_comes_before_the_lateness_it_also_had():
    text = analysis(NEG, delivery=NEG, topics={T.NOT_RECEIVED: 0.9})
    assert reason_of(text, context(**LATE_DELIVERED, exceptions=(ExceptionReason.LOST,))) is (
        R.DISPUTED_DELIVERY
    )


def test_a_weak_not_received_in_a_text_not_negative_about_delivery_is_no_dispute():
    text = analysis(POS, topics={T.NOT_RECEIVED: 0.3})
    assert reason_of(text, context()) is R.PRAISE


@pytest.mark.parametrize(
    "status", [S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.RETURNED_TO_SENDER, S.EXCEPTION, None]
)
def test_never_arrived_on_a_parcel_not_delivered_is_no_dispute(status):
    text = analysis(NEG, delivery=NEG, topics={T.NOT_RECEIVED: 0.9})
    shipment = context(status=status, delivered_at=None, late=None, late_by_hours=None)
    assert reason_of(text, shipment) is not R.DISPUTED_DELIVERY


# --- decide_flag: logistics_pain -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "history", "severity"),
    [
        (analysis(NEG, delivery=NEG, topics={T.LATE_DELIVERY: 0.9}), LATE_DELIVERED, "warning"),
        (
            analysis(NEG, topics={T.LATE_DELIVERY: 0.9}),
            {"delivered_at": at(172), "late": True, "late_by_hours": 100.0},
            "critical",
        ),
        (
            analysis(NEG, delivery=NEG, product=NEG, topics={T.DAMAGED: 0.9}),
            {"exceptions": (ExceptionReason.DAMAGED,)},
            "critical",
        ),
        (
            analysis(NEG, topics={T.COURIER_BEHAVIOUR: 0.7}),
            {"failed_attempts": 2, "alert_kinds": (AlertKind.ATTEMPT_FAILED,)},
            "warning",
        ),
        (
            analysis(NEU, delivery=NEG),
            {"exceptions": (ExceptionReason.WEATHER_DELAY,)},
            "warning",
        ),
        (
            analysis(NEG, delivery=NEG, topics={T.WRONG_OR_MISSING_ITEM: 0.6}),
            {"alert_kinds": (AlertKind.STALLED,)},  # closed long ago: still on record
            "warning",
        ),
    ],
)
def test_delivery_complaints_with_trouble_on_record_are_logistics_pain(text, history, severity):
    flag = decide_flag(text, context(**history))
    assert flag == FeedbackFlag(R.LOGISTICS_PAIN, Severity(severity))


@pytest.mark.parametrize("kind", [kind for kind in AlertKind if kind not in RETURN_ALERT_KINDS])
def test_any_shipment_alert_kind_ever_raised_explains_a_delivery_complaint(kind):
    text = analysis(NEG, topics={T.LATE_DELIVERY: 0.8})
    assert reason_of(text, context(alert_kinds=(kind,))) is R.LOGISTICS_PAIN


@pytest.mark.parametrize(
    "status", [S.EXCEPTION, S.ATTEMPT_FAILED, S.RETURNING_TO_SENDER, S.RETURNED_TO_SENDER]
)
def test_a_troubled_status_explains_a_delivery_complaint_without_other_records(status):
    shipment = context(status=status, delivered_at=None, late=None, late_by_hours=None)
    assert reason_of(analysis(NEG, delivery=NEG), shipment) is R.LOGISTICS_PAIN


def test_never_arrived_on_a_parcel_returned_to_sender_is_logistics_pain():
    state = run(order(72), scan(S.RETURNED_TO_SENDER, 40, reason="address_issue"))
    text = analysis(NEG, delivery=NEG, topics={T.NOT_RECEIVED: 0.9})
    assert reason_of(text, shipment_context(state, at(50))) is R.LOGISTICS_PAIN


def test_where_is_my_order_past_the_promise_is_logistics_pain():
    state = run(order(72), scan(S.IN_TRANSIT, 30))
    text = analysis(NEG, topics={T.NOT_RECEIVED: 0.8})
    flag = decide_flag(text, shipment_context(state, at(80)))
    assert flag == FeedbackFlag(R.LOGISTICS_PAIN, Severity.WARNING)
    assert decide_flag(text, shipment_context(state, at(150))).severity is Severity.CRITICAL


@pytest.mark.parametrize("reason", [ExceptionReason.LOST, ExceptionReason.DAMAGED])
def test_a_lost_or_damaged_exception_makes_the_pain_critical(reason):
    text = analysis(NEG, delivery=NEG, topics={T.LATE_DELIVERY: 0.6})
    shipment = context(exceptions=(ExceptionReason.WEATHER_DELAY, reason))
    assert decide_flag(text, shipment).severity is Severity.CRITICAL


@pytest.mark.parametrize(("hours", "severity"), [(72.0, "warning"), (72.01, "critical")])
def test_late_by_more_than_72_hours_makes_the_pain_critical(hours, severity):
    text = analysis(NEG, delivery=NEG)
    shipment = context(late=True, late_by_hours=hours)
    assert decide_flag(text, shipment).severity is Severity(severity)


def test_a_damaged_complaint_about_a_damaged_exception_from_real_scans():
    state = run(
        order(72),
        scan(S.EXCEPTION, 20, reason="damaged"),
        scan(S.IN_TRANSIT, 30),
        scan(S.DELIVERED, 60),  # on time, but broken on the way
    )
    text = analysis(NEG, delivery=NEG, topics={T.DAMAGED: 0.95})
    flag = decide_flag(text, shipment_context(state, at(80)))
    assert flag == FeedbackFlag(R.LOGISTICS_PAIN, Severity.CRITICAL)


# --- decide_flag: unexplained_delivery_complaint ---------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        analysis(NEG, delivery=NEG, topics={T.LATE_DELIVERY: 0.8}),
        analysis(NEG, topics={T.COURIER_BEHAVIOUR: 0.9}),  # left outside in the rain
        analysis(NEU, delivery=NEG),
        analysis(NEG, product=POS, topics={T.WRONG_OR_MISSING_ITEM: 0.7}),
    ],
)
def test_delivery_complaints_with_a_clean_history_are_unexplained(text):
    flag = decide_flag(text, context())
    assert flag == FeedbackFlag(R.UNEXPLAINED_DELIVERY_COMPLAINT, Severity.WARNING)


def test_where_is_my_order_before_the_promise_is_unexplained():
    state = run(order(72), scan(S.IN_TRANSIT, 30))
    shipment = shipment_context(state, at(50))
    for text in (
        analysis(NEG, topics={T.NOT_RECEIVED: 0.8}),
        analysis(NEU, topics={T.NOT_RECEIVED: 0.7}),  # no sentiment word at all
    ):
        assert reason_of(text, shipment) is R.UNEXPLAINED_DELIVERY_COMPLAINT


def test_a_delivery_complaint_on_an_order_not_yet_scanned_is_unexplained():
    shipment = shipment_context(run(order(72)), at(10))
    assert reason_of(analysis(NEG, delivery=NEG), shipment) is R.UNEXPLAINED_DELIVERY_COMPLAINT


def test_the_notifications_sent_are_no_trouble():
    shipment = context(notifications=(NotificationKind.SHIPPED, NotificationKind.DELIVERED))
    assert reason_of(analysis(NEG, delivery=NEG), shipment) is R.UNEXPLAINED_DELIVERY_COMPLAINT


# --- decide_flag: product_issue --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        (analysis(NEG, product=NEG, topics={T.PRODUCT_QUALITY: 0.9}), "info"),
        (analysis(NEU, delivery=POS, product=NEG), "info"),  # fast delivery, poor fabric
        (analysis(POS, product=NEG), "info"),
        (analysis(NEG, topics={T.PRICE: 0.8}), "info"),
        (analysis(NEG, topics={T.PRODUCT_QUALITY: 0.7, T.CUSTOMER_SERVICE: 0.6}), "info"),
        (analysis(NEG, product=NEG, topics={T.RETURN_OR_REFUND: 0.6}), "warning"),
        (analysis(NEG, topics={T.PRODUCT_QUALITY: 0.9, T.RETURN_OR_REFUND: 0.7}), "warning"),
    ],
)
def test_complaints_about_the_product_only_are_product_issues(text, severity):
    assert decide_flag(text, context()) == FeedbackFlag(R.PRODUCT_ISSUE, Severity(severity))


def test_a_product_complaint_on_a_late_parcel_not_blamed_on_delivery_is_a_product_issue():
    text = analysis(NEG, delivery=NEU, product=NEG, topics={T.PRODUCT_QUALITY: 0.8})
    assert reason_of(text, context(**LATE_DELIVERED)) is R.PRODUCT_ISSUE


def test_a_text_negative_about_both_is_about_the_delivery_first():
    text = analysis(NEG, delivery=NEG, product=NEG, topics={T.LATE_DELIVERY: 0.6})
    assert reason_of(text, context(**LATE_DELIVERED)) is R.LOGISTICS_PAIN
    assert reason_of(text, context()) is R.UNEXPLAINED_DELIVERY_COMPLAINT


def test_product_topics_that_do_not_dominate_are_no_product_issue():
    text = analysis(NEG, topics={T.CUSTOMER_SERVICE: 0.9, T.PRICE: 0.5})
    assert reason_of(text, context()) is R.NEUTRAL


# --- decide_flag: recovered and praise -------------------------------------------------------


@pytest.mark.parametrize(
    "history",
    [
        LATE_DELIVERED,
        {"exceptions": (ExceptionReason.WEATHER_DELAY,)},
        {"failed_attempts": 1},
        {"alert_kinds": (AlertKind.MISSED_PROMISE,)},
        {"alert_kinds": (AlertKind.CARRIER_EXCEPTION,)},
    ],
)
def test_positive_feedback_after_a_setback_is_recovered(history):
    text = analysis(POS, delivery=POS, topics={T.CUSTOMER_SERVICE: 0.6})
    assert decide_flag(text, context(**history)) == FeedbackFlag(R.RECOVERED, Severity.INFO)


def test_positive_feedback_on_a_late_parcel_from_real_scans_is_recovered():
    state = run(order(72), scan(S.EXCEPTION, 30, reason="weather_delay"), scan(S.DELIVERED, 90))
    assert reason_of(analysis(POS), shipment_context(state, at(100))) is R.RECOVERED


@pytest.mark.parametrize(
    "shipment",
    [
        context(),
        context(status=S.IN_TRANSIT, delivered_at=None, late=None, late_by_hours=None),
        context(alert_kinds=(AlertKind.DELAY_RISK,)),  # a risk that never came true
        context(promised_by=None, late=None, late_by_hours=None),
    ],
)
def test_positive_feedback_without_a_setback_is_praise(shipment):
    text = analysis(POS, delivery=POS, product=POS, topics={T.PRODUCT_QUALITY: 0.8})
    assert decide_flag(text, shipment) == FeedbackFlag(R.PRAISE, Severity.INFO)


# --- decide_flag: neutral --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        analysis(NEU),
        analysis(NEU, topics={T.LATE_DELIVERY: 0.6}),  # "it came on Tuesday, a bit late"
        analysis(NEG, topics={T.CUSTOMER_SERVICE: 0.8}),  # not about delivery nor product
        analysis(NEU, delivery=POS, product=NEU),
    ],
)
def test_neutral_text_on_a_late_parcel_stays_neutral(text):
    shipment = context(**LATE_DELIVERED, exceptions=(ExceptionReason.CARRIER_DELAY,))
    assert decide_flag(text, shipment) == FeedbackFlag(R.NEUTRAL, Severity.INFO)


# --- decide_flag: properties -----------------------------------------------------------------

_LABELS = st.sampled_from(list(SentimentLabel))
_ASPECTS = st.one_of(st.none(), _LABELS)
_TOPICS = st.dictionaries(st.sampled_from(list(FeedbackTopic)), st.floats(0.05, 1.0), max_size=4)

_ANALYSES = st.builds(
    lambda overall, delivery, product, topics: analysis(
        overall, delivery=delivery, product=product, topics=topics
    ),
    _LABELS,
    _ASPECTS,
    _ASPECTS,
    _TOPICS,
)
_CONTEXTS = st.one_of(
    st.none(),
    st.builds(
        lambda status, late_by, exceptions, attempts, kinds: context(
            status=status,
            late=None if late_by is None else late_by > 0,
            late_by_hours=late_by,
            exceptions=tuple(exceptions),
            failed_attempts=attempts,
            alert_kinds=tuple(sorted(set(kinds))),
        ),
        st.one_of(st.none(), st.sampled_from(list(ShipmentStatus))),
        st.one_of(st.none(), st.floats(0.0, 500.0)),
        st.lists(st.sampled_from(list(ExceptionReason)), max_size=2, unique=True),
        st.integers(0, 3),
        st.lists(st.sampled_from(list(AlertKind)), max_size=3),
    ),
)


def _delivery_negative(text: TextAnalysis) -> bool:
    topics = {item.topic: item.confidence for item in text.topics}
    return (
        (text.delivery_sentiment is not None and text.delivery_sentiment.label is NEG)
        or topics.get(T.NOT_RECEIVED, 0.0) >= 0.5
        or (text.sentiment.label is NEG and bool(DELIVERY_TOPICS & topics.keys()))
    )


@given(_ANALYSES, _CONTEXTS)
def test_every_combination_gets_one_consistent_flag(text, shipment):
    flag = decide_flag(text, shipment)

    assert isinstance(flag.reason, FlagReason) and isinstance(flag.severity, Severity)
    assert (flag.reason is R.UNMATCHED) == (shipment is None)
    assert flag == decide_flag(text, shipment)  # deterministic
    if flag.reason is R.DISPUTED_DELIVERY:
        assert shipment.status is S.DELIVERED and flag.severity is Severity.CRITICAL
    if flag.reason in {R.LOGISTICS_PAIN, R.UNEXPLAINED_DELIVERY_COMPLAINT}:
        assert _delivery_negative(text)
    if flag.reason in {R.PRODUCT_ISSUE, R.RECOVERED, R.PRAISE, R.NEUTRAL} and shipment:
        assert not _delivery_negative(text)
    if flag.reason in {R.RECOVERED, R.PRAISE}:
        assert text.sentiment.label is POS
    if flag.severity is Severity.CRITICAL:
        assert flag.reason in {R.DISPUTED_DELIVERY, R.LOGISTICS_PAIN}


@given(_ANALYSES, _CONTEXTS)
def test_history_decides_between_pain_and_unexplained_never_the_text_alone(text, shipment):
    """A delivery complaint is pain on a troubled shipment and unexplained on a clean one."""
    if decide_flag(text, shipment).reason not in {
        R.LOGISTICS_PAIN,
        R.UNEXPLAINED_DELIVERY_COMPLAINT,
    }:
        return
    on_its_way = {"status": S.IN_TRANSIT, "delivered_at": None}  # nothing to dispute
    clean = context(**on_its_way, late=None, late_by_hours=None)
    troubled = context(**on_its_way, late=True, late_by_hours=5.0)
    assert reason_of(text, clean) is R.UNEXPLAINED_DELIVERY_COMPLAINT
    assert reason_of(text, troubled) is R.LOGISTICS_PAIN


# --- flag_feedback ---------------------------------------------------------------------------


def late_damaged_state() -> ShipmentState:
    return run(
        order(72, destination=BERLIN),
        scan(S.PICKED_UP, 1, location=Location(city="Memphis", region="TN", country="US")),
        scan(S.EXCEPTION, 30, reason="damaged"),
        scan(S.DELIVERED, 100),
    )


def test_flag_feedback_builds_the_whole_event_from_input_analysis_and_state():
    source = feedback()
    text = analysis(NEG, delivery=NEG, product=POS, topics={T.LATE_DELIVERY: 0.9}, language="en")
    state = late_damaged_state()

    flagged = flag_feedback(
        source, text, state, target=TRACKING, now=at(130), analyzer_version="rules-1"
    )

    assert flagged.feedback_id == feedback_id(source, TRACKING)
    assert (flagged.event_id, flagged.order_id) == (source.event_id, source.order_id)
    assert (flagged.customer_id, flagged.channel) == (source.customer_id, source.channel)
    assert (flagged.text, flagged.rating) == (source.text, source.rating)
    assert flagged.received_at == source.received_at
    assert flagged.flagged_at == at(130)
    assert flagged.language == "en"  # detected, not the hint
    assert flagged.sentiment == text.sentiment
    assert flagged.delivery_sentiment == text.delivery_sentiment
    assert flagged.product_sentiment == text.product_sentiment
    assert flagged.topics == text.topics
    assert flagged.tracking_number == TRACKING
    assert flagged.shipment == shipment_context(state, at(130))
    assert flagged.flag == FeedbackFlag(R.LOGISTICS_PAIN, Severity.CRITICAL)
    assert flagged.analyzer_version == "rules-1"


def test_flag_feedback_of_an_unmatched_order_keeps_the_tracking_number_it_was_given():
    source = feedback(tracking_number="1ZUNKNOWN000001")
    flagged = flag_feedback(
        source, analysis(NEG), None, target="A-1001", now=at(300), analyzer_version="rules-1"
    )
    assert flagged.shipment is None
    assert flagged.tracking_number == "1ZUNKNOWN000001"
    assert flagged.feedback_id == feedback_id(source, "A-1001")
    assert flagged.flag == FeedbackFlag(R.UNMATCHED, Severity.WARNING)


def test_flag_feedback_names_the_joined_shipment_over_the_one_the_input_named():
    source = feedback(tracking_number="1ZSOMETHINGELSE")
    flagged = flag_feedback(
        source, analysis(POS), late_damaged_state(), target=TRACKING, now=at(130),
        analyzer_version="rules-1",
    )  # fmt: skip
    assert flagged.tracking_number == TRACKING


def test_flag_feedback_is_deterministic():
    def flagged() -> FlaggedFeedback:
        return flag_feedback(
            feedback(), analysis(POS, topics={T.PRICE: 0.6}), late_damaged_state(),
            target=TRACKING, now=at(130), analyzer_version="model-2026-12-01",
        )  # fmt: skip

    assert flagged() == flagged()
    assert to_jsonable(flagged()) == to_jsonable(flagged())


@pytest.mark.parametrize("matched", [True, False])
def test_every_field_of_the_event_is_present_in_its_json(matched):
    state = late_damaged_state() if matched else None
    flagged = flag_feedback(
        feedback(text=None, rating=1, customer_id=None), analysis(NEG), state,
        target=TRACKING if matched else "A-1001", now=at(130), analyzer_version="rules-1",
    )  # fmt: skip
    encoded = to_jsonable(flagged)
    assert list(encoded) == [field.name for field in dataclasses.fields(FlaggedFeedback)]
    assert set(encoded["flag"]) == {"reason", "severity"}
    if matched:
        assert list(encoded["shipment"]) == [f.name for f in dataclasses.fields(ShipmentContext)]
        assert encoded["shipment"]["alert_kinds"] == ["carrier_exception"]
        assert encoded["shipment"]["exceptions"] == ["damaged"]
        assert encoded["shipment"]["late_by_hours"] == 28.0
    else:
        assert encoded["shipment"] is None


@given(_ANALYSES, st.booleans(), st.sampled_from(list(FeedbackChannel)))
def test_flag_feedback_copies_the_input_whatever_the_text_says(text, matched, channel):
    source = feedback(channel=channel, rating=None)
    state = late_damaged_state() if matched else None
    target = TRACKING if matched else source.order_id
    flagged = flag_feedback(source, text, state, target=target, now=at(130), analyzer_version="v")
    assert (flagged.event_id, flagged.channel, flagged.text) == (
        source.event_id,
        channel,
        source.text,
    )
    assert flagged.flag == decide_flag(text, flagged.shipment)
    assert flagged.topics == text.topics and flagged.language == text.language


# --- tally_of --------------------------------------------------------------------------------


def damaged_parcel_feedback() -> FlaggedFeedback:
    return flag_feedback(
        feedback(), analysis(NEG, topics={T.DAMAGED: 0.9, T.PRICE: 0.6}), late_damaged_state(),
        target=TRACKING, now=at(130), analyzer_version="rules-1",
    )  # fmt: skip


def test_the_tally_counts_the_carrier_the_destination_region_reason_and_topics():
    flagged = damaged_parcel_feedback()
    tally = tally_of(flagged)
    assert tally.feedback_id == flagged.feedback_id
    assert tally.carrier == "ups"
    assert tally.region == "BE"
    assert tally.reason is flagged.flag.reason
    assert tally.topics == (T.DAMAGED, T.PRICE)
    assert tally.received_at == feedback().received_at  # event time picks the window


@pytest.mark.parametrize(
    ("destination", "region"),
    [
        (Place(region="QC", country="CA"), "QC"),
        (Place(country="BR"), "BR"),
        (Place(postal_code="10115"), "unknown"),
        (None, "unknown"),
    ],
)
def test_the_tally_region_is_the_destination_region_else_country_else_unknown(destination, region):
    flagged = replace(damaged_parcel_feedback(), shipment=context(destination=destination))
    assert tally_of(flagged).region == region


def test_an_unmatched_tally_has_an_unknown_carrier_and_region():
    flagged = flag_feedback(
        feedback(), analysis(NEG), None, target="A-1001", now=at(130), analyzer_version="v"
    )
    tally = tally_of(flagged)
    assert (tally.carrier, tally.region, tally.reason) == ("unknown", "unknown", R.UNMATCHED)
    assert tally.topics == ()


def test_a_matched_shipment_without_a_known_carrier_tallies_as_unknown():
    flagged = replace(damaged_parcel_feedback(), shipment=context(carrier=None))
    assert tally_of(flagged).carrier == "unknown"


def test_the_tally_keeps_received_at_in_its_own_offset():
    moment = at(10).astimezone(timezone(timedelta(hours=-3)))
    flagged = replace(damaged_parcel_feedback(), received_at=moment)
    assert tally_of(flagged).received_at.utcoffset() == timedelta(hours=-3)
