"""Support cases decided from a state at a moment: each reason, once, with its priority."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from parcelwatch.schemas.escalations import (
    EscalationReason,
    Priority,
    RefundStatus,
    Resolution,
)
from parcelwatch.schemas.feedback import FlagReason
from parcelwatch.schemas.lookup import Situation
from parcelwatch.schemas.returns import ReturnReason
from parcelwatch.schemas.state import (
    ShipmentState,
    readable_state_json,
    state_from_json,
    state_to_json,
)
from parcelwatch.schemas.types import Customer, Item, NotificationChannel
from parcelwatch.streams.core.answers import build_answer
from parcelwatch.streams.core.escalations import (
    EscalationPolicy,
    LostSignal,
    feedback_case,
    lost_signal,
    next_escalation_at,
    refund_escalation_at,
    return_cases,
    shipment_cases,
    shipment_cases_due,
)
from parcelwatch.streams.core.feedback_flags import flag_feedback
from parcelwatch.streams.core.returns import (
    ReturnState,
    return_state_from_json,
    return_state_to_json,
)
from parcelwatch.streams.core.silence import SilencePolicy, check_silence
from parcelwatch.streams.core.tracking import apply_event
from parcelwatch.streams.message_templates.answer_files import load_answer_templates
from tests.factories import TRACKING, at, order, scan
from tests.feedback_factories import analysis, feedback

TEMPLATES = load_answer_templates()
POLICY = EscalationPolicy()
SILENCES = SilencePolicy()
CUSTOMER = Customer("cust-42", "de-DE", "Europe/Berlin", (NotificationChannel.EMAIL,))
R, P = EscalationReason, Priority


def run(*events) -> ShipmentState:
    state = None
    for event in events:
        state = apply_event(state, event, getattr(event, "occurred_at", at(0))).state
    return state


def silenced(state: ShipmentState, now: datetime) -> ShipmentState:
    """The state after a timer's look at ``now`` (silence alerts raised)."""
    return check_silence(state, now, SILENCES)[1]


def cases(state: ShipmentState, now: datetime):
    return shipment_cases(state, now, POLICY, TEMPLATES)


# --- parcel lost -----------------------------------------------------------------------------


def test_a_lost_scan_opens_one_lost_parcel_case_with_the_answer_attached():
    state = run(
        order(72, customer=CUSTOMER), scan("picked_up", 2), scan("exception", 30, reason="lost")
    )
    after, (case,) = cases(state, at(31))
    assert case.reason is R.PARCEL_LOST
    assert case.suggested_resolution is Resolution.RESHIP
    assert case.other_resolutions == (Resolution.REFUND, Resolution.CARRIER_CLAIM)
    assert "refund it if the customer prefers" in case.resolution_text
    assert case.priority is P.HIGH  # not past the promise yet
    assert case.reason_text == (
        f"Parcel {TRACKING} (UPS) was reported lost by the carrier on 2026-11-21 15:00 UTC. "
        "Promised by 2026-11-23 09:00 UTC."
    )
    assert (case.order_id, case.tracking_number, case.carrier) == ("A-1001", TRACKING, "ups")
    assert case.key == "A-1001"
    assert (case.customer.id, case.customer.locale) == ("cust-42", "de-DE")
    answer = case.context.shipment
    assert answer.situation is Situation.LOST and answer.locale == "de"
    assert answer.tracking_number == TRACKING and answer.answered_at == at(31)
    assert case.context.returns is None
    assert after.outputs.escalated == (case.case_id,)
    assert cases(after, at(40)) == (after, ())  # never twice


def test_an_expired_parcel_is_presumed_lost_once_and_no_longer_after_a_new_scan():
    state = run(order(72), scan("in_transit", 5))
    expired = silenced(state, at(5) + SILENCES.expired_after)
    now = at(5) + SILENCES.expired_after
    assert lost_signal(expired, now, POLICY) is LostSignal.EXPIRED
    _, (case,) = cases(expired, now)
    assert case.priority is P.URGENT  # four weeks past the promise
    assert case.reason_text.startswith(f"Parcel {TRACKING} (UPS) has had no scan since 2026-11-20")
    assert "(30 days); presumed lost." in case.reason_text
    assert "days late." in case.reason_text
    found = apply_event(expired, scan("in_transit", 800), now).state
    assert lost_signal(found, now, POLICY) is None  # the silence is over


