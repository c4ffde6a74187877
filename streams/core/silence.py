"""Silences are events too: what a shipment's *lack* of scans says, judged at a given moment.

Pure functions of (state, now, policy). The worker's timers only decide *when* to ask; this module
decides what a silence means:

* ``forgotten``: a label exists (order or ``info_received`` scan) but no carrier pickup followed;
* ``stalled``: moving through the network, then no scan for longer than the service level allows;
* ``missed_promise``: the promised time passed and the parcel is not delivered, even if no scan
  ever arrives again (same episode as the scan-based rule, so only one of the two fires);
* ``expired``: no update at all for a long time (AfterShip's "Expired", 30 days).

Each silence is an episode keyed by the evidence it is about (the last scan's time, the label's
time, the promise), so it raises one alert, and a new scan followed by a new silence raises another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from parcelwatch.schemas.state import ShipmentState
from parcelwatch.schemas.timestamps import format_rfc3339
from parcelwatch.schemas.types import SETTLED_STATUSES, Alert, AlertKind, Severity, ShipmentStatus
from parcelwatch.streams.core.alert_rules import NO_PROMISE_CHECK, build_alert, promise_episode

# Alert kinds only a timer raises (missed_promise is raised by scans and timers alike).
SILENCE_KINDS = frozenset({AlertKind.FORGOTTEN, AlertKind.STALLED, AlertKind.EXPIRED})
# Waiting for the carrier to collect the parcel: no scan yet, or only the electronic label.
_AWAITING_PICKUP = frozenset({None, ShipmentStatus.INFO_RECEIVED})
# In the carrier's hands and expected to move; a parcel waiting at a pickup point is not stalled.
_MOVING = frozenset(
    {
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.ATTEMPT_FAILED,
        ShipmentStatus.EXCEPTION,
        ShipmentStatus.RETURNING_TO_SENDER,
        ShipmentStatus.UNKNOWN,
    }
)


# Faster services are expected to move faster; the others use ``stalled_after``.
DEFAULT_STALLED_AFTER_BY_SERVICE = {"express": timedelta(hours=24), "economy": timedelta(hours=72)}


@dataclass(frozen=True, slots=True)
class SilencePolicy:
    forgotten_after: timedelta = timedelta(hours=48)
    stalled_after: timedelta = timedelta(hours=48)
    stalled_after_by_service: dict[str, timedelta] = field(
        default_factory=lambda: dict(DEFAULT_STALLED_AFTER_BY_SERVICE)
    )
    missed_promise_grace: timedelta = timedelta(0)
    expired_after: timedelta = timedelta(days=30)

    def stalled_threshold(self, service_level: str | None) -> timedelta:
        if service_level is None:
            return self.stalled_after
        return self.stalled_after_by_service.get(service_level.lower(), self.stalled_after)


@dataclass(frozen=True, slots=True)
class Silence:
    """A silence rule's verdict for one state: it fires at ``due_at`` for episode ``episode``."""

    kind: AlertKind
    episode: str
    since: datetime  # the last evidence before the silence
    due_at: datetime


def pending_silences(state: ShipmentState, policy: SilencePolicy) -> Iterator[Silence]:
    """Silences that will fire (or have fired) if nothing new arrives, not yet alerted."""
    for silence in _silences(state, policy):
        if state.open_episode(silence.kind) != silence.episode:
            yield silence


def check_silence(
    state: ShipmentState, now: datetime, policy: SilencePolicy
) -> tuple[tuple[Alert, ...], ShipmentState]:
    """Alerts for the silences due at ``now``, and ``state`` with their episodes opened."""
    alerts = []
    for silence in pending_silences(state, policy):
        if silence.due_at > now:
            continue
        alert = _ALERT_BUILDERS[silence.kind](state, silence, now)
        state = state.with_alert(alert, silence.episode)
        alerts.append(alert)
    return tuple(alerts), state


def stalled_since(state: ShipmentState, policy: SilencePolicy) -> datetime | None:
    """When the current stall became one, while its alert stands (no scan since); else None."""
    if not stall_stands(state):
        return None
    assert state.tracking.last_scan_at is not None
    return state.tracking.last_scan_at + policy.stalled_threshold(state.order.service_level)


def stall_stands(state: ShipmentState) -> bool:
    """A ``stalled`` alert was raised about the current silence: no scan came since."""
    key = _stalled_episode(state)
    return key is not None and state.open_episode(AlertKind.STALLED) == key


