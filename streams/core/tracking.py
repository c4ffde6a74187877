"""Applying inputs to a shipment's state: pure functions, the clock passed in.

``apply_event`` is the one entry point the worker (and later the offline replay) calls per input.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from parcelwatch.schemas.state import (
    MAX_EXCEPTIONS,
    MAX_ORDER_ITEMS,
    MAX_RECENT_SCANS,
    MAX_SEEN_EVENT_IDS,
    OrderTerms,
    ScanRecord,
    ShipmentState,
)
from parcelwatch.schemas.types import Alert, AlertKind, Order, Scan, ShipmentStatus
from parcelwatch.streams.core.alert_rules import detect_alerts
from parcelwatch.streams.core.status import scan_takes_over

_EXCEPTIONAL = frozenset({ShipmentStatus.EXCEPTION, ShipmentStatus.ATTEMPT_FAILED})


@dataclass(frozen=True, slots=True)
class Applied:
    """The input changed the state; ``alerts`` are new problems it revealed (often none)."""

    state: ShipmentState
    alerts: tuple[Alert, ...] = ()


@dataclass(frozen=True, slots=True)
class Duplicate:
    """The input's event_id was already applied to this shipment: nothing changes."""

    state: ShipmentState


# What became of one event (the pipeline's ``MessageOutcome`` says it of every input message).
EventOutcome = Applied | Duplicate


def new_state(tracking_number: str) -> ShipmentState:
    return ShipmentState(tracking_number=tracking_number)


def apply_event(state: ShipmentState | None, event: Scan | Order, now: datetime) -> EventOutcome:
    """Apply one decoded input; ``now`` is the processing time stamped on alerts."""
    current = state if state is not None else new_state(event.tracking_number)
    if current.has_seen(event.event_id):
        return Duplicate(current)
    changes = (
        _scan_changes(current, event) if isinstance(event, Scan) else _order_changes(current, event)
    )
    updated = replace(
        current,
        **changes,
        seen_event_ids=_bounded((*current.seen_event_ids, event.event_id), MAX_SEEN_EVENT_IDS),
    )
    alerts, updated = detect_alerts(updated, event, now)
    return Applied(updated, alerts)


def _scan_changes(state: ShipmentState, scan: Scan) -> dict[str, Any]:
    """A scan changes the carrier (if unknown yet) and the tracking part only."""
    tracking = state.tracking
    record = ScanRecord(
        event_id=scan.event_id,
        status=scan.status,
        occurred_at=scan.occurred_at,
        reason=scan.reason,
        location=scan.location,
    )
    changes: dict[str, Any] = {
        "scan_count": tracking.scan_count + 1,
        "recent_scans": _insert_by_time(tracking.recent_scans, record, MAX_RECENT_SCANS),
        "first_scan_at": _earliest(tracking.first_scan_at, scan.occurred_at),
        "last_scan_at": _latest(tracking.last_scan_at, scan.occurred_at),
    }
    if scan.status in _EXCEPTIONAL:
        changes["exception_count"] = tracking.exception_count + 1
        changes["exceptions"] = _insert_by_time(tracking.exceptions, record, MAX_EXCEPTIONS)
    if scan_takes_over(tracking.status, tracking.status_at, scan.status, scan.occurred_at):
        changes.update(status=scan.status, status_reason=scan.reason, status_at=scan.occurred_at)
        if scan.status is ShipmentStatus.DELIVERED:
            changes["delivered_at"] = scan.occurred_at
    newest_estimate = scan.estimated_delivery is not None and (
        tracking.last_scan_at is None or scan.occurred_at >= tracking.last_scan_at
    )
    if newest_estimate:
        changes["estimated_delivery"] = scan.estimated_delivery
    return {"carrier": state.carrier or scan.carrier, "tracking": replace(tracking, **changes)}


def _order_changes(state: ShipmentState, order: Order) -> dict[str, Any]:
    """The latest order event wins: merchants re-send orders when a promise is renegotiated.

    A delay-risk episode was judged against the old promise, so a new promise closes it: the next
    scored scan opens a new one if the new promise is at risk too (and only then is the customer
    told "delayed" again).
    """
    changes: dict[str, Any] = {
        "carrier": state.carrier or order.carrier,
        "order": OrderTerms(
            order_id=order.order_id,
            service_level=order.service_level,
            ordered_at=order.ordered_at,
            promised_by=order.promised_by,
            origin=order.origin,
            destination=order.destination,
            customer=order.customer,
            items=order.items[:MAX_ORDER_ITEMS],
        ),
    }
    promised_by = state.order.promised_by
    if promised_by is not None and promised_by != order.promised_by:
        changes["outputs"] = state.with_episode(AlertKind.DELAY_RISK, None).outputs
    return changes


def _insert_by_time(
    records: tuple[ScanRecord, ...], record: ScanRecord, limit: int
) -> tuple[ScanRecord, ...]:
    times = [existing.occurred_at for existing in records]
    position = bisect.bisect_right(times, record.occurred_at)
    merged = (*records[:position], record, *records[position:])
    return merged[-limit:]


def _bounded(values: tuple[str, ...], limit: int) -> tuple[str, ...]:
    return values[-limit:]


def _earliest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate < current else current


def _latest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current