def test_a_stalled_parcel_is_lost_only_well_past_its_promise():
    state = silenced(run(order(60), scan("in_transit", 10)), at(58))  # stalled at 10 + 48 h
    lost_at = at(60) + POLICY.lost_after_promise
    assert next_escalation_at(state, POLICY) == lost_at
    assert not shipment_cases_due(state, lost_at - timedelta(seconds=1), POLICY)
    assert cases(state, lost_at - timedelta(seconds=1))[1] == ()
    after, (case,) = cases(state, lost_at)
    assert lost_signal(state, lost_at, POLICY) is LostSignal.STALLED_PAST_PROMISE
    assert case.priority is P.HIGH and "3 days late" in case.reason_text
    assert next_escalation_at(after, POLICY) is None  # opened: nothing left to wake for
    _, (later,) = cases(state, at(60) + POLICY.urgent_after_promise)
    assert later.priority is P.URGENT
    assert later.case_id == case.case_id  # the same case, whenever it is found


def test_a_stall_ended_by_a_scan_is_not_a_lost_parcel():
    state = silenced(run(order(60), scan("in_transit", 10)), at(58))
    moving = apply_event(state, scan("in_transit", 59), at(59)).state
    assert next_escalation_at(moving, POLICY) is None
    assert cases(moving, at(60) + POLICY.lost_after_promise)[1] == ()


def test_a_delivered_parcel_is_never_lost():
    state = run(order(72), scan("exception", 30, reason="lost"), scan("delivered", 90))
    assert cases(state, at(100))[1] == ()


def test_the_policy_decides_when_a_stalled_parcel_is_lost():
    state = silenced(run(order(60), scan("in_transit", 10)), at(58))
    soon = EscalationPolicy(lost_after_promise=timedelta(hours=1))
    assert next_escalation_at(state, soon) == at(61)
    assert shipment_cases_due(state, at(61), soon)


# --- unrequested return ----------------------------------------------------------------------


def test_a_parcel_going_back_to_the_sender_opens_one_case():
    state = run(order(72), scan("returning_to_sender", 20, reason="address_issue"))
    after, (case,) = cases(state, at(21))
    assert case.reason is R.UNREQUESTED_RETURN
    assert case.suggested_resolution is Resolution.CONTACT_CUSTOMER
    assert case.other_resolutions == (Resolution.CONTACT_CARRIER, Resolution.RESHIP)
    assert "redirect" in case.resolution_text
    assert case.priority is P.NORMAL
    assert "the customer did not ask for a return" in case.reason_text
    assert "a problem with the delivery address" in case.reason_text
    back = apply_event(after, scan("returned_to_sender", 40), at(40)).state
    assert cases(back, at(41))[1] == ()  # the same return: never twice


@pytest.mark.parametrize(
    ("events", "now", "priority"),
    [
        ((order(72), scan("returned_to_sender", 80)), at(81), P.HIGH),  # past the promise
        ((scan("returned_to_sender", 20),), at(21), P.LOW),  # no order: nobody to contact
    ],
    ids=["past the promise", "no order"],
)
def test_unrequested_return_priority(events, now, priority):
    _, (case,) = cases(run(*events), now)
    assert case.priority is priority
    assert case.other_resolutions == (Resolution.RESHIP,)  # back already: nothing to redirect


def test_a_shipment_without_an_order_is_keyed_by_its_tracking_number():
    _, (case,) = cases(run(scan("returned_to_sender", 20)), at(21))
    assert case.order_id is None and case.customer is None
    assert case.key == TRACKING


def test_case_ids_are_deterministic_per_shipment():
    first = cases(run(order(72), scan("exception", 30, reason="lost")), at(31))[1][0]
    again = cases(run(order(72), scan("exception", 30, reason="lost")), at(50))[1][0]
    other = run(
        order(72, tracking_number="1ZOTHER"),
        scan("exception", 30, reason="lost", tracking_number="1ZOTHER"),
    )
    assert first.case_id == again.case_id
    assert cases(other, at(31))[1][0].case_id != first.case_id


def test_escalated_case_ids_survive_the_state_round_trip_and_old_states_read_empty():
    after, _ = cases(run(order(72), scan("exception", 30, reason="lost")), at(31))
    stored = state_to_json(after)
    assert state_from_json(stored) == after
    stored = readable_state_json(after)  # version 3...
    del stored["outputs"]["escalated"]  # ...stored before the field existed
    assert state_from_json(stored).outputs.escalated == ()


# --- disputed delivery -----------------------------------------------------------------------


def flagged(state: ShipmentState, event_id: str = "fb-1", hours: float = 100):
    said = analysis(topics=("not_received",))
    return flag_feedback(
        feedback(event_id, hours, text="It never arrived."), said, state,
        target=state.tracking_number, now=at(hours), analyzer_version="test",
    )  # fmt: skip


