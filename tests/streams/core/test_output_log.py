"""What the state records for the lookup API's answer: the order's items, and when each alert was
raised and each notification published — once each, bounded, whatever is redelivered."""

from __future__ import annotations

import orjson

from parcelwatch.schemas.state import (
    MAX_ALERT_LOG,
    MAX_NOTIFICATION_LOG,
    MAX_ORDER_ITEMS,
    NotificationEntry,
    ShipmentState,
    state_from_json,
    state_to_json,
)
from parcelwatch.schemas.types import (
    AlertKind,
    Customer,
    Item,
    NotificationChannel,
    NotificationKind,
    PredictedDelivery,
)
from parcelwatch.streams.core.follow_up import FollowUpPolicy, follow_up
from parcelwatch.streams.core.risk_rules import RiskPolicy, RiskScore, apply_risk
from parcelwatch.streams.core.silence import SilencePolicy, check_silence
from parcelwatch.streams.core.tracking import Applied, Duplicate, apply_event
from parcelwatch.streams.message_templates import load_templates
from tests.factories import at, order, scan

TEMPLATES = load_templates()
CUSTOMER = Customer("cust-9", "en-GB", "UTC", (NotificationChannel.EMAIL,))


def applied(state: ShipmentState | None, event, hours: float) -> Applied:
    outcome = apply_event(state, event, at(hours))
    assert isinstance(outcome, Applied)
    return outcome


def round_trip(state: ShipmentState) -> ShipmentState:
    return state_from_json(orjson.loads(orjson.dumps(state_to_json(state))))


def test_the_orders_items_are_kept_and_bounded():
    items = tuple(Item(f"SKU-{n}", n + 1, "books" if n % 2 else None) for n in range(60))
    state = applied(None, order(items=items), 0).state
    assert state.order.items == items[:MAX_ORDER_ITEMS]
    assert round_trip(state).order.items == items[:MAX_ORDER_ITEMS]
    assert applied(None, order(), 0).state.order.items == ()  # listed none, unlike not recorded


def test_a_rule_alert_is_logged_with_its_times_once():
    state = applied(None, order(72), 0).state
    outcome = applied(state, scan("exception", 5, "x1", reason="damaged"), 6)
    (alert,) = outcome.alerts
    (entry,) = outcome.state.outputs.alert_log
    assert (entry.kind, entry.alert_id) == (AlertKind.CARRIER_EXCEPTION, alert.alert_id)
    assert (entry.raised_at, entry.occurred_at) == (at(6), at(5))

    # The same scan again is a duplicate; another scan in the same episode raises nothing.
    assert isinstance(apply_event(outcome.state, scan("exception", 5, "x1"), at(7)), Duplicate)
    again = applied(outcome.state, scan("exception", 7, "x2", reason="damaged"), 8)
    assert again.alerts == () and again.state.outputs.alert_log == (entry,)
    assert round_trip(again.state).outputs.alert_log == (entry,)


def test_an_alert_id_already_logged_is_not_logged_twice():
    state = applied(None, order(72), 0).state
    outcome = applied(state, scan("exception", 5, "x1", reason="damaged"), 6)
    (alert,) = outcome.alerts
    # A rule that raised the same episode again (a replay after a crash) logs nothing new.
    assert outcome.state.with_alert(alert, "x1").outputs.alert_log == (
        outcome.state.outputs.alert_log
    )


def test_silence_and_risk_alerts_are_logged_too():
    state = applied(None, order(200), 0).state
    state = applied(state, scan("in_transit", 1, "m1"), 1).state
    score = RiskScore(
        state, "m1", at(1), 0.9, PredictedDelivery(at(210), at(205), at(230)), "v1", ("late",)
    )
    state, risk_alert = apply_risk(state, score, RiskPolicy(), at(2))
    alerts, state = check_silence(state, at(60), SilencePolicy())
    assert risk_alert is not None and [a.kind for a in alerts] == [AlertKind.STALLED]
    log = state.outputs.alert_log
    assert [(e.kind, e.alert_id, e.raised_at) for e in log] == [
        (AlertKind.DELAY_RISK, risk_alert.alert_id, at(2)),
        (AlertKind.STALLED, alerts[0].alert_id, at(60)),
    ]


def test_the_alert_log_keeps_the_latest_entries():
    state = applied(None, order(10_000), 0).state
    ids = []
    for n in range(MAX_ALERT_LOG + 5):  # each exception after a move is a new episode
        outcome = applied(state, scan("exception", 2 * n + 1, f"e{n}", reason="other"), 2 * n + 1)
        ids += [alert.alert_id for alert in outcome.alerts]
        state = applied(outcome.state, scan("in_transit", 2 * n + 2, f"t{n}"), 2 * n + 2).state
    assert [entry.alert_id for entry in state.outputs.alert_log] == ids[-MAX_ALERT_LOG:]


def test_a_published_notification_is_logged_once_with_its_id_and_time():
    state = applied(None, order(72, customer=CUSTOMER), 0).state
    state = applied(state, scan("in_transit", 1, "m1"), 1).state
    followed = follow_up(state, at(2), FollowUpPolicy(), TEMPLATES, check_silences=False)
    sent = {(n.kind, n.notification_id) for n in followed.notifications}
    log = followed.state.outputs.notification_log
    assert {(e.kind, e.notification_id) for e in log} == sent and len(log) == len(sent)
    assert {e.milestone for e in log} == {"shipped"} and {e.sent_at for e in log} == {at(2)}

    again = follow_up(followed.state, at(3), FollowUpPolicy(), TEMPLATES, check_silences=False)
    assert again.notifications == () and again.state.outputs.notification_log == log
    assert round_trip(again.state).outputs.notification_log == log


def test_a_notification_held_for_quiet_hours_is_logged_when_it_goes_out():
    # T0 is 09:00 UTC; the scan at +13 h is 22:00 for a UTC customer: "shipped" waits until 08:00.
    state = applied(None, order(72, customer=CUSTOMER), 0).state
    state = applied(state, scan("in_transit", 13, "m1"), 13).state
    held = follow_up(state, at(13), FollowUpPolicy(), TEMPLATES, check_silences=False)
    assert held.notifications == () and held.state.outputs.notification_log == ()

    released = follow_up(held.state, at(23), FollowUpPolicy(), TEMPLATES, check_silences=True)
    (notice,) = released.notifications
    (entry,) = released.state.outputs.notification_log
    assert entry == NotificationEntry(
        NotificationKind.SHIPPED, "shipped", notice.notification_id, at(23)
    )


def test_the_notification_log_keeps_the_latest_entries():
    entries = tuple(
        NotificationEntry(NotificationKind.DELAYED, f"delayed/{n}", f"id-{n}", at(n))
        for n in range(MAX_NOTIFICATION_LOG + 10)
    )
    state = applied(None, order(), 0).state.with_sent(entries[:20]).with_sent(entries)
    assert state.outputs.notification_log == entries[-MAX_NOTIFICATION_LOG:]
    assert state.with_sent(entries[-3:]) == state  # logged already: nothing changes
