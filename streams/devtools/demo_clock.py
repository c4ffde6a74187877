"""The demo's clock: how fast simulated time runs, and the worker settings that run as fast.

The demo plays days of simulated journeys in seconds (``parcelwatch.streams.simulation.playback``).
Its worker must judge silences on the same clock, so every duration in the silence and
notification policies is divided by the same factor: "stalled after 48 h" still means 48
simulated hours. Pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from parcelwatch.streams.core.follow_up import FollowUpPolicy
from parcelwatch.streams.simulation.playback import compression_factor

SIMULATED_DAYS = 10.0  # orders placed over this many simulated days are played
DEFAULT_PLAYBACK_SECONDS = 60.0  # without --duration
DRAIN_SECONDS = 3.0  # after the last event: the worker's last checks and alerts come in
MIN_PLAYBACK_SECONDS = 10.0
# The timer's sweep, however fast simulated time runs: a sweep of a demo's table is cheap, and
# an alert is stamped with the moment its silence fell due, not with the sweep that found it.
MIN_CHECK_INTERVAL_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class DemoClock:
    simulated: timedelta  # the span of simulated time played
    played: timedelta  # how long playing it takes

    @classmethod
    def for_duration(cls, duration: float | None) -> DemoClock:
        """``duration`` (seconds, None: the default) covers the playback and the drain."""
        if duration is None:
            played = DEFAULT_PLAYBACK_SECONDS
        else:
            played = max(duration - DRAIN_SECONDS, MIN_PLAYBACK_SECONDS)
        return cls(timedelta(days=SIMULATED_DAYS), timedelta(seconds=played))

    @property
    def factor(self) -> float:
        """Simulated seconds per played second."""
        return compression_factor(self.simulated, self.played)

    def simulated_span(self, played_seconds: float) -> timedelta:
        """How much simulated time passes in ``played_seconds``."""
        return timedelta(seconds=played_seconds * self.factor)

    def describe(self) -> str:
        hours_per_second = self.factor / 3600
        return (
            f"{self.simulated.total_seconds() / 86400:g} simulated days in "
            f"{self.played.total_seconds():g} s (1 s = {hours_per_second:.1f} simulated hours)"
        )


def scaled_check_interval(check_interval_seconds: float, factor: float) -> float:
    """The timer's sweep interval on a clock ``factor`` times faster, no shorter than a floor."""
    return max(check_interval_seconds / factor, MIN_CHECK_INTERVAL_SECONDS)


def scaled_worker_env(
    policy: FollowUpPolicy, check_interval_seconds: float, factor: float
) -> dict[str, str]:
    """The worker's environment for a clock running ``factor`` times faster: the silence and
    notification durations of ``policy``, and the timer's check interval, divided by ``factor``.
    """
    if factor <= 0:
        raise ValueError("factor must be positive")
    silence, notifications = policy.silence, policy.notifications

    def hours(duration: timedelta) -> str:
        return f"{duration.total_seconds() / 3600 / factor:.9g}"

    by_service = ",".join(
        f"{service}={hours(threshold)}"
        for service, threshold in silence.stalled_after_by_service.items()
    )
    interval = scaled_check_interval(check_interval_seconds, factor)
    return {
        "PARCELWATCH_FORGOTTEN_AFTER_HOURS": hours(silence.forgotten_after),
        "PARCELWATCH_STALLED_AFTER_HOURS": hours(silence.stalled_after),
        "PARCELWATCH_STALLED_AFTER_HOURS_BY_SERVICE": by_service,
        "PARCELWATCH_MISSED_PROMISE_GRACE_HOURS": hours(silence.missed_promise_grace),
        "PARCELWATCH_EXPIRED_AFTER_HOURS": hours(silence.expired_after),
        "PARCELWATCH_REVIEW_AFTER_HOURS": hours(notifications.review_after),
        "PARCELWATCH_REVIEW_WINDOW_HOURS": hours(notifications.review_window),
        "PARCELWATCH_NOTIFY_STALE_AFTER_HOURS": hours(notifications.stale_after),
        "PARCELWATCH_CHECK_INTERVAL_SECONDS": f"{interval:.9g}",
    }


def scaled_feedback_wait_env(wait: timedelta, factor: float) -> dict[str, str]:
    """The worker's wait for an order its feedback names (``wait``, in simulated time) on a
    clock ``factor`` times faster."""
    if factor <= 0:
        raise ValueError("factor must be positive")
    return {"PARCELWATCH_FEEDBACK_WAIT_HOURS": f"{wait.total_seconds() / 3600 / factor:.9g}"}