def test_a_disputed_delivery_opens_one_case_with_the_feedback_and_the_answer():
    state = run(order(72, customer=CUSTOMER), scan("delivered", 50))
    dispute = flagged(state)
    assert dispute.flag.reason is FlagReason.DISPUTED_DELIVERY
    after, case = feedback_case(dispute, state, at(100), TEMPLATES)
    assert case.reason is R.DELIVERY_DISPUTED
    assert case.suggested_resolution is Resolution.CARRIER_CLAIM
    assert case.other_resolutions == (Resolution.CONTACT_CUSTOMER,)
    assert "proof of delivery" in case.resolution_text
    assert case.priority is P.HIGH
    assert case.feedback_id == dispute.feedback_id
    assert case.reason_text == (
        f"The customer says order A-1001 did not arrive, but UPS reported parcel {TRACKING} "
        "delivered on 2026-11-22 11:00 UTC. Feedback received 2026-11-24 13:00 UTC (review)."
    )
    assert case.context.shipment.situation is Situation.DELIVERED
    # A second complaint about the same delivery is the same case.
    assert feedback_case(flagged(after, "fb-2", 110), after, at(110), TEMPLATES) == (after, None)


def test_other_flags_open_no_case():
    state = run(order(72), scan("delivered", 50))
    praise = replace(flagged(state), flag=replace(flagged(state).flag, reason=FlagReason.PRAISE))
    assert feedback_case(praise, state, at(100), TEMPLATES) == (state, None)


# --- refund overdue --------------------------------------------------------------------------

FRIDAY = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def returned(**changes) -> ReturnState:
    values = {
        "order_id": "A-1001",
        "requested_at": FRIDAY - timedelta(days=7),
        "reason": ReturnReason.SIZE_OR_FIT,
        "items": (Item("SKU-1", 1, "shoes"),),
        "return_tracking_number": "1ZRETURN01",
        "return_carrier": "ups",
        "received_at": FRIDAY,
    }
    return ReturnState(**{**values, **changes})


def test_a_refund_overdue_by_ten_business_days_counts_two_weekends():
    state = returned()
    due = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)  # Friday two weeks on, not 10 calendar days
    assert refund_escalation_at(state, POLICY) == due
    assert return_cases(state, due - timedelta(seconds=1), POLICY) == (state, ())
    after, (case,) = return_cases(state, due, POLICY, customer=CUSTOMER)
    assert case.reason is R.REFUND_OVERDUE
    assert case.suggested_resolution is Resolution.REFUND and case.other_resolutions == ()
    assert case.priority is P.HIGH
    assert case.reason_text == (
        "The return of order A-1001 arrived on 2026-11-20 15:00 UTC and no refund followed "
        "within 10 business days."
    )
    assert (case.order_id, case.tracking_number, case.key) == ("A-1001", None, "A-1001")
    assert (case.customer.id, case.customer.locale) == ("cust-42", "de-DE")
    summary = case.context.returns
    assert summary.refund_status is RefundStatus.OWED
    assert summary.items == (Item("SKU-1", 1, "shoes"),) and summary.received_at == FRIDAY
    assert case.context.shipment is None
    assert after.escalated == (case.case_id,)
    assert return_cases(after, due + timedelta(days=30), POLICY) == (after, ())  # once
    assert refund_escalation_at(after, POLICY) is None
    assert return_state_from_json(return_state_to_json(after)) == after


def test_a_refund_case_carries_the_order_shipment_answer_when_known():
    shipment = run(order(72, customer=CUSTOMER), scan("delivered", 50))
    answer = build_answer(shipment, at(400), TEMPLATES)
    _, (case,) = return_cases(returned(), at(400), POLICY, shipment=answer)
    assert case.context.shipment == answer
    assert (case.tracking_number, case.carrier) == (TRACKING, "ups")
    # The answer knows the customer's locale, not their id: the caller passes the order's customer.
    assert case.customer.id is None and case.customer.locale == "de-DE"
    assert return_cases(returned(), at(400), POLICY)[1][0].customer is None


@pytest.mark.parametrize(
    ("state", "now", "priority"),
    [
        (returned(), datetime(2026, 12, 18, 15, tzinfo=UTC), P.URGENT),  # 20 business days
        (returned(), datetime(2026, 12, 17, 15, tzinfo=UTC), P.HIGH),
        (
            returned(refund_issued_at=FRIDAY, refund_failed_at=FRIDAY + timedelta(days=1)),
            datetime(2026, 12, 4, 15, tzinfo=UTC),
            P.URGENT,  # the refund was tried and failed
        ),
    ],
    ids=["far past", "not yet far past", "failed"],
)
def test_refund_case_priority(state, now, priority):
    _, (case,) = return_cases(state, now, POLICY)
    assert case.priority is priority


def test_no_refund_case_when_the_refund_was_issued_or_the_return_has_not_arrived():
    late = datetime(2027, 1, 30, tzinfo=UTC)
    assert return_cases(returned(refund_issued_at=FRIDAY), late, POLICY)[1] == ()
    assert return_cases(returned(received_at=None), late, POLICY)[1] == ()
