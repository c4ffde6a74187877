"""The pure tracking core: transitions, duplicates, out-of-order scans and alert episodes."""

from __future__ import annotations

from functools import reduce

import pytest

from parcelwatch.schemas.state import MAX_RECENT_SCANS, ShipmentState
from parcelwatch.schemas.types import AlertKind, Severity, ShipmentStatus
from parcelwatch.streams.core.alert_rules import alert_id
from parcelwatch.streams.core.tracking import Applied, Duplicate, apply_event
from tests.factories import TRACKING, at, order, scan

NOW = at(1000)
S = ShipmentStatus


def run(*events) -> tuple[ShipmentState, list]:
    """Apply events in order; return the final state and every alert raised."""
    state, alerts = None, []
    for event in events:
        outcome = apply_event(state, event, NOW)
        if isinstance(outcome, Applied):
            alerts.extend(outcome.alerts)
        state = outcome.state
    return state, alerts


def kinds(alerts) -> list[AlertKind]:
    return [alert.kind for alert in alerts]


# --- transitions ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(ShipmentStatus))
def test_first_scan_sets_every_status(status):
    state, _ = run(scan(status, 1))
    assert state.tracking.status is status
    assert state.tracking.status_at == at(1)
    assert state.tracking.scan_count == 1
    assert state.tracking.first_scan_at == state.tracking.last_scan_at == at(1)


def test_happy_journey_moves_forward_and_raises_nothing():
    state, alerts = run(
        order(promised_in_hours=100),
        scan(S.INFO_RECEIVED, 0),
        scan(S.PICKED_UP, 5),
        scan(S.IN_TRANSIT, 20),
        scan(S.OUT_FOR_DELIVERY, 40),
        scan(S.DELIVERED, 45),
    )
    assert state.tracking.status is S.DELIVERED
    assert state.tracking.delivered_at == at(45)
    assert state.order.order_id == "A-1001"
    assert state.order.promised_by == at(100)
    assert [record.status for record in state.tracking.recent_scans] == [
        S.INFO_RECEIVED, S.PICKED_UP, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED
    ]  # fmt: skip
    assert alerts == []


def test_order_before_or_after_scans_gives_the_same_state_fields():
    events = [order(), scan(S.PICKED_UP, 1), scan(S.IN_TRANSIT, 2)]
    first, _ = run(*events)
    second, _ = run(*reversed(events))
    assert first.order == second.order
    for field in ("status", "last_scan_at"):
        assert getattr(first.tracking, field) == getattr(second.tracking, field)


def test_later_order_event_updates_the_promise():
    state, _ = run(order(72), order(96, event_id="order-2"))
    assert state.order.promised_by == at(96)


def test_older_scan_never_overwrites_a_newer_status():
    state, _ = run(scan(S.OUT_FOR_DELIVERY, 10), scan(S.IN_TRANSIT, 5))
    assert state.tracking.status is S.OUT_FOR_DELIVERY
    assert state.tracking.status_at == at(10)
    assert state.tracking.scan_count == 2
    assert [record.occurred_at for record in state.tracking.recent_scans] == [at(5), at(10)]


@pytest.mark.parametrize("late", [S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.EXCEPTION, S.PICKED_UP])
@pytest.mark.parametrize("offset", [-3, +3])  # stale scan, or a mis-dated one "after" delivery
def test_delivered_never_goes_back(late, offset):
    state, alerts = run(scan(S.DELIVERED, 10), scan(late, 10 + offset))
    assert state.tracking.status is S.DELIVERED
    assert alerts == []


def test_delivered_reported_late_still_wins():
    state, _ = run(scan(S.IN_TRANSIT, 12), scan(S.DELIVERED, 11))
    assert state.tracking.status is S.DELIVERED
    assert state.tracking.delivered_at == at(11)


def test_unknown_scan_does_not_hide_a_known_status():
    state, _ = run(scan(S.IN_TRANSIT, 1), scan(S.UNKNOWN, 2))
    assert state.tracking.status is S.IN_TRANSIT
    assert state.tracking.last_scan_at == at(2)


def test_same_time_scans_break_ties_by_progress():
    state, _ = run(scan(S.OUT_FOR_DELIVERY, 5), scan(S.IN_TRANSIT, 5))
    assert state.tracking.status is S.OUT_FOR_DELIVERY


def test_estimated_delivery_comes_from_the_newest_scan():
    state, _ = run(
        scan(S.IN_TRANSIT, 5, estimated_delivery=at(50)),
        scan(S.IN_TRANSIT, 2, estimated_delivery=at(30)),
    )
    assert state.tracking.estimated_delivery == at(50)


