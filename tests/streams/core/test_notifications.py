"""Customer notifications: which milestones are due, which go out now, and the follow-up loop."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from parcelwatch.schemas.state import ShipmentState
from parcelwatch.schemas.types import (
    AlertKind,
    Customer,
    NotificationChannel,
    NotificationKind,
    Order,
    Scan,
    ShipmentStatus,
)
from parcelwatch.streams.core.alert_rules import alert_id
from parcelwatch.streams.core.follow_up import FollowUpPolicy, follow_up, next_check_at
from parcelwatch.streams.core.notification_text import notification_id
from parcelwatch.streams.core.notifications import (
    NotificationPolicy,
    Skip,
    decide,
    due_milestones,
    next_review_at,
)
from parcelwatch.streams.core.silence import SilencePolicy, check_silence
from parcelwatch.streams.core.tracking import Duplicate, apply_event
from parcelwatch.streams.message_templates import load_templates
from tests.factories import TRACKING, at, order, scan

K = NotificationKind
S = ShipmentStatus
EMAIL = NotificationChannel.EMAIL
CUSTOMER = Customer("cust-42", "en-GB", "UTC", (EMAIL,))
SILENCE = SilencePolicy()
ALWAYS = NotificationPolicy(quiet_hours=None)  # no quiet hours
NIGHTS = NotificationPolicy()  # quiet 21:00-08:00 in the customer's zone
PROMISE = "2026-11-23T09:00:00+00:00"  # order()'s default promise, at(72)
TEMPLATES = load_templates()


def when(event: Scan | Order) -> datetime:
    """Process each event at its own time (an order one hour after it was placed)."""
    return event.occurred_at if isinstance(event, Scan) else event.ordered_at + timedelta(hours=1)


def shop(promised_in_hours: float = 72, customer: Customer | None = CUSTOMER, **extra) -> Order:
    return order(promised_in_hours, customer=customer, **extra)


def run(*events) -> ShipmentState:
    """Apply events without deciding anything in between."""
    state = None
    for event in events:
        state = apply_event(state, event, when(event)).state
    return state


def journey(*events, state=None, policy=ALWAYS) -> tuple[ShipmentState, list[NotificationKind]]:
    """Apply events one by one, deciding after each as the worker does; return every kind sent."""
    sent = []
    for event in events:
        now = when(event)
        state = apply_event(state, event, now).state
        decision = decide(state, now, policy, SILENCE)
        state = decision.state
        sent.extend(milestone.kind for milestone in decision.send)
    return state, sent


def sent_kinds(decision) -> list[NotificationKind]:
    return [milestone.kind for milestone in decision.send]


# --- the journey -----------------------------------------------------------------------------


def test_order_with_a_reachable_customer_is_confirmed_at_its_order_time():
    state = run(shop())
    decision = decide(state, at(-1), ALWAYS, SILENCE)
    (milestone,) = decision.send
    assert milestone.kind is K.ORDER_CONFIRMED
    assert milestone.key == "order_confirmed"
    assert milestone.occurred_at == at(-2)
    assert decision.skipped == () and decision.wake_at is None
    assert decision.state.outputs.notified == ("order_confirmed",)


def test_label_scan_is_not_a_shipment():
    _, sent = journey(shop(), scan(S.INFO_RECEIVED, 0))
    assert sent == [K.ORDER_CONFIRMED]


def test_first_physical_scan_is_shipped_and_later_scans_add_nothing():
    _, sent = journey(
        shop(),
        scan(S.INFO_RECEIVED, 0),
        scan(S.PICKED_UP, 5),
        scan(S.IN_TRANSIT, 20),
        scan(S.IN_TRANSIT, 30),
    )
    assert sent == [K.ORDER_CONFIRMED, K.SHIPPED]


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (S.INFO_RECEIVED, K.ORDER_CONFIRMED),
        (S.PICKED_UP, K.SHIPPED),
        (S.IN_TRANSIT, K.SHIPPED),
        (S.EXCEPTION, K.SHIPPED),
        (S.ATTEMPT_FAILED, K.SHIPPED),
        (S.OUT_FOR_DELIVERY, K.OUT_FOR_DELIVERY),
        (S.AVAILABLE_FOR_PICKUP, K.AVAILABLE_FOR_PICKUP),
        (S.DELIVERED, K.DELIVERED),
        (S.RETURNING_TO_SENDER, None),
        (S.CANCELLED, None),
        (S.UNKNOWN, None),
    ],
)
def test_each_status_calls_for_its_journey_milestone(status, kind):
    state = run(shop(), scan(status, 5))
    journey_kinds = [m.kind for m in due_milestones(state, at(5), ALWAYS, SILENCE) if m.is_journey]
    assert journey_kinds == ([kind] if kind else [])


def test_full_journey_tells_each_milestone_once_in_order():
    _, sent = journey(
        shop(),
        scan(S.INFO_RECEIVED, 0),
        scan(S.PICKED_UP, 5),
        scan(S.OUT_FOR_DELIVERY, 40),
        scan(S.OUT_FOR_DELIVERY, 41),
        scan(S.DELIVERED, 45),
    )
    assert sent == [K.ORDER_CONFIRMED, K.SHIPPED, K.OUT_FOR_DELIVERY, K.DELIVERED]


def test_out_for_delivery_never_follows_delivered_when_its_scan_arrives_late():
    state, sent = journey(shop(), scan(S.PICKED_UP, 5), scan(S.DELIVERED, 45))
    state, late = journey(scan(S.OUT_FOR_DELIVERY, 40), state=state)
    assert sent == [K.ORDER_CONFIRMED, K.SHIPPED, K.DELIVERED]
    assert late == []
    assert state.tracking.status is S.DELIVERED


def test_backlog_that_ends_delivered_sends_only_delivered():
    state = run(shop(), scan(S.PICKED_UP, 5), scan(S.OUT_FOR_DELIVERY, 40), scan(S.DELIVERED, 45))
    decision = decide(state, at(46), ALWAYS, SILENCE)
    assert sent_kinds(decision) == [K.DELIVERED]
    assert decision.state.outputs.notified == ("delivered",)


def test_no_journey_milestone_goes_out_after_a_higher_one_was_notified():
    state = run(shop(), scan(S.OUT_FOR_DELIVERY, 40))
    state = replace(state, outputs=replace(state.outputs, notified=("delivered",)))
    decision = decide(state, at(41), ALWAYS, SILENCE)
    assert decision.send == ()
    assert decision.state.outputs.notified == ("delivered",)


def test_pickup_point_milestones_rank_between_out_for_delivery_and_delivered():
    _, sent = journey(
        shop(),
        scan(S.OUT_FOR_DELIVERY, 40),
        scan(S.ATTEMPT_FAILED, 44, reason="recipient_unavailable"),
        scan(S.AVAILABLE_FOR_PICKUP, 50),
        scan(S.OUT_FOR_DELIVERY, 49),  # reported late: older than the pickup-point scan
        scan(S.DELIVERED, 60),
    )
    assert sent == [
        K.ORDER_CONFIRMED,
        K.OUT_FOR_DELIVERY,
        K.ATTEMPT_FAILED,
        K.AVAILABLE_FOR_PICKUP,
        K.DELIVERED,
    ]


# --- failed attempts and exceptions: once per alert episode ----------------------------------


def test_failed_attempt_is_told_once_per_episode_and_links_its_alert():
    state, sent = journey(
        shop(),
        scan(S.OUT_FOR_DELIVERY, 40),
        scan(S.ATTEMPT_FAILED, 44, "af-1", reason="recipient_unavailable"),
        scan(S.ATTEMPT_FAILED, 45, "af-1-again", reason="recipient_unavailable"),
    )
    assert sent == [K.ORDER_CONFIRMED, K.OUT_FOR_DELIVERY, K.ATTEMPT_FAILED]
    assert "attempt_failed/attempt_failed/af-1" in state.outputs.notified
    state, sent = journey(
        scan(S.OUT_FOR_DELIVERY, 60), scan(S.ATTEMPT_FAILED, 64, "af-2"), state=state
    )
    assert sent == [K.ATTEMPT_FAILED]  # a new episode; "out for delivery" is not repeated
    assert "attempt_failed/attempt_failed/af-2" in state.outputs.notified


def test_failed_attempt_milestone_carries_the_alert_id():
    state = run(shop(), scan(S.ATTEMPT_FAILED, 44, "af-1"))
    (milestone,) = [m for m in due_milestones(state, at(44), ALWAYS, SILENCE) if not m.is_journey]
    assert milestone.kind is K.ATTEMPT_FAILED
    assert milestone.alert_kind is AlertKind.ATTEMPT_FAILED
    assert milestone.alert_id == alert_id(TRACKING, AlertKind.ATTEMPT_FAILED, "af-1")
    assert milestone.occurred_at == at(44)


def test_carrier_exception_is_told_once_per_episode():
    state, sent = journey(
        shop(),
        scan(S.PICKED_UP, 5),
        scan(S.EXCEPTION, 10, "ex-1", reason="weather_delay"),
        scan(S.EXCEPTION, 12, "ex-1-again", reason="weather_delay"),
        scan(S.IN_TRANSIT, 20),
        scan(S.EXCEPTION, 30, "ex-2", reason="customs_delay"),
    )
    assert sent == [K.ORDER_CONFIRMED, K.SHIPPED, K.EXCEPTION, K.EXCEPTION]
    assert [key for key in state.outputs.notified if key.startswith("exception/")] == [
        "exception/carrier_exception/ex-1",
        "exception/carrier_exception/ex-2",
    ]


def test_return_to_sender_is_told_once_as_an_exception():
    state, sent = journey(
        shop(),
        scan(S.PICKED_UP, 5),
        scan(S.RETURNING_TO_SENDER, 10, "rts", reason="refused"),
        scan(S.RETURNED_TO_SENDER, 50),
    )
    assert sent == [K.ORDER_CONFIRMED, K.SHIPPED, K.EXCEPTION]
    assert "exception/returned/rts" in state.outputs.notified


# --- delayed: once per promise ---------------------------------------------------------------


def test_carrier_estimate_past_the_promise_is_told_as_delayed_once():
    state = run(shop(72), scan(S.PICKED_UP, 5))
    state = decide(state, at(5), ALWAYS, SILENCE).state
    state = apply_event(state, scan(S.IN_TRANSIT, 20, estimated_delivery=at(90)), at(20)).state
    decision = decide(state, at(20), ALWAYS, SILENCE)
    (milestone,) = decision.send
    assert milestone.kind is K.DELAYED
    assert milestone.key == f"delayed/{PROMISE}"
    assert milestone.occurred_at == at(20)
    assert milestone.alert_id is None
    state = apply_event(
        decision.state, scan(S.IN_TRANSIT, 30, estimated_delivery=at(100)), at(30)
    ).state
    assert decide(state, at(30), ALWAYS, SILENCE).send == ()


def test_carrier_estimate_within_the_promise_is_not_a_delay():
    _, sent = journey(shop(72), scan(S.IN_TRANSIT, 20, estimated_delivery=at(72)))
    assert K.DELAYED not in sent


def test_missed_promise_is_told_as_delayed_with_its_alert():
    state = run(shop(20), scan(S.IN_TRANSIT, 10), scan(S.IN_TRANSIT, 25))
    (milestone,) = [m for m in due_milestones(state, at(25), ALWAYS, SILENCE) if not m.is_journey]
    assert milestone.kind is K.DELAYED
    assert milestone.alert_kind is AlertKind.MISSED_PROMISE
    missed = alert_id(TRACKING, AlertKind.MISSED_PROMISE, "2026-11-21T05:00:00+00:00")
    assert milestone.alert_id == missed
    assert milestone.occurred_at == at(20)  # the delay became evident when the promise passed


def test_delay_risk_episode_is_told_as_delayed_with_its_alert():
    state = run(shop(72), scan(S.IN_TRANSIT, 10, "scored-scan"))
    state = state.with_episode(AlertKind.DELAY_RISK, "scored-scan")
    (milestone,) = [m for m in due_milestones(state, at(10), ALWAYS, SILENCE) if not m.is_journey]
    assert milestone.kind is K.DELAYED
    assert milestone.alert_kind is AlertKind.DELAY_RISK
    assert milestone.alert_id == alert_id(TRACKING, AlertKind.DELAY_RISK, "scored-scan")
    assert milestone.occurred_at == at(10)


def test_stalled_episode_is_told_as_delayed_from_when_the_stall_began():
    state = run(shop(500), scan(S.IN_TRANSIT, 10))
    _, state = check_silence(state, at(60), SILENCE)  # stalled since at(58)
    (milestone,) = [m for m in due_milestones(state, at(60), ALWAYS, SILENCE) if not m.is_journey]
    assert milestone.kind is K.DELAYED
    assert milestone.alert_kind is AlertKind.STALLED
    stalled = alert_id(TRACKING, AlertKind.STALLED, "2026-11-20T19:00:00+00:00")
    assert milestone.alert_id == stalled
    assert milestone.occurred_at == at(58)


def test_delayed_links_the_strongest_evidence_first():
    state = run(shop(20), scan(S.IN_TRANSIT, 10, "scored-scan"), scan(S.IN_TRANSIT, 25))
    state = state.with_episode(AlertKind.DELAY_RISK, "scored-scan")
    delayed = [m for m in due_milestones(state, at(25), ALWAYS, SILENCE) if m.kind is K.DELAYED]
    assert [m.alert_kind for m in delayed] == [AlertKind.MISSED_PROMISE]


def test_delayed_is_told_once_per_promise_and_again_for_a_renegotiated_one():
    state = run(shop(20), scan(S.IN_TRANSIT, 10, "scored-scan"))
    first = decide(state.with_episode(AlertKind.DELAY_RISK, "scored-scan"), at(10), ALWAYS, SILENCE)
    state, missed = journey(scan(S.IN_TRANSIT, 25), state=first.state)  # the same promise
    state = state.with_episode(AlertKind.DELAY_RISK, None)  # the risk has dropped again
    state, renegotiated = journey(shop(40, event_id="order-2"), scan(S.IN_TRANSIT, 45), state=state)
    assert sent_kinds(first) == [K.SHIPPED, K.DELAYED]
    assert missed == []
    assert renegotiated == [K.DELAYED]
    assert [key for key in state.outputs.notified if key.startswith("delayed/")] == [
        "delayed/2026-11-21T05:00:00+00:00",
        "delayed/2026-11-22T01:00:00+00:00",
    ]


def test_no_delay_is_told_once_delivered():
    state = run(shop(20), scan(S.IN_TRANSIT, 10, estimated_delivery=at(30)), scan(S.DELIVERED, 28))
    assert [m.kind for m in due_milestones(state, at(28), ALWAYS, SILENCE)] == [K.DELIVERED]


# --- review request --------------------------------------------------------------------------


def delivered(customer: Customer | None = CUSTOMER) -> ShipmentState:
    state = run(shop(customer=customer), scan(S.DELIVERED, 45))
    return decide(state, at(45), ALWAYS, SILENCE).state


def test_review_falls_due_a_day_after_delivery():
    assert next_review_at(delivered(), ALWAYS) == at(69)
    assert next_review_at(run(shop(), scan(S.IN_TRANSIT, 45)), ALWAYS) is None
    opted_out = Customer("cust-42", "en", "UTC", ())
    assert next_review_at(delivered(opted_out), ALWAYS) is None


def test_review_request_is_sent_inside_the_window_and_only_once():
    state = delivered()
    assert decide(state, at(69) - timedelta(seconds=1), ALWAYS, SILENCE).send == ()
    decision = decide(state, at(69), ALWAYS, SILENCE)
    (milestone,) = decision.send
    assert milestone.kind is K.REVIEW_REQUEST
    assert milestone.occurred_at == at(69)
    assert next_review_at(decision.state, ALWAYS) is None
    assert decide(decision.state, at(80), ALWAYS, SILENCE).send == ()


@pytest.mark.parametrize(
    ("hours_after_delivery", "sent"), [(24, True), (47.99, True), (48, False), (200, False)]
)
def test_review_request_outside_the_48_hour_window_is_skipped_for_good(hours_after_delivery, sent):
    decision = decide(delivered(), at(45 + hours_after_delivery), ALWAYS, SILENCE)
    if sent:
        assert sent_kinds(decision) == [K.REVIEW_REQUEST] and decision.skipped == ()
    else:
        assert decision.send == ()
        assert [(m.kind, why) for m, why in decision.skipped] == [
            (K.REVIEW_REQUEST, Skip.WINDOW_CLOSED)
        ]
    assert decision.state.was_notified("review_request")


# --- stale milestones ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("late_by", "stale"),
    [(timedelta(hours=72), False), (timedelta(hours=72, seconds=1), True)],
)
def test_milestone_older_than_72_hours_is_recorded_but_not_sent(late_by, stale):
    state = run(shop(500), scan(S.PICKED_UP, 5))
    decision = decide(state, at(5) + late_by, ALWAYS, SILENCE)
    if stale:
        assert decision.send == ()
        assert [(m.kind, why) for m, why in decision.skipped] == [(K.SHIPPED, Skip.STALE)]
    else:
        assert sent_kinds(decision) == [K.SHIPPED] and decision.skipped == ()
    assert decision.state.outputs.notified == ("shipped",)


# --- quiet hours -----------------------------------------------------------------------------


def test_quiet_hours_hold_non_urgent_milestones_without_recording_them():
    state = run(shop(), scan(S.PICKED_UP, 13))  # at(13) is 22:00 UTC, the customer's zone
    decision = decide(state, at(13), NIGHTS, SILENCE)
    assert decision.send == () and decision.skipped == ()
    assert decision.wake_at == at(23)  # 08:00 UTC next morning
    assert decision.state.outputs.notified == ()
    assert sent_kinds(decide(state, decision.wake_at, NIGHTS, SILENCE)) == [K.SHIPPED]


@pytest.mark.parametrize(
    ("events", "urgent"),
    [
        ([scan(S.OUT_FOR_DELIVERY, 13)], K.OUT_FOR_DELIVERY),
        ([scan(S.AVAILABLE_FOR_PICKUP, 13)], K.AVAILABLE_FOR_PICKUP),
        ([scan(S.ATTEMPT_FAILED, 13, reason="address_issue")], K.ATTEMPT_FAILED),
        ([scan(S.EXCEPTION, 13, reason="lost")], K.EXCEPTION),
    ],
)
def test_urgent_milestones_go_out_during_quiet_hours(events, urgent):
    state = run(shop(), *events)
    decision = decide(state, at(13), NIGHTS, SILENCE)
    assert sent_kinds(decision) == [urgent]
    # The "shipped" that goes with a failed attempt or an exception still waits for morning.
    assert decision.wake_at == (at(23) if urgent in (K.ATTEMPT_FAILED, K.EXCEPTION) else None)


def test_quiet_hours_follow_the_customers_time_zone():
    berlin = Customer("cust-42", "de-DE", "Europe/Berlin", (EMAIL,))
    new_york = Customer("cust-43", "en-US", "America/New_York", (EMAIL,))
    in_berlin = run(shop(customer=berlin), scan(S.PICKED_UP, 13))  # 23:00 in Berlin
    in_new_york = run(shop(customer=new_york), scan(S.PICKED_UP, 13))  # 17:00 in New York
    held = decide(in_berlin, at(13), NIGHTS, SILENCE)
    assert held.send == () and held.wake_at == at(22)  # 08:00 CET
    assert sent_kinds(decide(in_new_york, at(13), NIGHTS, SILENCE)) == [K.SHIPPED]


def test_stale_milestones_are_recorded_even_during_quiet_hours():
    state = run(shop(500), scan(S.PICKED_UP, -70))
    decision = decide(state, at(13), NIGHTS, SILENCE)
    assert [(m.kind, why) for m, why in decision.skipped] == [(K.SHIPPED, Skip.STALE)]
    assert decision.wake_at is None


# --- nobody to tell --------------------------------------------------------------------------


def test_scans_without_an_order_notify_nobody_and_record_nothing():
    state, sent = journey(scan(S.PICKED_UP, 5), scan(S.OUT_FOR_DELIVERY, 40))
    assert sent == [] and state.outputs.notified == ()


@pytest.mark.parametrize(
    "customer", [None, Customer("cust-42", "en", "UTC", ())], ids=["no_customer", "opted_out"]
)
def test_order_without_a_reachable_customer_notifies_nobody(customer):
    state, sent = journey(shop(customer=customer), scan(S.PICKED_UP, 5))
    assert sent == [] and state.outputs.notified == ()
    assert decide(state, at(5), ALWAYS, SILENCE).wake_at is None


def test_order_arriving_after_the_scans_gets_only_the_current_milestone():
    state, before = journey(scan(S.PICKED_UP, 5), scan(S.OUT_FOR_DELIVERY, 40))
    state, after = journey(shop(ordered_at=at(39)), state=state)
    decision = decide(state, at(41), ALWAYS, SILENCE)
    assert before == []
    assert after == [K.OUT_FOR_DELIVERY]
    assert decision.send == ()


def test_deciding_twice_sends_nothing_the_second_time():
    state = run(shop(), scan(S.PICKED_UP, 5), scan(S.EXCEPTION, 6, reason="damaged"))
    first = decide(state, at(6), ALWAYS, SILENCE)
    second = decide(first.state, at(7), ALWAYS, SILENCE)
    assert sent_kinds(first) == [K.SHIPPED, K.EXCEPTION]
    assert second.send == () and second.skipped == ()
    assert second.state == first.state


# --- follow_up: silences, notifications and when to look again -------------------------------

POLICY = FollowUpPolicy(notifications=ALWAYS)
JOURNEY = (
    shop(),
    scan(S.INFO_RECEIVED, 0),
    scan(S.PICKED_UP, 5),
    scan(S.IN_TRANSIT, 20),
    scan(S.OUT_FOR_DELIVERY, 40),
    scan(S.DELIVERED, 45),
)


def drive(events, state=None, policy=POLICY):
    """Apply events and follow up after each, then let the timer look at the review time."""
    notifications, alerts = [], []
    for event in events:
        now = when(event)
        outcome = apply_event(state, event, now)
        state = outcome.state
        if isinstance(outcome, Duplicate):
            continue
        result = follow_up(state, now, policy, TEMPLATES, check_silences=False)
        state = result.state
        notifications.extend(result.notifications)
        alerts.extend(result.alerts)
    result = follow_up(state, at(69), policy, TEMPLATES, check_silences=True)
    notifications.extend(result.notifications)
    alerts.extend(result.alerts)
    return result.state, notifications, alerts


def test_full_journey_yields_exactly_the_five_customer_milestones():
    state, notifications, alerts = drive(JOURNEY)
    assert [n.kind for n in notifications] == [
        K.ORDER_CONFIRMED,
        K.SHIPPED,
        K.OUT_FOR_DELIVERY,
        K.DELIVERED,
        K.REVIEW_REQUEST,
    ]
    assert alerts == []
    assert [n.created_at for n in notifications] == [at(-1), at(5), at(40), at(45), at(69)]
    assert state.timer.next_check_at is None  # delivered and reviewed: nothing left to wait for


def test_replaying_the_journey_yields_nothing_more():
    state, _, _ = drive(JOURNEY)
    replayed, notifications, alerts = drive(JOURNEY, state=state)
    assert notifications == [] and alerts == []
    assert replayed.outputs.notified == state.outputs.notified


def test_notification_ids_are_deterministic():
    _, first, _ = drive(JOURNEY)
    _, second, _ = drive(JOURNEY)
    assert [n.notification_id for n in first] == [n.notification_id for n in second]
    assert first[1].notification_id == notification_id(TRACKING, "shipped")
    assert len({n.notification_id for n in first}) == 5


def test_next_check_is_the_earliest_pending_silence():
    state = run(shop(), scan(S.PICKED_UP, 5))
    # stalled at(53), missed promise at(72), expired at(725)
    assert next_check_at(state, POLICY, at(6)) == at(53)
    assert next_check_at(state, POLICY, at(6), held_until=at(30)) == at(30)
    assert next_check_at(state, POLICY, at(6), held_until=at(60)) == at(53)


def test_next_check_after_delivery_is_the_review_request_then_nothing():
    state = delivered()
    assert next_check_at(state, POLICY, at(46)) == at(69)
    notified = (*state.outputs.notified, "review_request")
    reviewed = replace(state, outputs=replace(state.outputs, notified=notified))
    assert next_check_at(reviewed, POLICY, at(46)) is None


def test_a_review_request_held_by_quiet_hours_wakes_at_their_end_not_in_a_loop():
    state = delivered()  # review due at(69) = 2026-11-23 06:00 UTC
    assert next_check_at(state, POLICY, at(70), held_until=at(71)) == at(71)


def test_follow_up_waits_for_the_end_of_quiet_hours_when_that_comes_first():
    state = run(shop(), scan(S.PICKED_UP, 13))
    result = follow_up(state, at(13), FollowUpPolicy(), TEMPLATES, check_silences=False)
    assert result.notifications == ()
    assert result.state.timer.next_check_at == at(23)  # before the stall at(61)
    later = follow_up(result.state, at(23), FollowUpPolicy(), TEMPLATES, check_silences=True)
    assert [n.kind for n in later.notifications] == [K.SHIPPED]
    assert later.state.timer.next_check_at == at(61)


def test_only_a_timer_check_judges_silences():
    state = run(shop(500), scan(S.IN_TRANSIT, 10))
    state = follow_up(state, at(10), POLICY, TEMPLATES, check_silences=False).state
    by_scan = follow_up(state, at(60), POLICY, TEMPLATES, check_silences=False)
    by_timer = follow_up(state, at(60), POLICY, TEMPLATES, check_silences=True)
    assert by_scan.alerts == ()
    assert by_scan.state.timer.next_check_at == at(58)  # overdue: the timer will ask right away
    (alert,) = by_timer.alerts
    assert alert.kind is AlertKind.STALLED
    episode = by_timer.state.open_episode(AlertKind.STALLED)  # raised once per episode
    assert alert.alert_id == alert_id(TRACKING, AlertKind.STALLED, episode)
    (delayed,) = by_timer.notifications
    assert delayed.kind is K.DELAYED and delayed.alert_id == alert.alert_id


def test_a_renegotiated_promise_closes_the_risk_episode_judged_against_the_old_one():
    at_risk = run(shop(72), scan(S.IN_TRANSIT, 10)).with_episode(AlertKind.DELAY_RISK, "scan-10")
    renegotiated = apply_event(at_risk, shop(200, event_id="order-2"), at(11)).state
    assert renegotiated.open_episode(AlertKind.DELAY_RISK) is None
    kinds = [m.kind for m in decide(renegotiated, at(11), ALWAYS, SILENCE).send]
    assert K.DELAYED not in kinds