def expiry_stands(state: ShipmentState) -> bool:
    """An ``expired`` alert was raised about the current silence: no update came since (its
    episode stays recorded after a later scan, which ends the silence)."""
    if state.tracking.status in SETTLED_STATUSES:
        return False
    last_update = state.tracking.last_scan_at or _label_time(state)
    return last_update is not None and state.open_episode(AlertKind.EXPIRED) == format_rfc3339(
        last_update
    )


def _silences(state: ShipmentState, policy: SilencePolicy) -> Iterator[Silence]:
    status, last_scan_at = state.tracking.status, state.tracking.last_scan_at
    promised_by = state.order.promised_by
    if status in SETTLED_STATUSES:
        return
    label_at = _label_time(state)
    if status in _AWAITING_PICKUP and label_at is not None:
        yield Silence(
            AlertKind.FORGOTTEN,
            format_rfc3339(label_at),
            label_at,
            label_at + policy.forgotten_after,
        )
    stalled = _stalled_episode(state)
    if stalled is not None and last_scan_at is not None:
        threshold = policy.stalled_threshold(state.order.service_level)
        yield Silence(AlertKind.STALLED, stalled, last_scan_at, last_scan_at + threshold)
    if promised_by is not None and status not in NO_PROMISE_CHECK:
        yield Silence(
            AlertKind.MISSED_PROMISE,
            promise_episode(state),
            promised_by,
            promised_by + policy.missed_promise_grace,
        )
    last_update = last_scan_at or label_at
    if last_update is not None:
        yield Silence(
            AlertKind.EXPIRED,
            format_rfc3339(last_update),
            last_update,
            last_update + policy.expired_after,
        )


def _stalled_episode(state: ShipmentState) -> str | None:
    if state.tracking.status not in _MOVING or state.tracking.last_scan_at is None:
        return None
    return format_rfc3339(state.tracking.last_scan_at)


def _label_time(state: ShipmentState) -> datetime | None:
    """When the label appeared: the info_received scan, or the order if no scan came yet."""
    tracking, ordered_at = state.tracking, state.order.ordered_at
    if tracking.status is ShipmentStatus.INFO_RECEIVED and tracking.status_at is not None:
        return tracking.status_at
    if tracking.status is None:
        return ordered_at
    return ordered_at or tracking.first_scan_at


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.0f} days" if hours >= 72 else f"{hours:.0f} h"


def _last_event(state: ShipmentState) -> str:
    # Silence alerts have no triggering event: they name the last input applied before it.
    return state.seen_event_ids[-1] if state.seen_event_ids else ""


def _status_words(state: ShipmentState) -> str:
    status = state.tracking.status
    return status.value.replace("_", " ") if status else "label created"


def _forgotten(state: ShipmentState, silence: Silence, now: datetime) -> Alert:
    message = (
        f"Label created {_hours(now - silence.since)} ago and the carrier has not picked the "
        "parcel up yet."
    )
    return _silence_alert(state, silence, Severity.WARNING, message, now)


def _stalled(state: ShipmentState, silence: Silence, now: datetime) -> Alert:
    message = (
        f"No carrier scan for {_hours(now - silence.since)} (last status: {_status_words(state)})."
    )
    return _silence_alert(state, silence, Severity.WARNING, message, now)


def _missed(state: ShipmentState, silence: Silence, now: datetime) -> Alert:
    message = (
        f"Promised by {format_rfc3339(silence.since)} and still not delivered "
        f"{_hours(now - silence.since)} later, with no scan saying why "
        f"(status: {_status_words(state)})."
    )
    return _silence_alert(state, silence, Severity.WARNING, message, now)


def _expired(state: ShipmentState, silence: Silence, now: datetime) -> Alert:
    message = (
        f"No update for {_hours(now - silence.since)}: tracking has gone silent and the parcel "
        "may be lost."
    )
    return _silence_alert(state, silence, Severity.CRITICAL, message, now)


def _silence_alert(
    state: ShipmentState, silence: Silence, severity: Severity, message: str, now: datetime
) -> Alert:
    return build_alert(
        state,
        silence.kind,
        silence.episode,
        severity,
        message,
        silence.due_at,  # the moment the silence became one
        _last_event(state),
        now,
    )


_ALERT_BUILDERS: dict[AlertKind, Callable[[ShipmentState, Silence, datetime], Alert]] = {
    AlertKind.FORGOTTEN: _forgotten,
    AlertKind.STALLED: _stalled,
    AlertKind.MISSED_PROMISE: _missed,
    AlertKind.EXPIRED: _expired,
}
