"""An order's return and refund journey: milestones once each, alerts once per episode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from parcelwatch.schemas.returns import RefundMethod, ReturnEvent, ReturnEventType
from parcelwatch.schemas.types import AlertKind, Scan, Severity, ShipmentStatus
from parcelwatch.schemas.types import NotificationKind as K
from parcelwatch.streams.core.returns import (
    ReturnPolicy,
    ReturnState,
    ReturnUpdate,
    add_business_days,
    apply_return_event,
    apply_return_scan,
    check_return,
    next_check_at,
    return_state_from_json,
    return_state_to_json,
)
from tests.return_factories import ORDER_ID, RETURN_PARCEL, return_step

T = ReturnEventType
ORDER = ORDER_ID
MONDAY = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
NOW = MONDAY + timedelta(days=60)
POLICY = ReturnPolicy()


def at(hours: float) -> datetime:
    return MONDAY + timedelta(hours=hours)


def event(
    kind: ReturnEventType, hours: float, event_id: str | None = None, **fields
) -> ReturnEvent:
    return return_step(kind, at(hours), event_id or f"{kind.value}-{hours}", **fields)


def parcel_scan(status: str, hours: float, tracking_number: str = RETURN_PARCEL) -> Scan:
    return Scan(f"scan-{status}-{hours}", tracking_number, "dhl", ShipmentStatus(status), at(hours))


def run(*steps: ReturnEvent | Scan) -> tuple[ReturnState, list[ReturnUpdate]]:
    state: ReturnState | None = None
    updates = []
    for step in steps:
        if isinstance(step, Scan):
            assert state is not None
            update = apply_return_scan(state, step, NOW)
        else:
            update = apply_return_event(state, step, NOW)
        updates.append(update)
        state = update.state
    assert state is not None
    return state, updates


def notified(updates: list[ReturnUpdate]) -> list[K]:
    return [notice.kind for update in updates for notice in update.notices]


def alerted(updates: list[ReturnUpdate]) -> list[AlertKind]:
    return [alert.kind for update in updates for alert in update.alerts]


FULL_JOURNEY = (
    event(T.RETURN_REQUESTED, 0),
    event(T.RETURN_LABEL_CREATED, 1),
    parcel_scan("info_received", 2),
    parcel_scan("picked_up", 20),
    parcel_scan("in_transit", 30),
    parcel_scan("delivered", 50),
    event(T.REFUND_REQUESTED, 51),
    event(T.REFUND_APPROVED, 52),
    event(T.REFUND_ISSUED, 53),
)


# --- milestones ------------------------------------------------------------------------------


def test_a_full_journey_tells_each_milestone_once_in_order():
    state, updates = run(*FULL_JOURNEY)
    assert notified(updates) == [
        K.RETURN_LABEL_READY, K.RETURN_IN_TRANSIT, K.RETURN_RECEIVED, K.REFUND_ISSUED
    ]  # fmt: skip
    assert alerted(updates) == []
    assert state.received_at == at(50) and state.in_transit_at == at(20)


def test_notices_carry_what_their_message_needs():
    _, updates = run(*FULL_JOURNEY)
    notices = {notice.kind: notice for update in updates for notice in update.notices}
    label = notices[K.RETURN_LABEL_READY]
    assert (label.return_tracking_number, label.carrier, label.occurred_at) == (
        RETURN_PARCEL, "dhl", at(1)
    )  # fmt: skip
    refund = notices[K.REFUND_ISSUED]
    assert (refund.amount, refund.currency, refund.method) == (
        "49.90", "EUR", RefundMethod.ORIGINAL_PAYMENT
    )  # fmt: skip
    assert label.amount is None
    assert len({notice.notification_id for notice in notices.values()}) == len(notices)


def test_notification_ids_are_deterministic():
    first = run(*FULL_JOURNEY)[1]
    second = run(*FULL_JOURNEY)[1]
    ids = [[n.notification_id for n in update.notices] for update in first]
    assert ids == [[n.notification_id for n in update.notices] for update in second]


def test_a_duplicate_event_changes_nothing_and_says_nothing():
    state, _ = run(event(T.RETURN_REQUESTED, 0), event(T.RETURN_LABEL_CREATED, 1))
    again = apply_return_event(state, event(T.RETURN_LABEL_CREATED, 1), NOW)
    assert again == ReturnUpdate(state, duplicate=True)


def test_a_duplicate_scan_changes_nothing():
    state, _ = run(event(T.RETURN_LABEL_CREATED, 1), parcel_scan("picked_up", 20))
    assert apply_return_scan(state, parcel_scan("picked_up", 20), NOW).duplicate


def test_a_second_label_for_the_same_return_is_not_told_twice():
    _, updates = run(
        event(T.RETURN_LABEL_CREATED, 1),
        event(T.RETURN_LABEL_CREATED, 2, return_tracking_number="RT999"),
    )
    assert notified(updates) == [K.RETURN_LABEL_READY]
    assert updates[-1].state.return_tracking_number == "RT999"


def test_an_older_label_arriving_late_does_not_replace_the_newer_one():
    state, _ = run(
        event(T.RETURN_LABEL_CREATED, 2, return_tracking_number="RT-NEW"),
        event(T.RETURN_LABEL_CREATED, 1, return_tracking_number="RT-OLD"),
    )
    assert state.return_tracking_number == "RT-NEW"


def test_delivered_before_the_first_moving_scan_skips_the_in_transit_notice():
    _, updates = run(
        event(T.RETURN_LABEL_CREATED, 1),
        parcel_scan("delivered", 50),
        parcel_scan("in_transit", 30),  # late, out of order
    )
    assert notified(updates) == [K.RETURN_LABEL_READY, K.RETURN_RECEIVED]


def test_a_refund_issued_before_its_request_arrives_is_told_once():
    _, updates = run(
        event(T.REFUND_ISSUED, 53),
        event(T.REFUND_REQUESTED, 51),
        event(T.REFUND_APPROVED, 52),
    )
    assert notified(updates) == [K.REFUND_ISSUED]


def test_a_cancelled_return_gets_no_label_notice():
    _, updates = run(
        event(T.RETURN_REQUESTED, 0),
        event(T.RETURN_CANCELLED, 3),
        event(T.RETURN_LABEL_CREATED, 1),  # created before the cancellation, applied after it
    )
    assert notified(updates) == []
    assert updates[-1].state.cancelled


def test_a_new_label_after_a_cancellation_reopens_the_return():
    state, updates = run(
        event(T.RETURN_REQUESTED, 0),
        event(T.RETURN_CANCELLED, 3),
        event(T.RETURN_LABEL_CREATED, 5),
    )
    assert notified(updates) == [K.RETURN_LABEL_READY]
    assert not state.cancelled


def test_scans_that_do_not_move_the_parcel_are_not_in_transit():
    _, updates = run(event(T.RETURN_LABEL_CREATED, 1), parcel_scan("info_received", 2))
    assert notified(updates) == [K.RETURN_LABEL_READY]
    assert updates[-1].state.in_transit_at is None


def test_another_parcel_or_order_is_refused():
    state, _ = run(event(T.RETURN_LABEL_CREATED, 1))
    with pytest.raises(ValueError, match="return parcel"):
        apply_return_scan(state, parcel_scan("picked_up", 2, tracking_number="1ZOTHER"), NOW)
    other = ReturnEvent("e", "A-2002", T.RETURN_CANCELLED, at(2))
    with pytest.raises(ValueError, match="its own order"):
        apply_return_event(state, other, NOW)


# --- refund_failed ---------------------------------------------------------------------------


def test_a_failed_refund_raises_a_critical_alert_once():
    state, updates = run(event(T.REFUND_ISSUED, 53), event(T.REFUND_FAILED, 60))
    (alert,) = updates[-1].alerts
    assert (alert.kind, alert.severity, alert.source_event_id) == (
        AlertKind.REFUND_FAILED, Severity.CRITICAL, "refund_failed-60"
    )  # fmt: skip
    assert "card expired" in alert.message
    assert apply_return_event(state, event(T.REFUND_FAILED, 60), NOW).alerts == ()
    assert state.refund_outstanding


def test_each_new_failure_is_its_own_alert():
    _, updates = run(event(T.REFUND_FAILED, 60), event(T.REFUND_FAILED, 70))
    assert alerted(updates) == [AlertKind.REFUND_FAILED, AlertKind.REFUND_FAILED]


def test_a_failure_superseded_by_a_later_issued_refund_raises_nothing():
    _, updates = run(event(T.REFUND_ISSUED, 70), event(T.REFUND_FAILED, 60))
    assert alerted(updates) == []
    assert notified(updates) == [K.REFUND_ISSUED]


def test_a_refund_that_failed_before_the_notice_is_not_told_as_issued():
    _, updates = run(event(T.REFUND_FAILED, 60), event(T.REFUND_ISSUED, 53))
    assert notified(updates) == []


# --- the timer: refund_delayed / refund_overdue, return_stalled ------------------------------


def received_on_friday() -> ReturnState:
    friday = 4 * 24 + 1  # Friday 10:00
    state, _ = run(
        event(T.RETURN_LABEL_CREATED, 1),
        parcel_scan("picked_up", 20),
        parcel_scan("delivered", friday),
    )
    return state


def test_business_days_skip_weekends():
    friday = datetime(2026, 11, 20, 10, tzinfo=UTC)
    saturday = friday + timedelta(days=1)
    assert add_business_days(friday, 5) == friday + timedelta(days=7)
    assert add_business_days(friday, 1) == friday + timedelta(days=3)
    assert add_business_days(saturday, 1) == saturday + timedelta(days=2)
    assert add_business_days(friday, 0) == friday


def test_no_refund_five_business_days_after_the_return_arrived_is_overdue():
    state = received_on_friday()
    due = state.received_at + timedelta(days=7)
    assert next_check_at(state, POLICY) == due
    assert check_return(state, due - timedelta(seconds=1), POLICY) == ReturnUpdate(state)
    update = check_return(state, due, POLICY)
    assert [notice.kind for notice in update.notices] == [K.REFUND_DELAYED]
    assert [(a.kind, a.severity) for a in update.alerts] == [
        (AlertKind.REFUND_OVERDUE, Severity.WARNING)
    ]
    assert update.alerts[0].occurred_at == due
    assert next_check_at(update.state, POLICY) is None
    later = check_return(update.state, due + timedelta(days=3), POLICY)
    assert later.notices == () and later.alerts == ()


def test_the_business_days_come_from_the_policy():
    state = received_on_friday()
    policy = ReturnPolicy(refund_delay_business_days=1)
    assert next_check_at(state, policy) == state.received_at + timedelta(days=3)


def test_an_issued_refund_is_never_overdue():
    state = received_on_friday()
    state = apply_return_event(state, event(T.REFUND_ISSUED, 200), NOW).state
    assert check_return(state, NOW, POLICY).alerts == ()
    assert next_check_at(state, POLICY) is None


def test_a_return_parcel_silent_too_long_is_stalled_once_per_silence():
    state, _ = run(event(T.RETURN_LABEL_CREATED, 1), parcel_scan("in_transit", 20))
    silent = at(20) + POLICY.return_stalled_after
    assert next_check_at(state, POLICY) == silent
    assert check_return(state, silent - timedelta(minutes=1), POLICY).alerts == ()
    update = check_return(state, silent, POLICY)
    assert [alert.kind for alert in update.alerts] == [AlertKind.RETURN_STALLED]
    assert check_return(update.state, silent + timedelta(days=1), POLICY).alerts == ()
    assert next_check_at(update.state, POLICY) is None
    moved = apply_return_scan(update.state, parcel_scan("in_transit", 200), NOW).state
    again = check_return(moved, at(200) + POLICY.return_stalled_after, POLICY)
    assert [alert.kind for alert in again.alerts] == [AlertKind.RETURN_STALLED]
    assert again.alerts[0].alert_id != update.alerts[0].alert_id


def test_a_label_never_handed_over_is_not_stalled():
    state, _ = run(event(T.RETURN_LABEL_CREATED, 1))
    assert check_return(state, NOW, POLICY).alerts == ()
    assert next_check_at(state, POLICY) is None


# --- state storage ---------------------------------------------------------------------------


def test_the_state_survives_a_json_round_trip():
    state, _ = run(*FULL_JOURNEY, event(T.REFUND_FAILED, 60), event(T.RETURN_CANCELLED, 70))
    assert return_state_from_json(return_state_to_json(state)) == state
    empty = ReturnState(ORDER)
    assert return_state_from_json(return_state_to_json(empty)) == empty


def test_an_unknown_state_version_is_refused():
    data = return_state_to_json(ReturnState(ORDER)).replace(
        b'"state_version":1', b'"state_version":99'
    )
    with pytest.raises(ValueError, match="version 99"):
        return_state_from_json(data)


def test_only_the_latest_event_ids_are_remembered():
    state = ReturnState(ORDER)
    for number in range(250):
        state = apply_return_event(state, event(T.REFUND_REQUESTED, 1, f"e-{number}"), NOW).state
    assert len(state.seen_event_ids) == 200 and state.seen_event_ids[-1] == "e-249"
