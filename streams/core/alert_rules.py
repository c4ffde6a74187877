"""Alert rules: exactly one alert per episode of trouble, never one per repeated scan.

An *episode* opens when the shipment's current status enters a rule's statuses and closes when it
leaves them; the alert id is derived from the shipment, the kind and the event that opened the
episode, so a redelivered or replayed input reproduces the same id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from parcelwatch.schemas.ids import deterministic_id
from parcelwatch.schemas.state import ScanRecord, ShipmentState
from parcelwatch.schemas.timestamps import format_rfc3339
from parcelwatch.schemas.types import (
    Alert,
    AlertKind,
    ExceptionReason,
    Order,
    Scan,
    Severity,
    ShipmentStatus,
)

REASON_WORDS = {
    ExceptionReason.WEATHER_DELAY: "a weather delay",
    ExceptionReason.CARRIER_DELAY: "a delay in the carrier's network",
    ExceptionReason.CUSTOMS_DELAY: "a customs delay",
    ExceptionReason.ADDRESS_ISSUE: "a problem with the delivery address",
    ExceptionReason.RECIPIENT_UNAVAILABLE: "nobody available to receive it",
    ExceptionReason.REFUSED: "the recipient refused it",
    ExceptionReason.DAMAGED: "the parcel is damaged",
    ExceptionReason.LOST: "the parcel is lost",
    ExceptionReason.HELD_FOR_PAYMENT: "it is held until duties or fees are paid",
    ExceptionReason.MISSORTED: "it was missorted",
    ExceptionReason.OTHER: "an unspecified problem",
}

_CRITICAL_REASONS = frozenset({ExceptionReason.LOST, ExceptionReason.DAMAGED})
# Statuses in which a promise can no longer be missed: the parcel arrived, or will not.
NO_PROMISE_CHECK = frozenset(
    {
        ShipmentStatus.DELIVERED,
        ShipmentStatus.CANCELLED,
        ShipmentStatus.RETURNING_TO_SENDER,
        ShipmentStatus.RETURNED_TO_SENDER,
    }
)


@dataclass(frozen=True, slots=True)
class StatusEpisodeRule:
    kind: AlertKind
    statuses: frozenset[ShipmentStatus]
    closes: bool  # False: once opened the episode stays open (a returned parcel stays returned)


STATUS_EPISODE_RULES = (
    StatusEpisodeRule(AlertKind.CARRIER_EXCEPTION, frozenset({ShipmentStatus.EXCEPTION}), True),
    StatusEpisodeRule(AlertKind.ATTEMPT_FAILED, frozenset({ShipmentStatus.ATTEMPT_FAILED}), True),
    StatusEpisodeRule(
        AlertKind.RETURNED,
        frozenset({ShipmentStatus.RETURNING_TO_SENDER, ShipmentStatus.RETURNED_TO_SENDER}),
        False,
    ),
)


def detect_alerts(
    after: ShipmentState, event: Scan | Order, now: datetime
) -> tuple[tuple[Alert, ...], ShipmentState]:
    """Alerts that ``event`` raises, and ``after`` with its episode bookkeeping updated."""
    alerts: list[Alert] = []
    state = after
    for rule in STATUS_EPISODE_RULES:
        in_episode = after.tracking.status in rule.statuses
        open_episode = state.open_episode(rule.kind)
        if in_episode and open_episode is None:
            alert = _status_alert(state, rule.kind, event.event_id, event, now)
            state = state.with_alert(alert, event.event_id)
            alerts.append(alert)
        elif not in_episode and open_episode is not None and rule.closes:
            state = state.with_episode(rule.kind, None)
    missed = _missed_promise(state, event, now)
    if missed is not None:
        state = state.with_alert(missed, promise_episode(state))
        alerts.append(missed)
    return tuple(alerts), state


def _status_alert(
    state: ShipmentState, kind: AlertKind, episode: str, event: Scan | Order, now: datetime
) -> Alert:
    reason = state.tracking.status_reason
    assert state.tracking.status is not None and state.tracking.status_at is not None
    if kind is AlertKind.CARRIER_EXCEPTION:
        severity = Severity.CRITICAL if reason in _CRITICAL_REASONS else Severity.WARNING
        message = f"The carrier reported an exception: {reason_words(reason)}."
    elif kind is AlertKind.ATTEMPT_FAILED:
        severity = Severity.WARNING
        message = f"A delivery attempt failed: {reason_words(reason)}."
    else:
        severity = Severity.CRITICAL
        message = "The parcel is being returned to the sender" + (
            f": {reason_words(reason)}." if reason else "."
        )
    return build_alert(
        state, kind, episode, severity, message, state.tracking.status_at, event.event_id, now
    )


def _missed_promise(state: ShipmentState, event: Scan | Order, now: datetime) -> Alert | None:
    """The latest carrier evidence is past the promise and the parcel is not delivered.

    Evidence is the event time of the latest scan, not the processing clock, so a worker catching up
    on a backlog does not call a parcel late whose "delivered" scan is still further down the topic.
    Shipments that fall silent past their promise are the job of timers.

    Orders and scans come on two topics, and Kafka orders nothing across topics: an order may be
    applied after scans that followed it, even after the delivery. The order then looks at the
    kept trail: an undelivered scan past the promise raises the alert the scan would have raised
    (same episode, so the same id), whatever the order of arrival.
    """
    promised_by, status = state.order.promised_by, state.tracking.status
    last_scan_at = state.tracking.last_scan_at
    if promised_by is None or last_scan_at is None or status is None:
        return None
    if state.open_episode(AlertKind.MISSED_PROMISE) == promise_episode(state):
        return None
    if status not in NO_PROMISE_CHECK and last_scan_at > promised_by:
        evidence_at, evidence_status = last_scan_at, status
    elif isinstance(event, Order) and (late := _first_undelivered_after(state, promised_by)):
        evidence_at, evidence_status = late.occurred_at, late.status
    else:
        return None
    hours_late = (evidence_at - promised_by).total_seconds() / 3600
    message = (
        f"Promised by {format_rfc3339(promised_by)} and still not delivered "
        f"{hours_late:.0f} h later (status: {evidence_status.value.replace('_', ' ')})."
    )
    return build_alert(
        state,
        AlertKind.MISSED_PROMISE,
        promise_episode(state),
        Severity.WARNING,
        message,
        evidence_at,
        event.event_id,
        now,
    )


def _first_undelivered_after(state: ShipmentState, promised_by: datetime) -> ScanRecord | None:
    """The earliest kept scan past the promise that says the parcel was still on its way."""
    return next(
        (
            record
            for record in state.tracking.recent_scans
            if record.occurred_at > promised_by and record.status not in NO_PROMISE_CHECK
        ),
        None,
    )


def promise_episode(state: ShipmentState) -> str:
    """The missed-promise episode: shared by the scan rule and the timer, so only one fires."""
    assert state.order.promised_by is not None
    return format_rfc3339(state.order.promised_by)  # a renegotiated promise is a new episode


def build_alert(
    state: ShipmentState,
    kind: AlertKind,
    episode: str,
    severity: Severity,
    message: str,
    occurred_at: datetime,
    source_event_id: str,
    now: datetime,
    **kind_fields: Any,
) -> Alert:
    """An alert about ``state``; its id is derived from shipment, kind and episode only."""
    assert state.carrier is not None
    return Alert(
        alert_id=alert_id(state.tracking_number, kind, episode),
        tracking_number=state.tracking_number,
        carrier=state.carrier,
        kind=kind,
        severity=severity,
        # No scan yet: the order's tracking number means a label exists, which is info_received.
        status=state.tracking.status or ShipmentStatus.INFO_RECEIVED,
        message=message,
        detected_at=now,
        occurred_at=occurred_at,
        source_event_id=source_event_id,
        order_id=state.order.order_id,
        service_level=state.order.service_level,
        reason=state.tracking.status_reason,
        promised_by=state.order.promised_by,
        **kind_fields,
    )


def alert_id(tracking_number: str, kind: AlertKind, episode: str) -> str:
    return deterministic_id("alert", tracking_number, kind.value, episode)


def reason_words(reason: ExceptionReason | None) -> str:
    return REASON_WORDS[reason] if reason is not None else "no reason given"
