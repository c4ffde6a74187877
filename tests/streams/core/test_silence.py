"""Silences judged at a given moment: forgotten, stalled, missed promise (by timer) and expired."""

from __future__ import annotations

from datetime import timedelta

import pytest

from parcelwatch.schemas.state import ShipmentState
from parcelwatch.schemas.types import AlertKind, Severity, ShipmentStatus
from parcelwatch.streams.core.alert_rules import alert_id
from parcelwatch.streams.core.silence import (
    SILENCE_KINDS,
    SilencePolicy,
    check_silence,
    pending_silences,
    stalled_since,
)
from parcelwatch.streams.core.tracking import Applied, apply_event
from tests.factories import TRACKING, at, order, scan

S = ShipmentStatus
POLICY = SilencePolicy()
FAR = 5000  # a promise (in hours from T0) far beyond every other silence in a test


def run(*events) -> ShipmentState:
    """The state after applying ``events`` in order, each processed at its own event time."""
    state = None
    for event in events:
        now = getattr(event, "occurred_at", None) or at(0)
        state = apply_event(state, event, now).state
    return state


def kinds(alerts) -> list[AlertKind]:
    return [alert.kind for alert in alerts]


def test_silence_kinds_are_the_alerts_only_a_timer_raises():
    assert frozenset({AlertKind.FORGOTTEN, AlertKind.STALLED, AlertKind.EXPIRED}) == SILENCE_KINDS
    assert AlertKind.MISSED_PROMISE not in SILENCE_KINDS


# --- forgotten -------------------------------------------------------------------------------


def test_order_without_any_scan_is_forgotten_48_hours_after_it_was_placed():
    state = run(order(FAR))  # ordered_at is at(-2)
    early, _ = check_silence(state, at(46) - timedelta(seconds=1), POLICY)
    (alert,), after = check_silence(state, at(46), POLICY)
    assert early == ()
    assert alert.kind is AlertKind.FORGOTTEN
    assert alert.severity is Severity.WARNING
    assert alert.status is S.INFO_RECEIVED  # a label exists
    assert alert.occurred_at == at(46)
    assert alert.detected_at == at(46)
    assert alert.source_event_id == "order-1"
    assert alert.order_id == "A-1001"
    assert alert.message == (
        "Label created 48 h ago and the carrier has not picked the parcel up yet."
    )
    assert after.open_episode(AlertKind.FORGOTTEN) == "2026-11-20T07:00:00+00:00"


def test_info_received_scan_starts_the_forgotten_clock_at_the_label_scan():
    state = run(order(FAR), scan(S.INFO_RECEIVED, 10))
    (silence,) = [s for s in pending_silences(state, POLICY) if s.kind is AlertKind.FORGOTTEN]
    assert silence.since == at(10)
    assert silence.due_at == at(58)
    assert kinds(check_silence(state, at(57), POLICY)[0]) == []
    assert kinds(check_silence(state, at(58), POLICY)[0]) == [AlertKind.FORGOTTEN]


def test_label_scan_without_an_order_can_be_forgotten_too():
    state = run(scan(S.INFO_RECEIVED, 0))
    alerts, _ = check_silence(state, at(48), POLICY)
    assert kinds(alerts) == [AlertKind.FORGOTTEN]
    assert alerts[0].order_id is None


def test_carrier_pickup_ends_the_forgotten_silence():
    state = run(order(FAR), scan(S.INFO_RECEIVED, 0), scan(S.PICKED_UP, 30))
    assert AlertKind.FORGOTTEN not in {s.kind for s in pending_silences(state, POLICY)}
    alerts, _ = check_silence(state, at(60), POLICY)
    assert AlertKind.FORGOTTEN not in kinds(alerts)


def test_forgotten_fires_once_per_episode():
    state = run(order(FAR))
    first, state = check_silence(state, at(46), POLICY)
    second, state = check_silence(state, at(100), POLICY)
    assert kinds(first) == [AlertKind.FORGOTTEN]
    assert second == ()
    assert AlertKind.FORGOTTEN not in {s.kind for s in pending_silences(state, POLICY)}


# --- stalled ---------------------------------------------------------------------------------


def test_moving_parcel_stalls_after_48_hours_without_a_scan():
    state = run(order(FAR), scan(S.PICKED_UP, 0), scan(S.IN_TRANSIT, 10))
    early, _ = check_silence(state, at(58) - timedelta(seconds=1), POLICY)
    (alert,), after = check_silence(state, at(58), POLICY)
    assert early == ()
    assert alert.kind is AlertKind.STALLED
    assert alert.severity is Severity.WARNING
    assert alert.occurred_at == at(58)
    assert alert.source_event_id == f"{TRACKING}-in_transit-10"
    assert alert.message == "No carrier scan for 48 h (last status: in transit)."
    assert after.open_episode(AlertKind.STALLED) == "2026-11-20T19:00:00+00:00"


