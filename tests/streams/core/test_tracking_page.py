"""The customer tracking page, rendered from lookup answers: every situation, the journey's
progress, the timeline on the customer's clock, escaping of hostile carrier data, localisation,
and answers with fields this build does not know."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, tzinfo
from zoneinfo import ZoneInfo

import pytest

from parcelwatch.schemas.codec import to_jsonable
from parcelwatch.schemas.lookup import Situation
from parcelwatch.schemas.state import RiskReading, ShipmentState
from parcelwatch.schemas.types import (
    Customer,
    ExceptionReason,
    Location,
    NotificationChannel,
    PredictedDelivery,
    ShipmentStatus,
)
from parcelwatch.streams.core.answers import build_answer
from parcelwatch.streams.core.tracking import apply_event
from parcelwatch.streams.core.tracking_page import (
    NOTICES,
    render_notice_page,
    render_tracking_page,
)
from parcelwatch.streams.message_templates.answer_files import load_answer_templates
from parcelwatch.streams.message_templates.page_labels import load_page_labels
from tests.factories import TRACKING, at, order, scan
from tests.streams.core.page_reading import PageReading

S = ShipmentStatus
TEMPLATES = load_answer_templates()
WORDS = load_page_labels()
BERLIN = ZoneInfo("Europe/Berlin")
MEMPHIS = Location(city="Memphis", region="TN", country="US")
LOUISVILLE = Location(city="Louisville", region="KY", country="US")


def shipment(*scans, locale: str = "en-GB", zone: str = "Europe/Berlin") -> ShipmentState:
    who = Customer("cust-7", locale, zone, (NotificationChannel.EMAIL,))
    state = apply_event(None, order(72, customer=who), at(0)).state
    for event in scans:
        state = apply_event(state, event, event.occurred_at).state
    return state


def read(state: ShipmentState, hours: float, zone: tzinfo = BERLIN):
    """The answer at T0 + ``hours`` (as JSON, as the worker serves it) and its page, read back."""
    answer = to_jsonable(build_answer(state, at(hours), TEMPLATES, zone))
    page = render_tracking_page(answer, WORDS.for_locale(answer["locale"]), zone)
    return answer, PageReading(page), page


def test_in_transit_shows_status_window_promise_progress_timeline_and_details():
    state = shipment(
        scan(S.PICKED_UP, 2, location=LOUISVILLE), scan(S.IN_TRANSIT, 20, location=MEMPHIS)
    )
    window = PredictedDelivery(at(49), at(48), at(52))  # Sunday 22 Nov, 09:00-13:00 UTC
    state = replace(state, risk=RiskReading(0.1, "m-1", window))
    answer, page, _ = read(state, 21)

    assert page.lang == "en"
    assert page.by_id["status"] == answer["answer"]
    assert "with UPS in Memphis" in page.by_id["status"]
    assert page.by_id["situation"] == "In transit"
    # Berlin is UTC+1 in November: the window and the promise on the customer's clock.
    assert page.by_id["expected"] == "Expected delivery Sunday 22 November, 10:00\u201314:00"
    assert page.by_id["promise"] == "Promised by Monday 23 November"
    assert page.steps == [
        ("Ordered", "done"),
        ("Shipped", "done"),
        ("In transit", "current"),
        ("Out for delivery", "todo"),
        ("Delivered", "todo"),
    ]
    assert page.scans == [  # newest first, local time and place
        "Saturday 21 November, 06:00 In transit Memphis, TN, US",
        "Friday 20 November, 12:00 Picked up by the carrier Louisville, KY, US",
    ]
    assert "Carrier UPS" in page.by_id["details"]
    assert f"Tracking number {TRACKING}" in page.by_id["details"]
    assert "Order A-1001" in page.by_id["details"]


@pytest.mark.parametrize(
    ("service_level", "shown"),
    [("standard_class", "Standard class"), ("same-day", "Same day"), ("2day", "2day")],
)
def test_the_service_level_reads_as_words_not_as_its_id(service_level, shown):
    # Real histories' service levels (DataCo's "Standard Class") arrive as contract slugs.
    state = apply_event(None, order(72, service_level=service_level), at(0)).state
    _, page, _ = read(state, 1)
    assert f"Service {shown} " in page.by_id["details"] + " "
    assert service_level not in page.by_id["details"] or service_level == shown


def test_without_a_zone_each_time_keeps_its_own_offset():
    state = shipment(scan(S.IN_TRANSIT, 20, location=MEMPHIS))
    answer = to_jsonable(build_answer(state, at(21), TEMPLATES, UTC))
    page = PageReading(render_tracking_page(answer, WORDS.for_locale("en")))
    assert page.scans == ["Saturday 21 November, 05:00 In transit Memphis, TN, US"]


SITUATIONS = {
    Situation.NOT_SHIPPED: ((), 1),
    Situation.IN_TRANSIT: ((scan(S.IN_TRANSIT, 5),), 6),
    Situation.RUNNING_LATE: ((scan(S.IN_TRANSIT, 5),), 100),
    Situation.OUT_FOR_DELIVERY: ((scan(S.IN_TRANSIT, 5), scan(S.OUT_FOR_DELIVERY, 30)), 31),
    Situation.AVAILABLE_FOR_PICKUP: ((scan(S.AVAILABLE_FOR_PICKUP, 30, location=MEMPHIS),), 31),
    Situation.DELIVERED: ((scan(S.OUT_FOR_DELIVERY, 30), scan(S.DELIVERED, 33)), 34),
    Situation.ATTEMPT_FAILED: (
        (scan(S.ATTEMPT_FAILED, 33, reason=ExceptionReason.RECIPIENT_UNAVAILABLE),),
        34,
    ),
    Situation.EXCEPTION: (
        (scan(S.IN_TRANSIT, 5), scan(S.EXCEPTION, 20, reason=ExceptionReason.WEATHER_DELAY)),
        21,
    ),
    Situation.RETURNING: ((scan(S.RETURNING_TO_SENDER, 40),), 41),
    Situation.RETURNED: ((scan(S.RETURNED_TO_SENDER, 60),), 61),
    Situation.CANCELLED: ((scan(S.CANCELLED, 3),), 4),
    Situation.LOST: ((scan(S.EXCEPTION, 20, reason=ExceptionReason.LOST),), 21),
}
# (step shown with a mark, its state) per situation: where the parcel stands on the bar.
MARKED = {
    Situation.NOT_SHIPPED: ("Ordered", "current"),
    Situation.IN_TRANSIT: ("In transit", "current"),
    Situation.RUNNING_LATE: ("In transit", "current"),
    Situation.OUT_FOR_DELIVERY: ("Out for delivery", "current"),
    Situation.AVAILABLE_FOR_PICKUP: ("Ready to collect", "current"),
    Situation.DELIVERED: ("Delivered", "done"),
    Situation.ATTEMPT_FAILED: ("Delivery attempt failed", "problem"),
    Situation.EXCEPTION: ("Problem", "problem"),
    Situation.RETURNING: ("Returning", "current"),
    Situation.RETURNED: ("Returned", "current"),
    Situation.CANCELLED: ("Cancelled", "problem"),
    Situation.LOST: ("Lost", "problem"),
}


def test_every_situation_is_covered_here():
    assert set(SITUATIONS) == set(Situation) == set(MARKED)


@pytest.mark.parametrize("situation", list(Situation), ids=str)
def test_every_situation_renders_its_status_line_badge_and_progress(situation):
    scans, hours = SITUATIONS[situation]
    answer, page, _ = read(shipment(*scans), hours)
    assert answer["situation"] == situation.value
    assert page.by_id["status"] == answer["answer"]
    assert page.by_id["situation"] == WORDS.for_locale("en").steps[situation.value]
    assert MARKED[situation] in page.steps
    assert len(page.scans) == len(scans)
    if answer["next_step"]:
        assert page.by_id["next-step"] == f"What you can do {answer['next_step']}"
    else:
        assert "next-step" not in page.by_id


def test_a_failed_attempt_names_its_reason_in_the_timeline():
    scans, hours = SITUATIONS[Situation.ATTEMPT_FAILED]
    _, page, _ = read(shipment(*scans), hours)
    assert page.scans == [
        "Saturday 21 November, 19:00 Delivery attempt failed Nobody was available to receive it"
    ]
    assert page.steps[:3] == [("Ordered", "done"), ("Shipped", "done"), ("In transit", "done")]


def test_a_delivered_parcel_shows_when_instead_of_a_window():
    scans, hours = SITUATIONS[Situation.DELIVERED]
    _, page, _ = read(shipment(*scans), hours)
    assert page.by_id["delivered"] == "Delivered Saturday 21 November, 19:00"
    assert "expected" not in page.by_id and "promise" not in page.by_id
    assert all(state == "done" for _, state in page.steps)


def test_a_hostile_carrier_location_is_escaped_everywhere():
    hostile = Location(
        city='<script>alert("x")</script>', region='"><img src=x onerror=alert(1)>', country="US"
    )
    state = shipment(scan(S.IN_TRANSIT, 20, location=hostile))
    answer, page, text = read(state, 21)
    assert "script" not in page.tags and "img" not in page.tags
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert page.by_id["status"] == answer["answer"]  # shown as text, exactly
    assert '<script>alert("x")</script>' in page.scans[0]


def test_control_and_bidirectional_characters_never_reach_the_page():
    state = shipment(scan(S.IN_TRANSIT, 20, location=Location(city="Mem\u202ephis\x1b[31m")))
    _, _, text = read(state, 21)
    assert "\u202e" not in text and "\x1b" not in text


@pytest.mark.parametrize(
    ("locale", "lang", "history", "date"),
    [
        ("de-DE", "de", "Sendungsverlauf", "Samstag, 21. November, 06:00"),
        ("fr-FR", "fr", "Historique du suivi", "samedi 21 novembre, 06:00"),
        ("pt-BR", "en", "Tracking history", "Saturday, November 21, 6:00 AM"),
    ],
)
def test_the_page_speaks_the_answers_language(locale, lang, history, date):
    state = shipment(scan(S.IN_TRANSIT, 20, location=MEMPHIS), locale=locale)
    answer, page, _ = read(state, 21)
    assert page.lang == lang == answer["locale"]
    assert page.by_id["history"].startswith(history)
    assert page.scans[0].startswith(date)
    assert page.by_id["status"] == answer["answer"]


def test_fields_this_build_does_not_know_are_ignored_and_returns_and_items_shown():
    answer, _, _ = read(shipment(scan(S.DELIVERED, 33)), 34)
    answer = {
        **answer,
        "order": {**answer["order"], "items": [{"sku": "MUG-1", "quantity": 2}]},
        "returns": {
            "status": "refund_issued",
            "return_tracking_number": "1ZBACK0001",
            "refund_amount": "19.90",
            "refund_currency": "EUR",
            "answer": "We refunded €19.90 to your original payment method on 3 December.",
        },
        "something_new": {"nested": ["<b>"]},
    }
    page = PageReading(render_tracking_page(answer, WORDS.for_locale("en"), BERLIN))
    assert page.by_id["returns"] == (
        "Your return We refunded €19.90 to your original payment method on 3 December. "
        "Return tracking number 1ZBACK0001 Refund €19.90"
    )
    assert "Items 2 \u00d7 MUG-1" in page.by_id["details"]


def test_a_sparse_answer_still_renders():
    sparse = {"answer": "Your parcel is on its way.", "locale": "en", "situation": "later_kind"}
    page = PageReading(render_tracking_page(sparse, WORDS.for_locale("en")))
    assert page.by_id["status"] == "Your parcel is on its way."
    assert page.by_id["history"] == "Tracking history No news from the carrier yet."
    assert "situation" not in page.by_id  # no badge for a situation this build does not know


def test_the_answer_object_and_its_json_render_alike():
    state = shipment(scan(S.IN_TRANSIT, 20, location=MEMPHIS))
    document = build_answer(state, at(21), TEMPLATES, BERLIN)
    labels = WORDS.for_locale("en")
    assert render_tracking_page(document, labels, BERLIN) == render_tracking_page(
        to_jsonable(document), labels, BERLIN
    )


@pytest.mark.parametrize("notice", NOTICES)
@pytest.mark.parametrize("locale", ["en", "de", "fr"])
def test_a_notice_page_is_a_fixed_sentence_in_the_browsers_language(notice, locale):
    labels = WORDS.for_locale(locale)
    page = PageReading(render_notice_page(labels, notice))
    assert page.lang == locale
    assert page.by_id["status"] == labels.labels[notice]
