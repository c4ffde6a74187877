"""The table value is a contract too: it must survive the changelog round trip exactly, and a
newer parcelwatch must read what an older one stored."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest

from parcelwatch.schemas.state import (
    NESTED_STATE_VERSION,
    STATE_VERSION,
    OutputRecord,
    ShipmentState,
    TimerSchedule,
    UnsupportedStateVersion,
    readable_state_json,
    state_from_json,
    state_to_json,
    stored_version,
)
from parcelwatch.schemas.types import (
    AlertKind,
    Customer,
    Location,
    NotificationChannel,
    Place,
    PredictedDelivery,
)
from parcelwatch.streams.core.follow_up import FollowUpPolicy, follow_up
from parcelwatch.streams.core.risk_rules import RiskPolicy, RiskScore, apply_risk
from parcelwatch.streams.core.tracking import apply_event
from parcelwatch.streams.message_templates import load_templates
from tests.factories import at, order, scan

FIXTURES = Path(__file__).parent / "fixtures"


def rich_state():
    state = None
    for event in [
        order(24, destination=None),
        scan("picked_up", 1, location=Location(city="Memphis", region="TN", country="US")),
        scan("exception", 5, reason="weather_delay", estimated_delivery=at(40)),
        scan("in_transit", 30),
    ]:
        state = apply_event(state, event, at(100)).state
    return state


def stored_fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def fixture_story():
    """The shipment behind ``fixtures/state-v*.json``, which the release that wrote state version 2
    stored after these very steps (every part holds something)."""
    customer = Customer(
        "cust-7", "de-DE", "Europe/Berlin", (NotificationChannel.EMAIL, NotificationChannel.SMS)
    )
    events = [
        order(
            72,
            origin=Place(country="US", region="TN", postal_code="38118"),
            destination=Place(country="DE", region="BE", postal_code="10115"),
            customer=customer,
        ),
        scan("info_received", -1),
        scan("picked_up", 1, location=Location(city="Memphis", region="TN", country="US")),
        scan("exception", 5, reason="weather_delay", estimated_delivery=at(80)),
        scan("in_transit", 30, location=Location(city="Leipzig", region="SN", country="DE")),
        scan("attempt_failed", 76, reason="recipient_unavailable"),
    ]
    state = None
    for number, event in enumerate(events):
        state = apply_event(state, event, at(100)).state
        if number == 4:  # the model scores the in_transit scan: a delay-risk episode opens
            prediction = PredictedDelivery(at(90), at(84), at(100))
            score = RiskScore(
                state, event.event_id, event.occurred_at, 0.8125, prediction,
                "2026-11-22T10-00-00", ("a",),
            )  # fmt: skip
            state, alert = apply_risk(state, score, RiskPolicy(), at(100))
            assert alert is not None
    state = follow_up(state, at(100), FollowUpPolicy(), load_templates(), check_silences=True).state
    return replace(state, timer=replace(state.timer, home_partition=3))


def without_raised_kinds(state: ShipmentState) -> ShipmentState:
    """``state`` as read from a store written before ``raised_kinds`` (and the later additions
    within version 3: the risk moments, the order's items, the alert and notification logs)
    existed."""
    risk = replace(state.risk, at_pickup=None, before_promise=None)
    outputs = replace(state.outputs, raised_kinds=(), alert_log=(), notification_log=())
    order = replace(state.order, items=None)
    return replace(state, outputs=outputs, risk=risk, order=order)


def test_round_trip_through_json_bytes_is_exact():
    state = rich_state()
    stored = orjson.loads(orjson.dumps(state_to_json(state)))  # what the changelog holds
    assert state_from_json(stored) == state
    assert stored_version(stored) == STATE_VERSION


def test_round_trip_keeps_offsets_and_microseconds():
    moment = datetime(
        2026, 3, 29, 1, 30, 0, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))
    )
    state = apply_event(None, replace(scan("in_transit", 0), occurred_at=moment), at(0)).state
    restored = state_from_json(orjson.loads(orjson.dumps(state_to_json(state))))
    assert restored.tracking.status_at == moment
    assert restored.tracking.status_at.utcoffset() == timedelta(hours=5, minutes=30)


def test_unknown_state_version_is_refused_not_misread():
    data = state_to_json(rich_state())
    data["v"] = STATE_VERSION + 1
    with pytest.raises(UnsupportedStateVersion):
        state_from_json(data)


def test_the_fixture_story_fills_every_part():
    state = fixture_story()
    assert state.order.customer is not None and state.tracking.exceptions
    assert state.risk.predicted_delivery is not None and state.outputs.open_episodes
    assert state.outputs.notified and state.timer.next_check_at is not None


def test_a_flat_version_2_state_is_read_into_the_parts():
    stored = stored_fixture("state-v2.json")  # as the previous release wrote it
    assert stored["state_version"] == 2 and "promised_by" in stored

    restored = state_from_json(stored)

    assert restored == without_raised_kinds(fixture_story())
    rewritten = orjson.loads(orjson.dumps(state_to_json(restored)))
    assert stored_version(rewritten) == STATE_VERSION
    assert state_from_json(rewritten) == restored
    assert "raised_alert_ids" not in rewritten and "updated_at" not in rewritten


def test_a_version_1_state_is_read_with_empty_notification_bookkeeping():
    stored = stored_fixture("state-v1.json")
    assert stored["state_version"] == 1 and "notified" not in stored

    restored = state_from_json(stored)

    story = without_raised_kinds(fixture_story())
    expected = replace(story, outputs=replace(story.outputs, notified=()), timer=TimerSchedule())
    assert restored == expected
    assert stored_version(state_to_json(restored)) == STATE_VERSION


def test_notification_bookkeeping_survives_the_round_trip():
    state = replace(
        rich_state(),
        outputs=OutputRecord(notified=("shipped", "delayed/x")),
        timer=TimerSchedule(next_check_at=at(60), home_partition=2),
    )
    assert state_from_json(orjson.loads(orjson.dumps(state_to_json(state)))) == state


def test_a_version_3_state_stored_before_raised_kinds_is_read_with_none_raised():
    stored = stored_fixture("state-v3.json")  # as the release before raised_kinds wrote it
    assert stored["state_version"] == NESTED_STATE_VERSION
    assert "raised_kinds" not in stored["outputs"]

    restored = state_from_json(stored)

    assert restored == without_raised_kinds(fixture_story())
    assert state_from_json(orjson.loads(orjson.dumps(state_to_json(restored)))) == restored


def test_raised_kinds_keep_every_kind_ever_raised_closed_episodes_included():
    state = fixture_story()  # its carrier exception closed when the parcel moved on

    assert AlertKind.CARRIER_EXCEPTION not in dict(state.outputs.open_episodes)
    assert set(state.outputs.raised_kinds) == {kind for kind, _ in state.outputs.open_episodes} | {
        AlertKind.CARRIER_EXCEPTION
    }
    assert list(state.outputs.raised_kinds) == sorted(set(state.outputs.raised_kinds))
    assert state_from_json(orjson.loads(orjson.dumps(state_to_json(state)))) == state


def test_opening_an_episode_records_its_kind_once_and_closing_keeps_it():
    state = rich_state().with_episode(AlertKind.STALLED, "e1")
    reopened = state.with_episode(AlertKind.STALLED, None).with_episode(AlertKind.STALLED, "e2")
    closed = reopened.with_episode(AlertKind.STALLED, None)

    assert reopened.outputs.raised_kinds.count(AlertKind.STALLED) == 1
    assert AlertKind.STALLED in closed.outputs.raised_kinds
    assert closed.open_episode(AlertKind.STALLED) is None


def test_risk_moments_and_the_outcome_mark_survive_the_round_trip():
    state = fixture_story()
    assert state.risk.at_pickup is not None and state.risk.before_promise is not None
    state = replace(state, outputs=replace(state.outputs, outcome_recorded=True))
    assert state_from_json(orjson.loads(orjson.dumps(state_to_json(state)))) == state


def test_a_version_3_state_stored_before_the_risk_moments_reads_them_empty():
    stored = readable_state_json(fixture_story())  # version 3
    del stored["risk"]["at_pickup"], stored["risk"]["before_promise"]
    del stored["outputs"]["outcome_recorded"]

    restored = state_from_json(stored)

    assert restored.risk.at_pickup is None and restored.risk.before_promise is None
    assert restored.outputs.outcome_recorded is False