def test_trail_is_bounded_and_keeps_the_newest():
    events = [scan(S.IN_TRANSIT, hour) for hour in range(MAX_RECENT_SCANS + 15)]
    state, _ = run(*events)
    assert len(state.tracking.recent_scans) == MAX_RECENT_SCANS
    assert state.tracking.recent_scans[-1].occurred_at == at(MAX_RECENT_SCANS + 14)
    assert state.tracking.scan_count == MAX_RECENT_SCANS + 15


# --- duplicates ----------------------------------------------------------------------------


def test_repeated_event_id_is_a_duplicate_and_changes_nothing():
    first = apply_event(None, scan(S.EXCEPTION, 1, "e-1", reason="damaged"), NOW)
    again = apply_event(first.state, scan(S.EXCEPTION, 1, "e-1", reason="damaged"), NOW)
    assert isinstance(again, Duplicate)
    assert again.state == first.state


def test_duplicate_order_event_is_ignored():
    first = apply_event(None, order(72), NOW)
    again = apply_event(first.state, order(500), NOW)  # same event_id, different content
    assert isinstance(again, Duplicate)
    assert again.state.order.promised_by == at(72)


# --- alert rules ---------------------------------------------------------------------------


def test_exception_raises_one_alert_with_reason_and_order_context():
    _, alerts = run(order(72), scan(S.IN_TRANSIT, 1), scan(S.EXCEPTION, 5, "ex-1", reason="lost"))
    (alert,) = alerts
    assert alert.kind is AlertKind.CARRIER_EXCEPTION
    assert alert.severity is Severity.CRITICAL
    assert alert.reason.value == "lost"
    assert alert.order_id == "A-1001"
    assert alert.promised_by == at(72)
    assert alert.source_event_id == "ex-1"
    assert alert.occurred_at == at(5)
    assert alert.detected_at == NOW
    assert "lost" in alert.message


def test_weather_exception_is_a_warning():
    _, alerts = run(scan(S.EXCEPTION, 5, reason="weather_delay"))
    assert [alert.severity for alert in alerts] == [Severity.WARNING]


def test_repeated_exception_scans_stay_one_episode():
    _, alerts = run(
        scan(S.EXCEPTION, 5, "a", reason="weather_delay"),
        scan(S.EXCEPTION, 8, "b", reason="weather_delay"),
        scan(S.EXCEPTION, 12, "c", reason="carrier_delay"),
    )
    assert kinds(alerts) == [AlertKind.CARRIER_EXCEPTION]


def test_exception_after_recovery_is_a_new_episode_with_a_new_id():
    _, alerts = run(
        scan(S.EXCEPTION, 5, "a", reason="weather_delay"),
        scan(S.IN_TRANSIT, 10, "b"),
        scan(S.EXCEPTION, 15, "c", reason="missorted"),
    )
    assert kinds(alerts) == [AlertKind.CARRIER_EXCEPTION] * 2
    assert alerts[0].alert_id != alerts[1].alert_id


def test_stale_exception_scan_behind_newer_movement_raises_nothing():
    state, alerts = run(scan(S.IN_TRANSIT, 10), scan(S.EXCEPTION, 5, reason="weather_delay"))
    assert alerts == []
    assert state.tracking.exception_count == 1  # still recorded for the history


def test_each_failed_attempt_episode_alerts_once():
    _, alerts = run(
        scan(S.OUT_FOR_DELIVERY, 1, "o1"),
        scan(S.ATTEMPT_FAILED, 2, "f1", reason="recipient_unavailable"),
        scan(S.ATTEMPT_FAILED, 2.5, "f1b", reason="recipient_unavailable"),
        scan(S.OUT_FOR_DELIVERY, 25, "o2"),
        scan(S.ATTEMPT_FAILED, 26, "f2", reason="address_issue"),
    )
    assert kinds(alerts) == [AlertKind.ATTEMPT_FAILED] * 2
    assert alerts[1].reason.value == "address_issue"


def test_return_to_sender_is_one_episode_even_through_transit_scans():
    _, alerts = run(
        scan(S.RETURNING_TO_SENDER, 1, "r1", reason="refused"),
        scan(S.IN_TRANSIT, 10, "t1"),
        scan(S.RETURNED_TO_SENDER, 30, "r2"),
    )
    assert kinds(alerts) == [AlertKind.RETURNED]
    assert alerts[0].severity is Severity.CRITICAL


def test_missed_promise_fires_once_on_carrier_evidence_past_the_promise():
    _, alerts = run(
        order(promised_in_hours=24),
        scan(S.IN_TRANSIT, 10),
        scan(S.IN_TRANSIT, 30, "late-1"),
        scan(S.IN_TRANSIT, 40, "late-2"),
    )
    assert kinds(alerts) == [AlertKind.MISSED_PROMISE]
    assert alerts[0].source_event_id == "late-1"
    assert alerts[0].occurred_at == at(30)


