"""The lookup answer, the tracking page and the support cases for every parcel of the transcribed
carrier payload files: returns, lost parcels, exceptions, scans in many time zones. What each
must say is read from the parcel's own normalised scans."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from parcelwatch.schemas.escalations import EscalationReason
from parcelwatch.schemas.lookup import Situation
from parcelwatch.schemas.state import MAX_RECENT_SCANS, ShipmentState
from parcelwatch.schemas.types import ExceptionReason, ShipmentStatus
from parcelwatch.streams.core.answers import build_answer
from parcelwatch.streams.core.escalations import EscalationPolicy, shipment_cases
from parcelwatch.streams.core.local_time import customer_zone
from parcelwatch.streams.core.notification_text import customer_text
from parcelwatch.streams.core.tracking_page import render_tracking_page
from parcelwatch.streams.message_templates.answer_files import load_answer_templates
from parcelwatch.streams.message_templates.page_labels import load_page_labels
from tests.realdata.carrier_parcels import Parcel, parcels, refused_scans
from tests.realdata.pages import assert_sound_page, served
from tests.realdata.written_dates import assert_names_the_local_delivery

TEMPLATES = load_answer_templates()
WORDS = load_page_labels()
POLICY = EscalationPolicy()
ASKED_AFTER = timedelta(hours=1)
S, St, R = Situation, ShipmentStatus, EscalationReason
RETURNING = frozenset({St.RETURNING_TO_SENDER, St.RETURNED_TO_SENDER})
PARCELS = parcels()
IDS = [f"{parcel.file}#{parcel.scans[0].tracking_number}" for parcel in PARCELS]
KNOWN = ("alone", "ordered")


def _expected_situation(state: ShipmentState) -> Situation | None:
    """The situation the carrier's current status alone decides, where it does."""
    status, reason = state.tracking.status, state.tracking.status_reason
    if status is St.EXCEPTION and reason is ExceptionReason.LOST:
        return S.LOST
    return {
        St.DELIVERED: S.DELIVERED,
        St.RETURNED_TO_SENDER: S.RETURNED,
        St.RETURNING_TO_SENDER: S.RETURNING,
        St.OUT_FOR_DELIVERY: S.OUT_FOR_DELIVERY,
        St.AVAILABLE_FOR_PICKUP: S.AVAILABLE_FOR_PICKUP,
        St.ATTEMPT_FAILED: S.ATTEMPT_FAILED,
        St.EXCEPTION: S.EXCEPTION,
        St.INFO_RECEIVED: S.NOT_SHIPPED,
    }.get(status)


def test_the_payloads_hold_the_journeys_that_matter():
    statuses = {parcel.ordered.tracking.status for parcel in PARCELS}
    assert {St.DELIVERED, St.EXCEPTION, St.ATTEMPT_FAILED, *RETURNING} <= statuses
    reasons = {parcel.ordered.tracking.status_reason for parcel in PARCELS}
    assert ExceptionReason.LOST in reasons
    offsets = {scan.occurred_at.utcoffset() for parcel in PARCELS for scan in parcel.scans}
    assert len(offsets) >= 8  # scans in many time zones


def test_only_a_documented_placeholder_number_fails_the_tracking_agents_contract():
    # Anything else refused would be a delivery, a loss or a return the worker never applies.
    assert refused_scans()
    for file, scan, reason in refused_scans():
        assert "tracking_number" in reason, (file, reason)
        assert not scan.tracking_number.isalnum(), file  # "<TrackingNumber>" of UPS's sample


@pytest.mark.parametrize("known", KNOWN)
@pytest.mark.parametrize("parcel", PARCELS, ids=IDS)
def test_the_answer_and_its_page_say_what_the_scans_say(parcel: Parcel, known: str):
    state = getattr(parcel, known)
    now = parcel.last_scan_at + ASKED_AFTER
    # As the lookup serves it: the answer and its page on one clock, the customer's (UTC when no
    # order names one).
    zone = parcel.zone if known == "ordered" else customer_zone(state)
    answer = build_answer(state, now, TEMPLATES, zone)
    expected = _expected_situation(state)
    assert expected is None or answer.situation is expected, answer
    assert (answer.situation is S.DELIVERED) == (answer.status is St.DELIVERED)
    text = answer.answer
    assert text == text.strip() and "  " not in text, text
    assert "$" not in text and not re.search(r"\b(None|null)\b", text), text
    assert not re.search(r"\b[A-Z]+_[A-Z_]+\b", text), text  # a carrier id is no name
    if known == "ordered":
        assert answer.locale == parcel.locale[:2]
    reason = state.tracking.status_reason
    if answer.situation in (S.RETURNING, S.ATTEMPT_FAILED, S.EXCEPTION) and reason is not None:
        assert (
            TEMPLATES.for_locale(answer.locale).reasons[reason.value] in text
        )  # the carrier's why
    if answer.situation is S.DELIVERED:
        assert answer.delivered_at is not None
        local = answer.delivered_at.astimezone(zone)
        assert_names_the_local_delivery(answer.locale, text, local)
    times = [entry.occurred_at for entry in answer.timeline]
    assert times == sorted(times) and 0 < len(times) <= MAX_RECENT_SCANS
    document = served(answer)
    page = render_tracking_page(document, WORDS.for_locale(document["locale"]), zone)
    reading = assert_sound_page(page, document)
    if answer.situation is S.DELIVERED:
        assert answer.delivered_at is not None
        local = answer.delivered_at.astimezone(zone)
        assert_names_the_local_delivery(answer.locale, reading.by_id["delivered"], local)
    # The carrier's places come back from the page as they were (escaped, not mangled).
    shown = " ".join(reading.scans)
    for entry in answer.timeline:
        if entry.location is not None and entry.location.city:
            assert " ".join(customer_text(entry.location.city).split()) in shown


@pytest.mark.parametrize("known", KNOWN)
def test_returns_and_lost_parcels_open_one_case_and_nothing_else_does(known: str):
    opened: dict[R, set[str]] = {R.UNREQUESTED_RETURN: set(), R.PARCEL_LOST: set()}
    for parcel in PARCELS:
        state = getattr(parcel, known)
        now = parcel.last_scan_at + ASKED_AFTER
        after, cases = shipment_cases(state, now, POLICY, TEMPLATES)
        tracking = state.tracking
        if tracking.status in RETURNING:  # no parcel here is a customer's own return
            assert [case.reason for case in cases] == [R.UNREQUESTED_RETURN], parcel.file
        elif tracking.status is St.EXCEPTION and tracking.status_reason is ExceptionReason.LOST:
            assert [case.reason for case in cases] == [R.PARCEL_LOST], parcel.file
        else:  # hours after the last scan: no promise long past, no silence alert yet
            assert cases == (), parcel.file
        for case in cases:
            opened[case.reason].add(parcel.file)
            assert case.tracking_number == state.tracking_number
            assert case.context.shipment is not None
            if known == "alone":  # nobody to contact: a stock question
                assert case.order_id is None
            else:
                assert case.order_id == state.order.order_id
        # Redelivered or looked at again: nothing more.
        assert shipment_cases(after, now + timedelta(days=1), POLICY, TEMPLATES)[1] == ()
    # Every source documents a return; the lost parcels come from the carriers that report one.
    sources_returning = {file.split("/")[0] for file in opened[R.UNREQUESTED_RETURN]}
    assert sources_returning == {parcel.file.split("/")[0] for parcel in PARCELS}
    assert opened[R.PARCEL_LOST]