@pytest.mark.parametrize(
    ("service_level", "hours"),
    [("express", 24), ("EXPRESS", 24), ("ground", 48), ("economy", 72), ("freight", 48)],
)
def test_stall_threshold_depends_on_the_service_level(service_level, hours):
    state = run(order(FAR, service_level=service_level), scan(S.IN_TRANSIT, 0))
    (silence,) = [s for s in pending_silences(state, POLICY) if s.kind is AlertKind.STALLED]
    assert silence.due_at == at(hours)
    assert kinds(check_silence(state, at(hours) - timedelta(minutes=1), POLICY)[0]) == []
    assert kinds(check_silence(state, at(hours), POLICY)[0]) == [AlertKind.STALLED]


def test_stall_thresholds_per_service_come_from_the_policy():
    policy = SilencePolicy(
        stalled_after=timedelta(hours=30), stalled_after_by_service={"express": timedelta(hours=6)}
    )
    express = run(order(FAR, service_level="express"), scan(S.IN_TRANSIT, 0))
    ground = run(order(FAR, service_level="ground"), scan(S.IN_TRANSIT, 0))
    assert policy.stalled_threshold("express") == timedelta(hours=6)
    assert policy.stalled_threshold(None) == timedelta(hours=30)
    assert kinds(check_silence(express, at(6), policy)[0]) == [AlertKind.STALLED]
    assert kinds(check_silence(ground, at(29), policy)[0]) == []
    assert kinds(check_silence(ground, at(30), policy)[0]) == [AlertKind.STALLED]


def test_parcel_waiting_at_a_pickup_point_does_not_stall():
    state = run(order(FAR), scan(S.IN_TRANSIT, 0), scan(S.AVAILABLE_FOR_PICKUP, 10))
    pending = {s.kind for s in pending_silences(state, POLICY)}
    assert pending == {AlertKind.MISSED_PROMISE, AlertKind.EXPIRED}
    assert check_silence(state, at(200), POLICY)[0] == ()


def test_new_scan_after_a_stall_opens_a_new_episode_that_fires_again():
    state = run(order(FAR), scan(S.IN_TRANSIT, 0))
    (first,), state = check_silence(state, at(48), POLICY)
    state = apply_event(state, scan(S.IN_TRANSIT, 60, "moving-again"), at(60)).state
    quiet, state = check_silence(state, at(107), POLICY)
    (second,), state = check_silence(state, at(108), POLICY)
    assert quiet == ()
    assert second.kind is AlertKind.STALLED
    assert second.alert_id != first.alert_id
    assert second.source_event_id == "moving-again"
    assert state.open_episode(AlertKind.STALLED) == "2026-11-22T21:00:00+00:00"


def test_late_older_scan_does_not_restart_a_stall_that_already_fired():
    state = run(order(FAR), scan(S.IN_TRANSIT, 10))
    _, state = check_silence(state, at(58), POLICY)
    state = apply_event(state, scan(S.PICKED_UP, 2, "late-pickup"), at(59)).state
    alerts, _ = check_silence(state, at(200), POLICY)
    assert AlertKind.STALLED not in kinds(alerts)


def test_stalled_since_is_when_the_stall_began_while_its_alert_stands():
    state = run(order(FAR, service_level="express"), scan(S.IN_TRANSIT, 10))
    assert stalled_since(state, POLICY) is None  # not alerted yet
    _, state = check_silence(state, at(40), POLICY)
    assert stalled_since(state, POLICY) == at(34)
    state = apply_event(state, scan(S.IN_TRANSIT, 41, "next-hub"), at(41)).state
    assert stalled_since(state, POLICY) is None  # a scan ended that stall


# --- missed promise (timer) ------------------------------------------------------------------


def test_missed_promise_fires_when_the_promise_passes_with_no_scan_at_all():
    state = run(order(20), scan(S.IN_TRANSIT, 10))
    early, _ = check_silence(state, at(20) - timedelta(seconds=1), POLICY)
    (alert,), after = check_silence(state, at(21), POLICY)
    assert early == ()
    assert alert.kind is AlertKind.MISSED_PROMISE
    assert alert.occurred_at == at(20)
    assert alert.promised_by == at(20)
    assert alert.message == (
        "Promised by 2026-11-21T05:00:00+00:00 and still not delivered 1 h later, "
        "with no scan saying why (status: in transit)."
    )
    assert after.open_episode(AlertKind.MISSED_PROMISE) == "2026-11-21T05:00:00+00:00"


def test_missed_promise_waits_for_the_grace_period():
    policy = SilencePolicy(missed_promise_grace=timedelta(hours=6))
    state = run(order(20), scan(S.IN_TRANSIT, 10))
    assert check_silence(state, at(25), policy)[0] == ()
    assert kinds(check_silence(state, at(26), policy)[0]) == [AlertKind.MISSED_PROMISE]


