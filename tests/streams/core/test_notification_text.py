"""Rendering notifications from the template files, and checking those files when they load."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from parcelwatch.schemas.state import RiskReading, ShipmentState
from parcelwatch.schemas.types import (
    RETURN_NOTIFICATION_KINDS,
    AlertKind,
    Customer,
    EstimateSource,
    ExceptionReason,
    Location,
    NotificationChannel,
    NotificationKind,
    PredictedDelivery,
    ShipmentStatus,
)
from parcelwatch.streams.core.local_time import customer_zone
from parcelwatch.streams.core.notification_text import (
    Templates,
    customer_text,
    notification_id,
    render_notification,
)
from parcelwatch.streams.core.notifications import Milestone
from parcelwatch.streams.core.tracking import apply_event
from parcelwatch.streams.message_templates import BUILT_IN, TemplateError, load_templates
from tests.factories import TRACKING, at, order, scan

K = NotificationKind
S = ShipmentStatus
TEMPLATES = load_templates()
BUILT_IN_LOCALES = sorted(path.stem for path in BUILT_IN.glob("*.json"))
BERLIN = ZoneInfo("Europe/Berlin")


def customer(locale: str | None = "en-GB", timezone: str | None = "UTC") -> Customer:
    return Customer("cust-42", locale, timezone, (NotificationChannel.EMAIL,))


def shipment(*scans, who: Customer | None = None, promised_in_hours: float = 72) -> ShipmentState:
    state = apply_event(None, order(promised_in_hours, customer=who or customer()), at(0)).state
    for event in scans:
        state = apply_event(state, event, event.occurred_at).state
    return state


def render(kind: NotificationKind, state: ShipmentState, *, alert_kind=None, zone=UTC):
    milestone = Milestone(kind, f"{kind.value}/test", at(50), "alert-1", alert_kind)
    return render_notification(milestone, state, at(51), TEMPLATES, zone)


# --- choosing the locale ---------------------------------------------------------------------


def test_built_in_templates_include_english_and_german():
    assert {"en", "de", "fr"} <= set(TEMPLATES.by_locale)
    assert TEMPLATES.fallback == "en"


@pytest.mark.parametrize(
    ("locale", "chosen"),
    [
        ("de", "de"),
        ("de-AT", "de"),
        ("de_AT", "de"),
        ("DE-de", "de"),
        ("en-GB", "en"),
        ("fr-CA", "fr"),
        ("pt-BR", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_for_locale_falls_back_from_region_to_language_to_english(locale, chosen):
    assert TEMPLATES.for_locale(locale).locale == chosen


def test_for_locale_prefers_an_exact_regional_template():
    german = TEMPLATES.by_locale["de"]
    austrian = replace(german, locale="de-at")
    templates = Templates({"en": TEMPLATES.by_locale["en"], "de": german, "de-at": austrian})
    assert templates.for_locale("de-AT") is austrian
    assert templates.for_locale("de-CH") is german


# --- every template renders ------------------------------------------------------------------


def rich_state(locale: str, *, dated: bool) -> ShipmentState:
    """A shipment with every value a template may ask for (no expected date unless ``dated``)."""
    state = shipment(
        scan(S.AVAILABLE_FOR_PICKUP, 30, reason="recipient_unavailable"),
        scan(S.DELIVERED, 40),
        who=customer(locale, "Europe/Berlin"),
    )
    return state if dated else replace(state, order=replace(state.order, promised_by=None))


@pytest.mark.parametrize("dated", [True, False], ids=["dated", "undated"])
@pytest.mark.parametrize(
    "kind", [kind for kind in NotificationKind if kind not in RETURN_NOTIFICATION_KINDS]
)
@pytest.mark.parametrize("locale", BUILT_IN_LOCALES)
def test_every_built_in_template_renders_every_kind_completely(locale, kind, dated):
    notification = render(kind, rich_state(locale, dated=dated), zone=BERLIN)
    assert notification.locale == locale
    assert notification.kind is kind
    assert "$" not in notification.message
    assert "A-1001" in notification.message
    assert notification.message[-1] in ".!?"  # nothing left dangling at the end


# --- the words -------------------------------------------------------------------------------


def test_shipped_message_in_english_names_carrier_tracking_number_and_promise():
    notification = render(K.SHIPPED, shipment(scan(S.PICKED_UP, 5)))
    assert notification.message == (
        "Your order A-1001 is on its way with UPS (tracking number 1ZTEST0000000001). "
        "Expected Monday 23 November."
    )
    assert notification.expected_delivery == at(72)
    assert notification.expected_delivery_source is EstimateSource.PROMISE


def test_german_dates_use_german_weekday_and_month_names():
    state = shipment(scan(S.DELIVERED, 0), who=customer("de-DE", "Europe/Berlin"))
    notification = render(K.DELIVERED, state, zone=customer_zone(state))
    assert notification.locale == "de"
    assert notification.message == (
        "Ihre Bestellung A-1001 wurde am Freitag, 20. November um 10:00 zugestellt. "
        "Viel Freude damit!"
    )


def test_dates_are_given_in_the_customers_time_zone():
    late_evening = scan(S.DELIVERED, 14.5)  # 23:30 UTC on Friday, 00:30 on Saturday in Berlin
    in_berlin = shipment(late_evening, who=customer("de", "Europe/Berlin"))
    in_utc = shipment(late_evening, who=customer("de", "UTC"))
    berlin = render(K.DELIVERED, in_berlin, zone=customer_zone(in_berlin))
    utc = render(K.DELIVERED, in_utc, zone=customer_zone(in_utc))
    assert "am Samstag, 21. November um 00:30 zugestellt" in berlin.message
    assert "am Freitag, 20. November um 23:30 zugestellt" in utc.message


def test_expected_date_prefers_the_carrier_then_the_model_then_the_promise():
    state = shipment(scan(S.IN_TRANSIT, 5, estimated_delivery=at(60)))
    model = PredictedDelivery(at(80), at(70), at(90))
    no_carrier_estimate = replace(state.tracking, estimated_delivery=None)
    by_carrier = render(K.SHIPPED, replace(state, risk=RiskReading(predicted_delivery=model)))
    by_model = render(
        K.SHIPPED,
        replace(state, tracking=no_carrier_estimate, risk=RiskReading(predicted_delivery=model)),
    )
    by_promise = render(K.SHIPPED, replace(state, tracking=no_carrier_estimate))
    assert (by_carrier.expected_delivery, by_carrier.expected_delivery_source) == (
        at(60),
        EstimateSource.CARRIER,
    )
    assert (by_model.expected_delivery, by_model.expected_delivery_source) == (
        at(80),
        EstimateSource.MODEL,
    )
    assert (by_promise.expected_delivery, by_promise.expected_delivery_source) == (
        at(72),
        EstimateSource.PROMISE,
    )


def test_delay_never_quotes_the_promise_it_is_missing():
    state = shipment(scan(S.IN_TRANSIT, 80), promised_in_hours=72)
    without_estimate = render(K.DELAYED, state)
    with_model = render(
        K.DELAYED,
        replace(
            state, risk=RiskReading(predicted_delivery=PredictedDelivery(at(96), at(90), at(110)))
        ),
    )
    assert without_estimate.expected_delivery is None
    assert without_estimate.message == (
        "Your order A-1001 is running late. We are keeping an eye on it and will tell you as "
        "soon as it moves."
    )
    assert with_model.expected_delivery_source is EstimateSource.MODEL
    assert "it is now expected Tuesday 24 November" in with_model.message


def test_failed_attempt_explains_the_reason_and_the_next_step():
    state = shipment(scan(S.ATTEMPT_FAILED, 44, reason="address_issue"))
    notification = render(K.ATTEMPT_FAILED, state, alert_kind=AlertKind.ATTEMPT_FAILED)
    assert notification.message == (
        "UPS could not deliver your order A-1001: the carrier has a problem with the delivery "
        "address. Please check your delivery address with the carrier or reply to this message."
    )
    assert notification.reason is ExceptionReason.ADDRESS_ISSUE
    assert notification.next_step.startswith("Please check your delivery address")
    assert notification.expected_delivery is not None


def test_failed_attempt_without_a_reason_uses_the_generic_words():
    state = shipment(scan(S.ATTEMPT_FAILED, 44))
    notification = render(K.ATTEMPT_FAILED, state, alert_kind=AlertKind.ATTEMPT_FAILED)
    assert notification.message == (
        "UPS could not deliver your order A-1001: the carrier reported a problem. "
        "The carrier will try again or leave a note on where to collect it."
    )
    assert notification.reason is None


def test_return_to_sender_is_explained_as_coming_back():
    state = shipment(scan(S.RETURNING_TO_SENDER, 30, reason="refused"))
    notification = render(K.EXCEPTION, state, alert_kind=AlertKind.RETURNED)
    assert notification.message == (
        "There is a problem with your order A-1001: it is being sent back to us. "
        "We will contact you about a refund or a new delivery."
    )


def test_pickup_notification_names_the_pickup_place_from_the_scan():
    place = Location(city="Berlin", postal_code="10115", country="DE")
    state = shipment(scan(S.AVAILABLE_FOR_PICKUP, 30, location=place))
    notification = render(K.AVAILABLE_FOR_PICKUP, state)
    assert notification.message == (
        "Your order A-1001 is ready to collect at 10115 Berlin. "
        "Please bring your tracking number and an ID."
    )
    assert notification.pickup_location == place
    assert notification.expected_delivery is None


def test_pickup_notification_without_a_location_says_the_pickup_point():
    state = shipment(scan(S.AVAILABLE_FOR_PICKUP, 30), who=customer("de-AT"))
    notification = render(K.AVAILABLE_FOR_PICKUP, state)
    assert "liegt zur Abholung bereit bei der Abholstelle." in notification.message
    assert notification.pickup_location is None


def test_notification_carries_the_milestone_and_shipment_facts():
    state = shipment(scan(S.PICKED_UP, 5))
    milestone = Milestone(K.SHIPPED, "shipped", at(5))
    notification = render_notification(milestone, state, at(6), TEMPLATES, UTC)
    assert notification.notification_id == notification_id(TRACKING, "shipped")
    assert notification.tracking_number == TRACKING
    assert notification.order_id == "A-1001"
    assert notification.customer == customer()
    assert notification.carrier == "ups"
    assert notification.status is S.PICKED_UP
    assert notification.created_at == at(6)
    assert notification.occurred_at == at(5)
    assert notification.promised_by == at(72)
    assert notification.alert_id is None


def test_notification_id_depends_only_on_shipment_and_milestone_key():
    assert notification_id(TRACKING, "shipped") == notification_id(TRACKING, "shipped")
    assert notification_id(TRACKING, "shipped") != notification_id(TRACKING, "delivered")
    assert notification_id(TRACKING, "shipped") != notification_id("OTHER123", "shipped")


# --- CLDR conventions of the customer's region -----------------------------------------------


def in_january(locale: str, timezone: str) -> ShipmentState:
    """Shipped, with the carrier expecting it on Monday 4 January 2027 (12:00 UTC)."""
    state = shipment(scan(S.PICKED_UP, 5), who=customer(locale, timezone))
    estimate = datetime(2027, 1, 4, 12, tzinfo=UTC)
    return replace(state, tracking=replace(state.tracking, estimated_delivery=estimate))


@pytest.mark.parametrize(
    ("locale", "timezone", "delivered", "shipped"),
    [
        (
            "en-GB",
            "Europe/London",
            "Your order A-1001 was delivered on Friday 20 November at 09:00. Enjoy!",
            "Expected Monday 4 January.",
        ),
        (
            "en-US",
            "America/New_York",
            "Your order A-1001 was delivered on Friday, November 20 at 4:00\u202fAM. Enjoy!",
            "Expected Monday, January 4.",
        ),
        (
            "de-AT",
            "Europe/Vienna",
            "Ihre Bestellung A-1001 wurde am Freitag, 20. November um 10:00 zugestellt. "
            "Viel Freude damit!",
            "Voraussichtliche Zustellung: Montag, 4. Jänner.",
        ),
        (
            "fr-CA",
            "America/Toronto",
            "Votre commande A-1001 a été livrée le vendredi 20 novembre à 04 h 00. "
            "Bonne découverte !",
            "Livraison prévue le lundi 4 janvier.",
        ),
        (  # no Portuguese wording: English, with English conventions rather than a mix
            "pt-BR",
            "America/Sao_Paulo",
            "Your order A-1001 was delivered on Friday, November 20 at 6:00\u202fAM. Enjoy!",
            "Expected Monday, January 4.",
        ),
    ],
)
def test_dates_and_times_follow_the_customers_regional_conventions(
    locale, timezone, delivered, shipped
):
    state = shipment(scan(S.DELIVERED, 0), who=customer(locale, timezone))
    assert render(K.DELIVERED, state, zone=customer_zone(state)).message == delivered
    state = in_january(locale, timezone)
    assert render(K.SHIPPED, state, zone=customer_zone(state)).message.endswith(shipped)


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        (
            "en-GB",
            "Your order A-1001 is running late: it is now expected Wednesday 25 November, "
            "2 days after the promised date. We are keeping an eye on it.",
        ),
        (
            "de-DE",
            "Ihre Bestellung A-1001 verspätet sich: Neue voraussichtliche Zustellung Mittwoch, "
            "25. November, 2 Tage nach dem zugesagten Termin. Wir behalten sie im Blick.",
        ),
        (  # CLDR's no-break space between the number and its unit survives the spacing
            "fr-CA",
            "Votre commande A-1001 a du retard : elle est désormais attendue le mercredi "
            "25 novembre, soit 2\u00a0jours après la date promise. Nous la suivons de près.",
        ),
    ],
)
def test_delay_says_how_many_days_past_the_promise_in_the_locales_plural(locale, message):
    state = shipment(scan(S.IN_TRANSIT, 80), who=customer(locale, "Europe/Berlin"))
    model = PredictedDelivery(at(120), at(90), at(130))  # Wednesday; the promise was Monday
    state = replace(state, risk=replace(state.risk, predicted_delivery=model))
    notification = render(K.DELAYED, state, zone=customer_zone(state))
    assert notification.message == message


def test_one_day_late_is_singular():
    state = shipment(scan(S.IN_TRANSIT, 80))
    predicted = PredictedDelivery(at(96), at(90), at(110))
    state = replace(state, risk=replace(state.risk, predicted_delivery=predicted))
    assert "Tuesday 24 November, 1 day after the promised date." in render(K.DELAYED, state).message


def test_a_new_date_on_the_promised_day_is_not_called_days_late():
    state = shipment(scan(S.IN_TRANSIT, 73), promised_in_hours=72)  # promised Monday 09:00
    predicted = PredictedDelivery(at(80), at(75), at(85))
    state = replace(state, risk=replace(state.risk, predicted_delivery=predicted))
    assert render(K.DELAYED, state).message == (
        "Your order A-1001 is running late: it is now expected Monday 23 November. "
        "We are keeping an eye on it."
    )


def test_german_expected_date_is_localised_in_the_customers_zone():
    state = shipment(scan(S.IN_TRANSIT, 5), who=customer("de", "Europe/Berlin"))
    model = PredictedDelivery(at(62), at(60), at(70))  # Sunday 23:00 UTC, Monday 00:00 Berlin
    notification = render(
        K.DELAYED,
        replace(state, risk=RiskReading(predicted_delivery=model)),
        zone=customer_zone(state),
    )
    assert "Neue voraussichtliche Zustellung Montag, 23. November." in notification.message
    assert notification.expected_delivery == at(62)


# --- loading and checking template files -----------------------------------------------------


def template_dir(tmp_path: Path, **changes) -> Path:
    """A copy of the built-in en.json in ``tmp_path``, with ``changes`` applied to its JSON."""
    data = json.loads((BUILT_IN / "en.json").read_text(encoding="utf-8"))
    for name, change in changes.items():
        if callable(change):
            change(data)  # an edit in place
        else:
            data[name] = change  # a replaced top-level value
    (tmp_path / "en.json").write_text(json.dumps(data), encoding="utf-8")
    return tmp_path


def test_a_copy_of_the_english_templates_loads(tmp_path):
    templates = load_templates(template_dir(tmp_path))
    assert list(templates.by_locale) == ["en"]
    assert templates.for_locale("de").locale == "en"


def test_missing_message_kind_is_named(tmp_path):
    folder = template_dir(tmp_path, drop=lambda data: data["messages"].pop("review_request"))
    with pytest.raises(TemplateError, match=r"en\.json: messages missing \['review_request'\]"):
        load_templates(folder)


def test_unknown_placeholder_is_named_with_the_allowed_ones(tmp_path):
    def misspell(data):
        data["messages"]["shipped"] = "Hello $name, your order $order_id has shipped."

    with pytest.raises(TemplateError) as error:
        load_templates(template_dir(tmp_path, edit=misspell))
    message = str(error.value)
    assert "messages.shipped: unknown placeholders ['name']" in message
    assert "'order_id'" in message and "'tracking_number'" in message


def test_file_named_differently_from_its_locale_is_rejected(tmp_path):
    shutil.copy(BUILT_IN / "en.json", tmp_path / "en.json")
    shutil.copy(BUILT_IN / "en.json", tmp_path / "fr.json")
    with pytest.raises(TemplateError, match=r"fr\.json: says locale 'en'; name the file en\.json"):
        load_templates(tmp_path)


def test_folder_without_english_fallback_is_rejected(tmp_path):
    shutil.copy(BUILT_IN / "de.json", tmp_path / "de.json")
    with pytest.raises(TemplateError, match=r"no en\.json, the fallback locale"):
        load_templates(tmp_path)


def test_file_that_is_not_json_is_rejected(tmp_path):
    (tmp_path / "en.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"en\.json: "):
        load_templates(tmp_path)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"add": lambda data: data["messages"].update(lost="$order_id")}, r"unknown \['lost'\]"),
        (
            {"edit": lambda data: data["messages"].update(shipped="Your ${order_id is here")},
            r"messages\.shipped: invalid placeholder syntax",
        ),
        (
            {"drop": lambda data: data["reasons"].pop("customs_delay")},
            r"reasons missing \['customs_delay'\]",
        ),
        (
            {"months": ["January"] * 12},
            r"remove \['months'\]: month names now come from CLDR",
        ),
        (
            {"edit": lambda data: data["messages"].update(shipped="Late by $days_late.")},
            r"messages\.shipped: unknown placeholders \['days_late'\]",
        ),
        ({"locale": "  "}, r"'locale' must be a non-empty string"),
    ],
    ids=[
        "unknown_kind",
        "bad_syntax",
        "missing_reason",
        "obsolete_months",
        "days_late_outside_its_variant",
        "blank_locale",
    ],
)
def test_other_unusable_files_are_rejected_naming_the_problem(tmp_path, change, problem):
    with pytest.raises(TemplateError, match=r"en\.json: .*" + problem):
        load_templates(template_dir(tmp_path, **change))


def test_a_locale_that_cldr_does_not_know_is_rejected(tmp_path):
    (template_dir(tmp_path, locale="xx") / "en.json").rename(tmp_path / "xx.json")
    with pytest.raises(TemplateError, match=r"xx\.json: no CLDR data for locale 'xx'"):
        load_templates(tmp_path)


def test_a_days_late_variant_of_any_kind_is_accepted_and_used(tmp_path):
    def add_variant(data):
        data["messages"]["shipped.days_late"] = "$order_id: $expected_date, $days_late late."

    templates = load_templates(template_dir(tmp_path, edit=add_variant))
    state = shipment(scan(S.IN_TRANSIT, 5, estimated_delivery=at(120)), promised_in_hours=72)
    milestone = Milestone(K.SHIPPED, "shipped", at(5))
    notification = render_notification(milestone, state, at(6), templates, UTC)
    assert notification.message == "A-1001: Wednesday 25 November, 2 days late."


# --- customer-safe text ----------------------------------------------------------------------

UNSAFE = [
    "\x00", "\x07", "\x08", "\x1b", "\x7f", "\x85", "\x9b",  # category Cc, C0 and C1
    "\u061c", "\u200e", "\u200f",  # bidi marks
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # embeddings and overrides
    "\u2066", "\u2067", "\u2068", "\u2069",  # isolates
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("A-1001", "A-1001"),
        ("A-\x1b[31;1mRED\x1b[0m", "A-RED"),  # colours
        ("\x1b[2J\x1b[HA-1", "A-1"),  # clear screen, cursor home
        ("\x1b]8;;https://evil.example\x07click\x1b]8;;\x07", "click"),  # OSC 8 hyperlink
        ("\x1b]0;title\x1b\\A-1", "A-1"),  # OSC ended by ST
        ("\x1bP1$r\x1b\\A-1", "A-1"),  # DCS
        ("\x9b31mA-1", "A-1"),  # 8-bit CSI
        ("\x1b", ""),  # a lone escape
        ("A-\u202e1001\u202c", "A-1001"),  # "Trojan Source" override
        ("\u2067abc\u2069 \u200fx\u200e\u061c", "abc x"),
        ("nul\x00in the middle", "nulin the middle"),
        ("two\nlines\tand\rtabs", "two lines and tabs"),
        ("Zürich 東京 القاهرة 😀 €", "Zürich 東京 القاهرة 😀 €"),  # printable text is kept
        ("\u200d\u00ad", "\u200d\u00ad"),  # joiners and soft hyphens are not controls
    ],
)
def test_customer_text_removes_escapes_controls_and_bidi_characters(text, clean):
    assert customer_text(text) == clean


@pytest.mark.parametrize("unsafe", UNSAFE)
def test_customer_text_removes_every_unsafe_character(unsafe):
    cleaned = customer_text(f"a{unsafe}b{unsafe}")  # "\x1bb" is itself an escape sequence
    assert cleaned in ("ab", "a b ", "a")


def test_a_hostile_order_id_never_reaches_the_customers_message():
    hostile = "A-\x1b[31m1001\u202e\x00\x1b]8;;https://evil.example\x07x"
    state = shipment(scan(S.PICKED_UP, 5))
    state = replace(state, order=replace(state.order, order_id=hostile))
    for locale in BUILT_IN_LOCALES:
        who = customer(locale, "Europe/Berlin")
        notification = render(K.SHIPPED, replace(state, order=replace(state.order, customer=who)))
        assert "A-1001x" in notification.message
        assert not any(char in notification.message for char in UNSAFE), notification.message
        assert notification.order_id == hostile  # the field is data: the shop's own id, verbatim


def test_a_hostile_pickup_place_is_cleaned_in_the_message_and_the_location():
    place = Location(city="Ber\u202elin\x1b[5m", postal_code="10\x00115", country="DE")
    state = shipment(scan(S.AVAILABLE_FOR_PICKUP, 30, location=place))
    notification = render(K.AVAILABLE_FOR_PICKUP, state)
    assert "at 10115 Berlin." in notification.message
    assert notification.pickup_location == Location("Berlin", None, "10115", "DE")


def test_a_date_beyond_what_the_customers_zone_can_show_does_not_fail_the_message():
    # The decoder refuses such dates; rendering must not fail should one reach it anyway.
    end_of_time = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    state = shipment(scan(S.IN_TRANSIT, 5))
    state = replace(state, tracking=replace(state.tracking, estimated_delivery=end_of_time))
    notification = render(K.SHIPPED, state, zone=ZoneInfo("Pacific/Kiritimati"))
    assert "31 December" in notification.message
