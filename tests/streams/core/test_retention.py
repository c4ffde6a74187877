"""Retention rules: when a shipment has settled, when its state gives way to a retired marker,
and what a later input of a retired shipment means."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from parcelwatch.schemas.state import ShipmentState
from parcelwatch.streams.core.retention import (
    RetentionPolicy,
    forget_due,
    is_late,
    retire_at,
    retirement,
    settled_at,
    with_retention_timer,
)
from parcelwatch.streams.core.silence import SilencePolicy, check_silence
from parcelwatch.streams.core.tracking import apply_event
from tests.factories import at, order, scan

POLICY = RetentionPolicy(retention=timedelta(days=30), retired_memory=timedelta(days=180))
DAY = 24.0  # hours


def shipment(*events) -> ShipmentState:
    state = None
    for event in events:
        state = apply_event(state, event, at(0)).state
    assert state is not None
    return state


def timer_at(state: ShipmentState, hours: float | None) -> ShipmentState:
    due = None if hours is None else at(hours)
    return replace(state, timer=replace(state.timer, next_check_at=due))


def test_a_final_status_settles_at_the_latest_scan():
    delivered = shipment(order(72), scan("in_transit", 5), scan("delivered", 30))
    assert settled_at(delivered, POLICY) == at(30)
    # A scan after delivery (its event time later) restarts the clock.
    assert settled_at(shipment(scan("delivered", 30), scan("in_transit", 40)), POLICY) == at(40)
    for final in ("returned_to_sender", "cancelled"):
        assert settled_at(shipment(scan(final, 12)), POLICY) == at(12)


def test_an_open_shipment_has_not_settled():
    assert settled_at(shipment(order(72), scan("in_transit", 5)), POLICY) is None
    assert retire_at(shipment(order(72)), POLICY) is None


def test_an_expired_shipment_settles_when_it_expired_and_a_later_scan_reopens_it():
    silence = SilencePolicy(expired_after=timedelta(days=30))
    policy = replace(POLICY, expired_after=silence.expired_after)
    moving = shipment(order(24 * 60), scan("in_transit", 5))
    _, expired = check_silence(moving, at(5 + 31 * DAY), silence)
    assert settled_at(expired, policy) == at(5 + 30 * DAY)
    reopened = apply_event(expired, scan("in_transit", 5 + 32 * DAY), at(0)).state
    assert settled_at(reopened, policy) is None


def test_the_timer_asks_for_the_end_of_retention_unless_something_comes_first():
    delivered = shipment(scan("delivered", 10))
    end, now = at(10 + 30 * DAY), at(12)
    assert with_retention_timer(timer_at(delivered, None), now, POLICY).timer.next_check_at == end
    sooner = timer_at(delivered, 20)  # e.g. a review request
    assert with_retention_timer(sooner, now, POLICY) == sooner
    later = timer_at(delivered, 10 + 40 * DAY)
    assert with_retention_timer(later, now, POLICY).timer.next_check_at == end
    still_open = shipment(scan("in_transit", 10))
    assert with_retention_timer(still_open, now, POLICY) == still_open


def test_past_its_end_a_pending_moment_stays_the_wake_up_and_removal_follows_it():
    delivered = shipment(scan("delivered", 10))
    after_end = at(10 + 31 * DAY)
    held = timer_at(delivered, 10 + 32 * DAY)  # e.g. a notification held through quiet hours
    assert with_retention_timer(held, after_end, POLICY) == held  # no checks meanwhile
    unscheduled = with_retention_timer(timer_at(delivered, None), after_end, POLICY)
    assert unscheduled.timer.next_check_at == at(10 + 30 * DAY)  # due now: the next sweep


def test_retirement_comes_at_the_end_of_retention_when_nothing_else_is_pending():
    delivered = with_retention_timer(shipment(scan("delivered", 10)), at(10), POLICY)
    end = at(10 + 30 * DAY)
    assert retirement(delivered, end - timedelta(seconds=1), POLICY) is None
    marker = retirement(delivered, end, POLICY)
    assert marker is not None
    assert (marker.settled_at, marker.retired_at) == (at(10), end)
    assert marker.forget_at == end + timedelta(days=180)
    # The follow-up cleared the timer (nothing left to wait for): retired as well.
    assert retirement(timer_at(delivered, None), end, POLICY) is not None
    # A held notification or a pending escalation keeps the state until it is done.
    assert retirement(timer_at(delivered, 10 + 31 * DAY), end, POLICY) is None
    assert retirement(shipment(scan("in_transit", 10)), end, POLICY) is None


def test_a_late_input_is_told_from_a_new_shipment_reusing_the_number():
    marker = retirement(shipment(scan("delivered", 10)), at(10 + 30 * DAY), POLICY)
    assert marker is not None
    assert is_late(marker, scan("delivered", 10))
    assert is_late(marker, scan("in_transit", 10 + 29 * DAY))  # before it was retired
    assert is_late(marker, order(24))  # the old order, re-sent
    assert not is_late(marker, scan("info_received", 10 + 31 * DAY))
    assert not is_late(marker, order(24, ordered_at=at(10 + 31 * DAY)))
    assert not forget_due(marker, at(10 + 209 * DAY))
    assert forget_due(marker, at(10 + 210 * DAY))
