"""The demo's clock and its worker's settings: every duration divided by the same factor, and the
worker reads them back as the policy it was given, faster."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from parcelwatch.schemas.types import AlertKind
from parcelwatch.streams.core.follow_up import FollowUpPolicy
from parcelwatch.streams.core.silence import SilencePolicy
from parcelwatch.streams.devtools.alert_mix import SeenAlerts, alert_mix_lines
from parcelwatch.streams.devtools.demo_clock import (
    DEFAULT_PLAYBACK_SECONDS,
    DRAIN_SECONDS,
    MIN_CHECK_INTERVAL_SECONDS,
    DemoClock,
    scaled_worker_env,
)
from parcelwatch.streams.runtime.settings import Settings
from parcelwatch.streams.simulation.ground_truth import InjectedTrouble


def test_the_duration_covers_the_playback_and_the_drain():
    clock = DemoClock.for_duration(75)

    assert clock.played == timedelta(seconds=75 - DRAIN_SECONDS)
    assert clock.factor == pytest.approx(clock.simulated.total_seconds() / (75 - DRAIN_SECONDS))
    assert DemoClock.for_duration(None).played == timedelta(seconds=DEFAULT_PLAYBACK_SECONDS)
    assert "simulated days in" in clock.describe()


def _close(duration: timedelta):  # type: ignore[no-untyped-def]
    return pytest.approx(duration, abs=timedelta(microseconds=10))


def _scaled(policy: FollowUpPolicy, factor: float, check_interval: float = 60.0) -> Settings:
    return Settings.from_env(scaled_worker_env(policy, check_interval, factor))


def test_the_worker_reads_the_policy_back_divided_by_the_factor():
    policy = FollowUpPolicy()
    factor = 10_000.0

    worker = _scaled(policy, factor)

    silence, scaled = policy.silence, worker.follow_up_policy.silence
    for name in ("forgotten_after", "stalled_after", "missed_promise_grace", "expired_after"):
        assert getattr(scaled, name) == _close(getattr(silence, name) / factor), name
    assert scaled.stalled_after_by_service.keys() == silence.stalled_after_by_service.keys()
    for service, threshold in silence.stalled_after_by_service.items():
        assert scaled.stalled_after_by_service[service] == _close(threshold / factor)
    notifications, scaled_notifications = (
        policy.notifications,
        worker.follow_up_policy.notifications,
    )
    for name in ("review_after", "review_window", "stale_after"):
        expected = getattr(notifications, name) / factor
        assert getattr(scaled_notifications, name) == _close(expected), name


def test_an_operators_own_thresholds_are_scaled_too():
    policy = FollowUpPolicy(silence=SilencePolicy(stalled_after=timedelta(hours=12)))

    worker = _scaled(policy, 3600.0)

    assert worker.follow_up_policy.silence.stalled_after == _close(timedelta(seconds=12))


def test_the_clock_converts_played_seconds_to_simulated_time():
    clock = DemoClock(simulated=timedelta(days=10), played=timedelta(seconds=80))

    assert clock.simulated_span(2.0) == timedelta(hours=6)


def test_the_check_interval_follows_the_clock_down_to_a_floor():
    assert _scaled(FollowUpPolicy(), 10.0, 60.0).check_interval_seconds == pytest.approx(6.0)
    floor = _scaled(FollowUpPolicy(), 10_000.0, 60.0).check_interval_seconds
    assert floor == MIN_CHECK_INTERVAL_SECONDS


def test_a_factor_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        scaled_worker_env(FollowUpPolicy(), 60.0, 0)


def _trouble() -> InjectedTrouble:
    return InjectedTrouble(
        journeys=10, exceptions=2, weather=1, failed_attempts=1, returned=0, late=1
    )


def test_the_alert_mix_compares_kind_by_kind_and_in_total():
    expected = Counter({AlertKind.STALLED: 4, AlertKind.CARRIER_EXCEPTION: 2})
    seen = SeenAlerts(
        in_window=Counter({"stalled": 3, "carrier_exception": 2, "delay_risk": 5}),
        after_window=Counter({"missed_promise": 2}),
        other_shipments=7,
    )

    close_calls = Counter({AlertKind.STALLED: 1})

    lines = alert_mix_lines(expected, close_calls, seen, _trouble(), "1.5 simulated hours")
    rows = {line.split()[2]: line.split()[3:] for line in lines if line.startswith("alert mix ")}

    assert rows["stalled"] == ["4", "3", "-1", "1"]
    assert rows["carrier_exception"] == ["2", "2", "+0", "0"]
    assert rows["total"] == ["6", "5", "-1", "1", "(-16.7%)"]  # delay_risk is not in the total
    assert any("(1.5 simulated hours)" in line for line in lines)
    assert "attempt_failed" not in rows  # neither expected nor seen
    assert any("delay_risk" in line and line.endswith("seen 5") for line in lines)
    assert any("missed_promise: 2" in line for line in lines if line.startswith("not compared"))
    assert any("7 alerts about shipments of earlier" in line for line in lines)
    assert "2 carrier exceptions (1 weather)" in lines[0]
    assert any(
        line.endswith("every difference is a close call: seen matches the ground truth")
        for line in lines
    )


def test_the_alert_mix_names_differences_beyond_the_close_calls():
    expected = Counter({AlertKind.STALLED: 10, AlertKind.FORGOTTEN: 5})
    seen = SeenAlerts(in_window=Counter({"stalled": 12, "forgotten": 2}))
    close_calls = Counter({AlertKind.FORGOTTEN: 1})

    lines = alert_mix_lines(expected, close_calls, seen, _trouble(), "1 simulated hour")

    assert "alert mix    beyond the close calls: forgotten -2, stalled +2" in lines