def test_timer_then_scan_raise_one_missed_promise_alert_between_them():
    state = run(order(20), scan(S.IN_TRANSIT, 10))
    (by_timer,), state = check_silence(state, at(21), POLICY)
    outcome = apply_event(state, scan(S.IN_TRANSIT, 25, "late-scan"), at(25))
    assert isinstance(outcome, Applied)
    assert outcome.alerts == ()
    assert by_timer.alert_id == alert_id(
        TRACKING, AlertKind.MISSED_PROMISE, "2026-11-21T05:00:00+00:00"
    )


def test_scan_then_timer_raise_one_missed_promise_alert_between_them():
    state = run(order(20), scan(S.IN_TRANSIT, 10))
    outcome = apply_event(state, scan(S.IN_TRANSIT, 25, "late-scan"), at(25))
    (by_scan,) = outcome.alerts
    by_timer, _ = check_silence(outcome.state, at(26), POLICY)
    assert by_scan.kind is AlertKind.MISSED_PROMISE
    assert AlertKind.MISSED_PROMISE not in kinds(by_timer)
    # Either path derives the same id, so a consumer sees one alert even if both raced.
    _, timer_first = check_silence(state, at(21), POLICY)
    assert timer_first.open_episode(AlertKind.MISSED_PROMISE) == outcome.state.open_episode(
        AlertKind.MISSED_PROMISE
    )


def test_renegotiated_promise_is_a_new_missed_promise_episode():
    state = run(order(20), scan(S.IN_TRANSIT, 10))
    (first,), state = check_silence(state, at(21), POLICY)
    state = apply_event(state, order(40, event_id="order-2"), at(22)).state
    assert check_silence(state, at(39), POLICY)[0] == ()
    (second,), _ = check_silence(state, at(40), POLICY)
    assert second.kind is AlertKind.MISSED_PROMISE
    assert second.alert_id != first.alert_id
    assert second.promised_by == at(40)


def test_parcel_returning_to_sender_cannot_miss_its_promise_but_can_stall():
    state = run(order(20), scan(S.RETURNING_TO_SENDER, 10, reason="refused"))
    pending = {s.kind for s in pending_silences(state, POLICY)}
    assert pending == {AlertKind.STALLED, AlertKind.EXPIRED}


# --- expired ---------------------------------------------------------------------------------


def test_no_update_for_30_days_expires_with_a_critical_alert():
    state = run(order(FAR), scan(S.IN_TRANSIT, 0))
    _, state = check_silence(state, at(48), POLICY)  # the stall was already reported
    assert check_silence(state, at(719), POLICY)[0] == ()
    (alert,), after = check_silence(state, at(720), POLICY)
    assert alert.kind is AlertKind.EXPIRED
    assert alert.severity is Severity.CRITICAL
    assert alert.occurred_at == at(720)
    assert alert.message == (
        "No update for 30 days: tracking has gone silent and the parcel may be lost."
    )
    assert check_silence(after, at(2000), POLICY)[0] == ()


def test_a_long_silence_judged_late_raises_each_due_silence_once():
    state = run(order(100), scan(S.IN_TRANSIT, 0))
    alerts, state = check_silence(state, at(800), POLICY)
    assert kinds(alerts) == [AlertKind.STALLED, AlertKind.MISSED_PROMISE, AlertKind.EXPIRED]
    assert [alert.occurred_at for alert in alerts] == [at(48), at(100), at(720)]
    assert check_silence(state, at(900), POLICY)[0] == ()


# --- settled, determinism --------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.DELIVERED, S.RETURNED_TO_SENDER, S.CANCELLED])
def test_settled_shipments_raise_no_silence_ever(status):
    state = run(order(20), scan(S.IN_TRANSIT, 0), scan(status, 10))
    assert list(pending_silences(state, POLICY)) == []
    assert check_silence(state, at(5000), POLICY) == ((), state)


def test_silence_alert_ids_are_deterministic():
    state = run(order(FAR), scan(S.IN_TRANSIT, 0))
    (first,), _ = check_silence(state, at(50), POLICY)
    (again,), _ = check_silence(state, at(60), POLICY)  # judged later, e.g. by another worker
    assert first.alert_id == again.alert_id
    assert first.alert_id == alert_id(TRACKING, AlertKind.STALLED, "2026-11-20T09:00:00+00:00")
    assert first.detected_at == at(50) and again.detected_at == at(60)


def test_check_silence_does_not_change_a_state_with_nothing_due():
    state = run(order(FAR), scan(S.IN_TRANSIT, 0))
    assert check_silence(state, at(1), POLICY) == ((), state)
