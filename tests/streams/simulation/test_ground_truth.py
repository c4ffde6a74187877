"""The alerts a simulated journey should raise, from its published events and the core's rules."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from parcelwatch.schemas.types import AlertKind, ExceptionReason, ShipmentStatus
from parcelwatch.streams.core.silence import SilencePolicy
from parcelwatch.streams.simulation import SimulatedEvent, SimulationConfig, generate_journeys
from parcelwatch.streams.simulation.ground_truth import (
    RULE_KINDS,
    by_journey,
    expected_alert_list,
    expected_alert_mix,
    expected_alerts,
    injected_trouble,
)
from tests.factories import TRACKING, at, order, scan

KEY = TRACKING.encode()
POLICY = SilencePolicy()  # ground: stalled after 48 h; forgotten after 48 h
K = AlertKind


def _published(event, hours_late: float = 0.1) -> SimulatedEvent:  # type: ignore[no-untyped-def]
    moment = event.occurred_at if hasattr(event, "occurred_at") else event.ordered_at
    return SimulatedEvent(
        "scan" if hasattr(event, "occurred_at") else "order",
        KEY,
        event,
        moment + timedelta(hours=hours_late),
    )


def _smooth(promise_hours: float = 72) -> list[SimulatedEvent]:
    return [
        _published(order(promised_in_hours=promise_hours)),
        _published(scan("info_received", 0)),
        _published(scan("picked_up", 6)),
        _published(scan("in_transit", 20)),
        _published(scan("out_for_delivery", 50)),
        _published(scan("delivered", 55)),
    ]


def test_a_smooth_journey_calls_for_nothing():
    assert expected_alerts(_smooth(), POLICY, until=at(200)) == Counter()


def test_a_silence_longer_than_the_service_allows_is_one_stall_per_silence():
    journey = [
        _published(order(promised_in_hours=200)),
        _published(scan("picked_up", 0)),
        _published(scan("in_transit", 50)),  # 50 h after the pickup: stalled after 48 h
        _published(scan("in_transit", 60)),
        _published(scan("in_transit", 120)),  # 60 h: a second stall
        _published(scan("delivered", 125)),
    ]

    assert expected_alerts(journey, POLICY, until=at(300)) == Counter({K.STALLED: 2})


def test_a_silence_ended_by_the_next_publication_in_time_is_no_stall():
    # The next scan happened 47 h later but was published 49 h later: the silence the worker
    # sees lasts until the publication.
    journey = [
        _published(order(promised_in_hours=200)),
        _published(scan("picked_up", 0)),
        _published(scan("in_transit", 47), hours_late=2),
        _published(scan("delivered", 60)),
    ]

    assert expected_alerts(journey, POLICY, until=at(300))[K.STALLED] == 1
    on_time = [*journey[:2], _published(scan("in_transit", 47)), journey[3]]
    assert expected_alerts(on_time, POLICY, until=at(300))[K.STALLED] == 0


def test_injected_troubles_raise_their_alerts_once_each():
    journey = [
        _published(order(promised_in_hours=40)),
        _published(scan("picked_up", 0)),
        _published(scan("exception", 10, reason="weather_delay")),
        _published(scan("exception", 11, reason="weather_delay", event_id="again")),
        _published(scan("in_transit", 20)),
        _published(scan("attempt_failed", 42, reason="recipient_unavailable")),  # past promise
        _published(scan("out_for_delivery", 60)),
        _published(scan("delivered", 62)),
    ]
    journey.append(journey[2])  # a re-sent scan changes nothing

    assert expected_alerts(journey, POLICY, until=at(300)) == Counter(
        {K.CARRIER_EXCEPTION: 1, K.ATTEMPT_FAILED: 1, K.MISSED_PROMISE: 1}
    )


def test_a_parcel_never_picked_up_is_forgotten_and_then_late():
    journey = [_published(order(promised_in_hours=72)), _published(scan("info_received", 0))]

    assert expected_alerts(journey, POLICY, until=at(47)) == Counter()
    assert expected_alerts(journey, POLICY, until=at(100)) == Counter(
        {K.FORGOTTEN: 1, K.MISSED_PROMISE: 1}
    )


def test_nothing_published_or_due_after_the_cut_counts():
    journey = _smooth(promise_hours=52)  # delivered at 55 h: late

    assert expected_alerts(journey, POLICY, until=at(51.9)) == Counter()
    assert expected_alerts(journey, POLICY, until=at(52)) == Counter({K.MISSED_PROMISE: 1})


def test_thresholds_come_from_the_policy():
    journey = [
        _published(order(promised_in_hours=200, service_level="express")),
        _published(scan("picked_up", 0)),
        _published(scan("in_transit", 30)),
        _published(scan("delivered", 40)),
    ]

    assert expected_alerts(journey, POLICY, until=at(300)) == Counter({K.STALLED: 1})
    patient = SilencePolicy(stalled_after_by_service={"express": timedelta(hours=36)})
    assert expected_alerts(journey, patient, until=at(300)) == Counter()


NOW = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def simulated() -> list[SimulatedEvent]:
    return generate_journeys(SimulationConfig(shipments=300, seed=4), now=NOW)


def test_the_mix_sums_the_journeys_and_follows_the_injected_troubles(simulated):
    mix, close_calls = expected_alert_mix(simulated, POLICY, until=NOW)
    trouble = injected_trouble(simulated)

    per_journey = sum(
        (expected_alerts(journey, POLICY, until=NOW) for journey in by_journey(simulated).values()),
        Counter(),
    )
    assert mix == per_journey
    assert close_calls == Counter()  # none closer than zero
    assert K.DELAY_RISK not in mix and set(mix) <= set(RULE_KINDS)
    # Each injected exception episode and failed attempt is one alert, unless a late report hid
    # it behind a later scan (the current status goes by event time).
    assert 0.8 * trouble.exceptions <= mix[K.CARRIER_EXCEPTION] <= trouble.exceptions
    assert 0.8 * trouble.failed_attempts <= mix[K.ATTEMPT_FAILED] <= trouble.failed_attempts
    assert mix[K.RETURNED] == trouble.returned
    assert mix[K.MISSED_PROMISE] >= trouble.late


def test_injected_trouble_reads_the_journeys(simulated):
    trouble = injected_trouble(simulated)
    scans = {item.event.event_id: item.event for item in simulated if item.topic_kind == "scan"}
    exceptions = [s for s in scans.values() if s.status is ShipmentStatus.EXCEPTION]

    assert trouble.journeys == len(by_journey(simulated)) == 300
    assert trouble.exceptions == len(exceptions) > 0
    assert trouble.weather == sum(s.reason is ExceptionReason.WEATHER_DELAY for s in exceptions)
    assert trouble.failed_attempts > 0 and trouble.late > 0


def test_close_calls_are_silences_due_just_before_the_next_publication(simulated):
    mix, close_calls = expected_alert_mix(
        simulated, POLICY, until=NOW, close_call=timedelta(hours=3)
    )
    _, closer = expected_alert_mix(simulated, POLICY, until=NOW, close_call=timedelta(hours=1))

    assert 0 < closer.total() <= close_calls.total() < mix.total()
    assert set(close_calls) <= {K.STALLED, K.FORGOTTEN, K.MISSED_PROMISE, K.EXPIRED}
    journey = [
        _published(order(promised_in_hours=200)),
        _published(scan("picked_up", 0)),
        _published(scan("in_transit", 49), hours_late=0),  # stalled at 48 h, an hour before
        _published(scan("delivered", 60)),
    ]
    (stall,) = expected_alert_list(journey, POLICY, until=at(300))
    assert (stall.kind, stall.due_at, stall.ahead_of_next) == (
        K.STALLED,
        at(48),
        timedelta(hours=1),
    )
