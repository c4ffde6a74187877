"""The lookup API's answer: one test per situation a customer asks about, in the answer document
and in the ready-to-send text."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, timedelta
from pathlib import Path

import jsonschema
import pytest

from parcelwatch.schemas.codec import to_jsonable
from parcelwatch.schemas.lookup import Situation
from parcelwatch.schemas.return_parcels import ReturnParcelLink
from parcelwatch.schemas.state import RiskReading, ShipmentState
from parcelwatch.schemas.types import (
    AlertKind,
    Customer,
    ExceptionReason,
    Item,
    Location,
    NotificationChannel,
    NotificationKind,
    PredictedDelivery,
    ShipmentStatus,
)
from parcelwatch.streams.core.alert_rules import alert_id
from parcelwatch.streams.core.answers import build_answer, situation_of
from parcelwatch.streams.core.follow_up import FollowUpPolicy, follow_up
from parcelwatch.streams.core.return_parcels import link_return_parcel
from parcelwatch.streams.core.tracking import apply_event
from parcelwatch.streams.message_templates import load_templates
from parcelwatch.streams.message_templates.answer_files import load_answer_templates
from tests.factories import TRACKING, at, order, scan

S = ShipmentStatus
TEMPLATES = load_answer_templates()
SCHEMA = json.loads(
    (
        Path(__file__).resolve().parents[3] / "schemas" / "json" / "shipment-answer.v1.schema.json"
    ).read_text()
)
MEMPHIS = Location(city="Memphis", region="TN", country="US")


def customer(locale: str | None = "en-GB") -> Customer:
    return Customer("cust-42", locale, "UTC", (NotificationChannel.EMAIL,))


def shipment(*scans, locale: str | None = "en-GB", promised_in_hours: float = 72) -> ShipmentState:
    state = apply_event(None, order(promised_in_hours, customer=customer(locale)), at(0)).state
    for event in scans:
        state = apply_event(state, event, event.occurred_at).state
    return state


def predicted(state: ShipmentState, expected: float, earliest: float, latest: float, risk=0.7):
    window = PredictedDelivery(at(expected), at(earliest), at(latest))
    return replace(state, risk=RiskReading(risk, "m-1", window))


def answer(state: ShipmentState, hours: float):
    document = build_answer(state, at(hours), TEMPLATES, UTC)
    jsonschema.validate(to_jsonable(document), SCHEMA, format_checker=jsonschema.FormatChecker())
    return document


def test_not_shipped_yet_gives_the_promise():
    document = answer(shipment(scan(S.INFO_RECEIVED, 1)), 2)
    assert document.situation is Situation.NOT_SHIPPED
    assert "A-1001 has not been handed to UPS yet" in document.answer
    assert "by Monday 23 November" in document.answer  # T0 is Friday 20 Nov 09:00 UTC; +72 h


def test_an_order_not_shipped_past_its_promise_says_how_late_it_is():
    # Real histories: orders still with the shop after their promised day (the promise is
    # Monday 23 November 09:00 UTC). Asked an hour after: a day late; two days after: two.
    state = shipment(scan(S.INFO_RECEIVED, 1))
    hour_after, days_after = answer(state, 73), answer(state, 72 + 48)
    assert hour_after.situation is days_after.situation is Situation.NOT_SHIPPED
    assert "A-1001 is 1 day late and has not been handed to UPS yet" in hour_after.answer
    assert "is 2 days late" in days_after.answer
    german = answer(shipment(scan(S.INFO_RECEIVED, 1), locale="de-DE"), 72 + 48)
    assert "ist 2 Tage verspätet" in german.answer


def test_an_order_without_any_scan_is_not_shipped_and_has_an_empty_timeline():
    document = answer(shipment(), 1)
    assert document.situation is Situation.NOT_SHIPPED
    assert document.status is None and document.timeline == ()
    assert document.order.order_id == "A-1001" and document.order.items == ()


def test_the_orders_items_are_answered_and_unrecorded_items_are_null():
    items = (Item("SKU-1", 2, "books"), Item("SKU-2", 1))
    state = apply_event(None, order(72, customer=customer(), items=items), at(0)).state
    assert answer(state, 1).order.items == items
    before_items = replace(state, order=replace(state.order, items=None))
    assert answer(before_items, 1).order.items is None


def test_in_transit_on_time_gives_the_models_window_and_the_last_place():
    state = predicted(
        shipment(scan(S.PICKED_UP, 2), scan(S.IN_TRANSIT, 20, location=MEMPHIS)), 49, 48, 52
    )
    document = answer(state, 21)
    assert document.situation is Situation.IN_TRANSIT
    assert document.answer == (
        "Your parcel is with UPS in Memphis and on time: "
        "we expect it on Sunday 22 November between 09:00 and 13:00."
    )
    assert document.prediction is not None and document.prediction.risk == 0.7
    assert [entry.status for entry in document.timeline] == [S.PICKED_UP, S.IN_TRANSIT]


def test_running_late_gives_the_new_window_and_the_days_late():
    state = predicted(
        shipment(scan(S.IN_TRANSIT, 20, location=MEMPHIS)), expected=98, earliest=97, latest=101
    )
    document = answer(state, 21)
    assert document.situation is Situation.RUNNING_LATE
    assert document.answer == (
        "Your parcel is with UPS in Memphis and running 1 day late; "
        "we now expect it on Tuesday 24 November between 10:00 and 14:00."
    )


def test_past_the_promise_without_a_fresh_estimate_is_running_late_without_a_date():
    document = answer(shipment(scan(S.IN_TRANSIT, 20)), 80)
    assert document.situation is Situation.RUNNING_LATE
    assert "running late" in document.answer and "expect it" not in document.answer


def test_out_for_delivery():
    document = answer(shipment(scan(S.OUT_FOR_DELIVERY, 60, location=MEMPHIS)), 61)
    assert document.situation is Situation.OUT_FOR_DELIVERY
    assert "out for delivery with UPS in Memphis" in document.answer


def test_delivered_says_when_and_where():
    document = answer(shipment(scan(S.DELIVERED, 62, location=MEMPHIS)), 70)
    assert document.situation is Situation.DELIVERED
    assert document.answer == "Your parcel was delivered on Sunday 22 November at 23:00 in Memphis."
    assert document.delivered_at == at(62) and document.delivered_location == MEMPHIS
    assert document.next_step is None


def test_failed_attempt_says_what_happens_next():
    failed = scan(S.ATTEMPT_FAILED, 60, reason=ExceptionReason.RECIPIENT_UNAVAILABLE)
    document = answer(shipment(failed), 61)
    assert document.situation is Situation.ATTEMPT_FAILED
    assert "nobody was available to receive it" in document.answer
    assert document.next_step is not None and document.next_step in document.answer
    assert "try again" in document.next_step


def test_exception_gives_the_reason_and_the_next_step():
    held = scan(S.EXCEPTION, 30, reason=ExceptionReason.HELD_FOR_PAYMENT)
    document = answer(shipment(held), 31)
    assert document.situation is Situation.EXCEPTION
    assert "held until duties or fees are paid" in document.answer
    assert "pay the duties" in (document.next_step or "")


def test_returning_and_returned():
    returning = answer(shipment(scan(S.RETURNING_TO_SENDER, 30)), 31)
    returned = answer(shipment(scan(S.RETURNING_TO_SENDER, 30), scan(S.RETURNED_TO_SENDER, 90)), 91)
    assert returning.situation is Situation.RETURNING
    assert "on its way back to us" in returning.answer
    assert returned.situation is Situation.RETURNED
    assert "refund or a new delivery" in returned.answer


def test_a_parcel_going_back_says_why_once():
    # Real carrier payloads (UPS, Shippo) give the reason of a return to sender: it is the
    # customer's answer; without one the words say why such parcels go back, not "back" again.
    address = answer(
        shipment(scan(S.RETURNING_TO_SENDER, 30, reason=ExceptionReason.ADDRESS_ISSUE)), 31
    )
    plain = answer(shipment(scan(S.RETURNING_TO_SENDER, 30)), 31)
    assert address.situation is plain.situation is Situation.RETURNING
    assert "problem with the delivery address" in address.answer
    assert "could not deliver it" in plain.answer
    for text in (address.answer, plain.answer):
        assert "back" not in text.split(":", 1)[1], text


def test_a_lost_scan_and_an_expired_shipment_are_lost():
    lost = answer(shipment(scan(S.EXCEPTION, 30, reason=ExceptionReason.LOST)), 31)
    silent = shipment(scan(S.IN_TRANSIT, 10)).with_episode(AlertKind.EXPIRED, "e-1")
    expired = answer(silent, 400)
    assert lost.situation is Situation.LOST and expired.situation is Situation.LOST
    assert "last news from UPS was on Friday 20 November" in expired.answer
    assert "replacement or a refund" in expired.answer
    assert [(alert.kind, alert.open) for alert in expired.alerts] == [(AlertKind.EXPIRED, True)]


def test_a_delivered_parcel_is_not_lost_even_with_an_old_expired_episode():
    state = shipment(scan(S.DELIVERED, 62)).with_episode(AlertKind.EXPIRED, "e-1")
    assert situation_of(state, at(63)) is Situation.DELIVERED


def test_a_state_stored_before_the_logs_answers_alerts_and_notifications_undated():
    state = shipment(scan(S.IN_TRANSIT, 10)).with_episode(AlertKind.STALLED, "e-1")
    state = state.with_episode(AlertKind.STALLED, None).with_episode(AlertKind.EXPIRED, "e-2")
    state = replace(state, outputs=replace(state.outputs, notified=("order_confirmed", "shipped")))
    document = answer(state, 11)
    assert [(a.kind, a.open, a.raised_at) for a in document.alerts] == [
        (AlertKind.STALLED, False, None),
        (AlertKind.EXPIRED, True, None),
    ]
    # An open episode still names its alert: the id derives from the episode.
    assert document.alerts[0].alert_id is None
    assert document.alerts[1].alert_id == alert_id(TRACKING, AlertKind.EXPIRED, "e-2")
    assert [
        (n.kind, n.milestone, n.sent_at, n.notification_id) for n in document.notifications
    ] == [
        (NotificationKind.ORDER_CONFIRMED, "order_confirmed", None, None),
        (NotificationKind.SHIPPED, "shipped", None, None),
    ]


def test_alerts_and_notifications_are_answered_with_their_times_and_ids():
    state = shipment(locale="en-GB")
    followed = follow_up(state, at(1), FollowUpPolicy(), load_templates(), check_silences=False)
    outcome = apply_event(
        followed.state, scan(S.EXCEPTION, 5, reason=ExceptionReason.DAMAGED), at(6)
    )
    moved = apply_event(outcome.state, scan(S.IN_TRANSIT, 8), at(9)).state  # the episode closes
    (raised,) = outcome.alerts
    (told,) = followed.notifications
    document = answer(moved, 10)
    assert [(a.kind, a.open, a.raised_at, a.occurred_at, a.alert_id) for a in document.alerts] == [
        (AlertKind.CARRIER_EXCEPTION, False, at(6), at(5), raised.alert_id)
    ]
    assert [(n.kind, n.sent_at, n.notification_id) for n in document.notifications] == [
        (NotificationKind.ORDER_CONFIRMED, at(1), told.notification_id)
    ]


@pytest.mark.parametrize(
    ("locale", "wording", "words"),
    [
        ("de-AT", "de", "verspätet sich um 1 Tag"),
        ("fr_CA", "fr", "1\u00a0jour de retard"),
        ("en-US", "en", "running 1 day late"),
        ("ja-JP", "en", "running 1 day late"),  # no Japanese answers: the fallback
        (None, "en", "running 1 day late"),
    ],
)
def test_the_answer_is_in_the_customers_language_with_fallback(locale, wording, words):
    state = predicted(shipment(scan(S.IN_TRANSIT, 20), locale=locale), 98, 97, 101)
    document = answer(state, 21)
    assert document.locale == wording
    assert words in document.answer


@pytest.mark.parametrize("locale", ["en", "de", "fr"])
@pytest.mark.parametrize(
    "scans",
    [
        (),
        (scan(S.IN_TRANSIT, 5),),
        (scan(S.AVAILABLE_FOR_PICKUP, 50),),
        (scan(S.CANCELLED, 5),),
        (scan(S.EXCEPTION, 5, reason=ExceptionReason.DAMAGED),),
    ],
)
def test_every_locale_answers_without_leftover_placeholders(locale, scans):
    document = answer(shipment(*scans, locale=locale), 6 if scans else 1)
    assert "$" not in document.answer and "  " not in document.answer
    assert document.answer.strip() == document.answer


def test_producer_text_in_places_cannot_smuggle_control_characters():
    hostile = Location(city="Mem\x1b[31mphis\u202e")
    document = answer(shipment(scan(S.OUT_FOR_DELIVERY, 60, location=hostile)), 61)
    assert "in Memphis" in document.answer
    assert "\x1b" not in document.answer and "\u202e" not in document.answer


def test_a_window_over_several_days_names_both_days():
    state = predicted(shipment(scan(S.IN_TRANSIT, 20)), 50, 30, 70)
    document = answer(state, 21)
    assert "between Saturday 21 November and Monday 23 November" in document.answer


def test_the_answer_is_stamped_with_its_time_and_has_no_return_of_its_own():
    document = answer(shipment(), 1 + 1 / 60)
    assert document.answered_at == at(1) + timedelta(minutes=1)
    assert document.returns is None and document.tracking_number == TRACKING


def _return_parcel(*statuses_at: tuple[ShipmentStatus, float]) -> ShipmentState:
    """A parcel the order's return label named, then scanned (customer unknown: the order's
    customer lives with the order)."""
    link = ReturnParcelLink("A-1001", "JDRET0001", "dhl_express", 1, at(0))
    linked = link_return_parcel(None, link, at(0))
    assert linked is not None
    state = linked.state
    for status, hours in statuses_at:
        event = scan(status, hours, tracking_number="JDRET0001", location=MEMPHIS)
        state = apply_event(state, event, event.occurred_at).state
    return state


@pytest.mark.parametrize("locale", ["en-GB", "de-DE", "fr-FR"])
def test_a_delivered_return_parcel_is_the_merchants_receipt_in_every_locale(locale):
    returned = _return_parcel((S.PICKED_UP, 2), (S.DELIVERED, 30))
    returned = replace(returned, order=replace(returned.order, customer=customer(locale)))
    sent = shipment(scan(S.PICKED_UP, 2), scan(S.DELIVERED, 30), locale=locale)
    back, out = answer(returned, 40), answer(sent, 40)
    assert back.situation is out.situation is Situation.DELIVERED
    assert back.order.order_id == "A-1001"  # the order it returns
    assert "A-1001" in back.answer and "A-1001" not in out.answer
    assert back.answer != out.answer and back.locale == out.locale == locale[:2]


def test_a_delivered_return_parcel_says_it_reached_us():
    document = answer(_return_parcel((S.PICKED_UP, 2), (S.DELIVERED, 30)), 40)
    # No customer on the parcel (the order holds it): the fallback locale's date.
    expected = "Your return parcel for order A-1001 reached us on Saturday, November 21."
    assert document.answer == expected


def test_a_return_parcel_on_its_way_and_one_not_handed_over_are_told_as_returns():
    moving = answer(_return_parcel((S.PICKED_UP, 2)), 3)
    assert moving.answer == (
        "Your return parcel for order A-1001 is with DHL Express in Memphis on its way back to us."
    )
    waiting = answer(_return_parcel(), 3)
    assert waiting.situation is Situation.NOT_SHIPPED
    assert waiting.answer.startswith("Your return parcel for order A-1001 has not been handed")
    # A situation without a return wording keeps its usual words.
    troubled = answer(_return_parcel((S.PICKED_UP, 2), (S.EXCEPTION, 5)), 6)
    assert troubled.answer.startswith("There is a problem with your parcel")