def test_missed_promise_when_the_order_arrives_after_late_scans():
    _, alerts = run(scan(S.IN_TRANSIT, 30), order(promised_in_hours=24))
    assert kinds(alerts) == [AlertKind.MISSED_PROMISE]
    assert alerts[0].source_event_id == "order-1"


def test_an_order_applied_after_the_delivery_raises_the_missed_promise_its_scans_called_for():
    # Orders and scans come on two topics: the order may be applied after every scan.
    events = [order(promised_in_hours=24), scan(S.IN_TRANSIT, 30, "late-1"), scan(S.DELIVERED, 50)]
    _, in_publish_order = run(*events)
    _, order_last = run(events[1], events[2], events[0])
    assert kinds(order_last) == kinds(in_publish_order) == [AlertKind.MISSED_PROMISE]
    assert order_last[0].alert_id == in_publish_order[0].alert_id
    assert order_last[0].occurred_at == at(30)
    # Delivered late with no scan in between said nothing: the order raises nothing either.
    _, quiet = run(scan(S.IN_TRANSIT, 10), scan(S.DELIVERED, 30), order(promised_in_hours=24))
    assert quiet == []


def test_delivered_on_time_or_late_raises_no_missed_promise():
    _, on_time = run(order(24), scan(S.DELIVERED, 20))
    _, late = run(order(24), scan(S.DELIVERED, 30))
    assert on_time == late == []


def test_stale_scan_before_the_promise_does_not_count_as_evidence():
    _, alerts = run(order(24), scan(S.IN_TRANSIT, 10), scan(S.IN_TRANSIT, 5))
    assert alerts == []


def test_renegotiated_promise_is_a_new_episode():
    _, alerts = run(
        order(24),
        scan(S.IN_TRANSIT, 30),
        order(48, event_id="order-2"),
        scan(S.IN_TRANSIT, 50, "late"),
    )
    assert kinds(alerts) == [AlertKind.MISSED_PROMISE] * 2
    assert alerts[0].alert_id != alerts[1].alert_id


def test_no_missed_promise_once_returning():
    _, alerts = run(order(24), scan(S.RETURNING_TO_SENDER, 30, reason="refused"))
    assert kinds(alerts) == [AlertKind.RETURNED]


def test_alert_ids_are_deterministic_across_replays():
    events = [order(24), scan(S.EXCEPTION, 5, "x", reason="damaged"), scan(S.IN_TRANSIT, 30)]
    _, first = run(*events)
    _, second = run(*events)
    assert [a.alert_id for a in first] == [a.alert_id for a in second]
    assert len({a.alert_id for a in first}) == len(first) == 2


def test_alert_ids_differ_between_shipments():
    _, one = run(scan(S.EXCEPTION, 5, "x", reason="damaged"))
    _, two = run(scan(S.EXCEPTION, 5, "x", reason="damaged", tracking_number="OTHER123"))
    assert one[0].alert_id != two[0].alert_id


def test_a_raised_alert_is_remembered_by_its_open_episode():
    state, alerts = run(scan(S.EXCEPTION, 5, reason="damaged"))
    episode = state.open_episode(AlertKind.CARRIER_EXCEPTION)
    assert alerts[0].alert_id == alert_id(TRACKING, AlertKind.CARRIER_EXCEPTION, episode)


def test_alerts_without_an_order_still_name_the_shipment():
    _, (alert,) = run(scan(S.ATTEMPT_FAILED, 5, reason="recipient_unavailable"))
    assert alert.tracking_number == TRACKING
    assert alert.order_id is None
    assert alert.promised_by is None


def test_state_is_immutable_input_is_not_modified():
    first = apply_event(None, scan(S.IN_TRANSIT, 1), NOW).state
    snapshot = first
    apply_event(first, scan(S.DELIVERED, 2), NOW)
    assert first == snapshot and first.tracking.status is S.IN_TRANSIT


def test_permutations_of_a_journey_end_in_the_same_status():
    import itertools

    journey = [
        scan(S.PICKED_UP, 1),
        scan(S.IN_TRANSIT, 2),
        scan(S.OUT_FOR_DELIVERY, 3),
        scan(S.DELIVERED, 4),
    ]
    finals = {
        reduce(lambda st, ev: apply_event(st, ev, NOW).state, perm, None).tracking.status
        for perm in itertools.permutations(journey)
    }
    assert finals == {S.DELIVERED}
