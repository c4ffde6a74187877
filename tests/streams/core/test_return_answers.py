"""An order's return in the lookup API's answer: the status a customer recognises, the refund's due
date, and a ready-to-send sentence in en, de and fr."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

from parcelwatch.schemas.codec import to_jsonable
from parcelwatch.schemas.lookup import ReturnStatus
from parcelwatch.schemas.returns import RefundMethod, ReturnEventType
from parcelwatch.streams.core.return_answers import build_return_answer, return_status
from parcelwatch.streams.core.returns import ReturnPolicy, ReturnState
from parcelwatch.streams.message_templates.answer_files import load_answer_templates
from tests.streams.core.test_returns import at, event, parcel_scan, run

T = ReturnEventType
TEMPLATES = load_answer_templates()
RETURNS_SCHEMA = json.loads(
    (
        Path(__file__).resolve().parents[3] / "schemas" / "json" / "shipment-answer.v1.schema.json"
    ).read_text()
)["properties"]["returns"]
# MONDAY (16 Nov 2026, 09:00 UTC) + 25 h: the return arrives on Tuesday 17 November; five
# business days later is Tuesday 24 November.
REQUESTED = event(T.RETURN_REQUESTED, 0)
LABEL = event(T.RETURN_LABEL_CREATED, 2)
MOVING = parcel_scan("in_transit", 5)
ARRIVED = parcel_scan("delivered", 25)
REFUNDED = event(T.REFUND_ISSUED, 49)  # Wednesday 18 November
FAILED = event(T.REFUND_FAILED, 50)
CANCELLED = event(T.RETURN_CANCELLED, 3)

STAGES = {
    ReturnStatus.REQUESTED: (REQUESTED,),
    ReturnStatus.LABEL_READY: (REQUESTED, LABEL),
    ReturnStatus.IN_TRANSIT: (REQUESTED, LABEL, MOVING),
    ReturnStatus.RECEIVED: (REQUESTED, LABEL, MOVING, ARRIVED),
    ReturnStatus.REFUND_ISSUED: (REQUESTED, LABEL, MOVING, ARRIVED, REFUNDED),
    ReturnStatus.REFUND_FAILED: (REQUESTED, LABEL, MOVING, ARRIVED, REFUNDED, FAILED),
    ReturnStatus.CANCELLED: (REQUESTED, LABEL, CANCELLED),
}


def answered(state: ReturnState, hours: float, locale: str | None = "en-GB", policy=None):
    document = build_return_answer(state, at(hours), TEMPLATES, policy or ReturnPolicy(), locale)
    jsonschema.validate(
        to_jsonable(document), RETURNS_SCHEMA, format_checker=jsonschema.FormatChecker()
    )
    return document


@pytest.mark.parametrize("status", list(ReturnStatus))
def test_every_stage_has_its_status(status):
    state, _ = run(*STAGES[status])
    assert return_status(state) is status


def test_a_refund_issued_after_a_failure_is_issued():
    state, _ = run(REQUESTED, LABEL, ARRIVED, FAILED, event(T.REFUND_ISSUED, 60))
    assert return_status(state) is ReturnStatus.REFUND_ISSUED


def test_a_return_requested_again_after_a_cancellation_is_open_again():
    state, _ = run(REQUESTED, CANCELLED, event(T.RETURN_LABEL_CREATED, 4))
    assert return_status(state) is ReturnStatus.LABEL_READY


def test_a_received_return_says_when_the_refund_is_due():
    state, _ = run(*STAGES[ReturnStatus.RECEIVED])
    document = answered(state, 30)
    assert document.refund_due_at == at(25) + timedelta(days=7)  # Tuesday to Tuesday
    assert document.answer == (
        "We received your return on Tuesday 17 November; your refund is due by Tuesday 24 November."
    )
    assert document.items == state.items and document.return_tracking_number == "RT123456"


def test_the_refund_delay_is_the_configured_number_of_business_days():
    state, _ = run(*STAGES[ReturnStatus.RECEIVED])
    document = answered(state, 30, policy=ReturnPolicy(refund_delay_business_days=3))
    assert document.refund_due_at == at(25) + timedelta(days=3)  # Tuesday to Friday
    assert "due by Friday 20 November" in document.answer


def test_an_overdue_refund_is_said_to_be_late():
    state, _ = run(*STAGES[ReturnStatus.RECEIVED])
    document = answered(state, 25 + 24 * 8)
    assert "was due by Tuesday 24 November and is taking longer" in document.answer


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en-GB", "We refunded €49.90 to your original payment method on Wednesday 18 November."),
        ("de-DE", "am Mittwoch, 18. November 49,90\u00a0€ über Ihre ursprüngliche Zahlungsart"),
        ("fr-FR", "remboursé 49,90\u00a0€ sur votre moyen de paiement d'origine le mercredi 18"),
    ],
)
def test_an_issued_refund_names_amount_method_and_day_in_the_customers_language(locale, words):
    state, _ = run(*STAGES[ReturnStatus.REFUND_ISSUED])
    document = answered(state, 60, locale)
    assert words in document.answer
    assert document.refund_due_at is None and document.refund_amount == "49.90"
    assert document.refund_method is RefundMethod.ORIGINAL_PAYMENT


@pytest.mark.parametrize("locale", ["en", "de", "fr", "ja-JP", None])
@pytest.mark.parametrize("status", list(ReturnStatus))
def test_every_status_reads_well_in_every_locale(status, locale):
    state, _ = run(*STAGES[status])
    document = answered(state, 60, locale)
    assert document.locale == (locale if locale in ("en", "de", "fr") else "en")
    assert "$" not in document.answer and "  " not in document.answer
    assert document.answer.strip() == document.answer and document.status is status


def test_a_failed_refund_says_so_and_a_cancelled_return_too():
    failed, _ = run(*STAGES[ReturnStatus.REFUND_FAILED])
    cancelled, _ = run(*STAGES[ReturnStatus.CANCELLED])
    assert "could not be completed" in answered(failed, 60).answer
    assert answered(cancelled, 60).answer == "The return for order A-1001 was cancelled."
