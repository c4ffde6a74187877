"""An order's return and refund journey: pure rules, with the clock passed in.

Events from the ``returns`` topic (``schemas/returns.py``) and the return parcel's own carrier
scans are folded into one :class:`ReturnState` per order. What the customer hears and what people
are alerted to is decided from the state, not from the last event, so late, out-of-order and
repeated events give each milestone exactly once:

* ``return_label_ready`` once a label exists, unless the return was cancelled or the parcel is
  already moving (a label event arriving after the first scan would be stale news);
* ``return_in_transit`` at the return parcel's first carrier scan, unless it has already arrived;
* ``return_received`` when the return parcel is delivered back;
* ``refund_issued`` once a refund is issued and no later failure undid it;
* ``refund_delayed`` (with a ``refund_overdue`` alert) from :func:`check_return`, the timer's
  look: the return arrived and no refund followed within N business days.

Alerts: ``refund_failed`` for each failure that no later issued refund superseded;
``return_stalled`` once per silence of a return parcel that is on its way. A duplicate is an
event whose ``event_id`` was applied already.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import orjson

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.ids import deterministic_id
from parcelwatch.schemas.returns import RefundMethod, ReturnEvent, ReturnEventType, ReturnReason
from parcelwatch.schemas.state import TimerSchedule
from parcelwatch.schemas.timestamps import parse_rfc3339
from parcelwatch.schemas.types import (
    AlertKind,
    Item,
    NotificationKind,
    Scan,
    Severity,
    ShipmentStatus,
)

RETURN_STATE_VERSION = 1
# Duplicates are recognised by event id; an order's return has a handful of events, so keeping
# the latest few hundred ids is enough and keeps the state small whatever a producer repeats.
MAX_REMEMBERED_EVENT_IDS = 200
DEFAULT_REFUND_DELAY_BUSINESS_DAYS = 5
# Return parcels mostly travel by economy services: silent longer than a shipment may be.
DEFAULT_RETURN_STALLED_AFTER = timedelta(hours=96)
# Scans that say nothing about the parcel moving: a label printed, a shipment voided.
_NOT_MOVING = frozenset(
    {ShipmentStatus.INFO_RECEIVED, ShipmentStatus.CANCELLED, ShipmentStatus.UNKNOWN}
)
_T = ReturnEventType
_K = NotificationKind


@dataclass(frozen=True, slots=True)
class ReturnPolicy:
    refund_delay_business_days: int = DEFAULT_REFUND_DELAY_BUSINESS_DAYS
    return_stalled_after: timedelta = DEFAULT_RETURN_STALLED_AFTER


@dataclass(frozen=True, slots=True)
class ReturnState:
    """Everything known about one order's return and refund (a table value keyed by order id)."""

    order_id: str
    requested_at: datetime | None = None
    reason: ReturnReason | None = None
    items: tuple[Item, ...] = ()
    return_tracking_number: str | None = None
    return_carrier: str | None = None
    label_created_at: datetime | None = None
    cancelled_at: datetime | None = None
    in_transit_at: datetime | None = None  # the return parcel's first moving scan
    last_parcel_scan_at: datetime | None = None  # its latest moving scan
    received_at: datetime | None = None  # delivered back to the merchant
    refund_requested_at: datetime | None = None
    refund_approved_at: datetime | None = None
    refund_issued_at: datetime | None = None
    refund_amount: str | None = None  # exact decimal string, as the contract carries it
    refund_currency: str | None = None
    refund_method: RefundMethod | None = None
    refund_failed_at: datetime | None = None
    refund_failure_reason: str | None = None
    seen_event_ids: tuple[str, ...] = ()
    notified: tuple[NotificationKind, ...] = ()
    alerted: tuple[str, ...] = ()  # alert ids raised: each episode once
    escalated: tuple[str, ...] = ()  # support case ids opened: each case once
    # When the timer's sweep should send the order a check, and the partition the state lives on
    # (added within state version 1, read as empty when absent; the pipeline keeps it).
    timer: TimerSchedule = field(default_factory=TimerSchedule)
    state_version: int = RETURN_STATE_VERSION

    @property
    def cancelled(self) -> bool:
        """Cancelled, and nothing happened to the return since (a later step reopens it)."""
        if self.cancelled_at is None:
            return False
        later = (self.requested_at, self.label_created_at, self.last_parcel_scan_at)
        return all(moment is None or moment <= self.cancelled_at for moment in later)

    @property
    def refund_outstanding(self) -> bool:
        """No refund issued yet, or the last one failed after it was issued."""
        if self.refund_issued_at is None:
            return True
        return self.refund_failed_at is not None and self.refund_failed_at > self.refund_issued_at


@dataclass(frozen=True, slots=True)
class ReturnNotice:
    """A milestone the customer should hear of; rendered in their language by ``return_text``."""

    notification_id: str  # deterministic: one per milestone per order
    kind: NotificationKind
    order_id: str
    occurred_at: datetime  # when the milestone happened
    created_at: datetime  # when parcelwatch decided to speak
    return_tracking_number: str | None = None
    carrier: str | None = None
    amount: str | None = None
    currency: str | None = None
    method: RefundMethod | None = None


@dataclass(frozen=True, slots=True)
class ReturnAlert:
    """A return or refund that needs a person's attention."""

    alert_id: str  # deterministic: one per episode
    kind: AlertKind
    severity: Severity
    order_id: str
    message: str
    detected_at: datetime
    occurred_at: datetime
    source_event_id: str | None = None
    return_tracking_number: str | None = None
    carrier: str | None = None


@dataclass(frozen=True, slots=True)
class ReturnUpdate:
    state: ReturnState
    notices: tuple[ReturnNotice, ...] = ()
    alerts: tuple[ReturnAlert, ...] = ()
    duplicate: bool = False


# ---------------------------------------------------------------------------------------------
# Applying events


def apply_return_event(
    state: ReturnState | None, event: ReturnEvent, now: datetime
) -> ReturnUpdate:
    """Fold one ``returns`` event into the order's state; say what it newly calls for."""
    current = state or ReturnState(order_id=event.order_id)
    if event.order_id != current.order_id:
        raise ValueError("a return event belongs to the state of its own order")
    if event.event_id in current.seen_event_ids:
        return ReturnUpdate(current, duplicate=True)
    folded = _remember(_fold(current, event), event.event_id)
    alerts: tuple[ReturnAlert, ...] = ()
    if event.type is _T.REFUND_FAILED and folded.refund_outstanding:
        alerts = _new_alerts(folded, (_refund_failed_alert(folded, event, now),))
        folded = replace(folded, alerted=(*folded.alerted, *(alert.alert_id for alert in alerts)))
    return _announce(folded, now, alerts)


def apply_return_scan(state: ReturnState, scan: Scan, now: datetime) -> ReturnUpdate:
    """Fold a carrier scan of the order's return parcel into its state."""
    if scan.tracking_number != state.return_tracking_number:
        raise ValueError("the scan is not of this order's return parcel")
    if scan.event_id in state.seen_event_ids:
        return ReturnUpdate(state, duplicate=True)
    folded = state
    if scan.status is ShipmentStatus.DELIVERED:
        folded = replace(folded, received_at=_earliest(folded.received_at, scan.occurred_at))
    if scan.status not in _NOT_MOVING:
        folded = replace(
            folded,
            in_transit_at=_earliest(folded.in_transit_at, scan.occurred_at),
            last_parcel_scan_at=_latest(folded.last_parcel_scan_at, scan.occurred_at),
        )
    return _announce(_remember(folded, scan.event_id), now, ())


def _fold(state: ReturnState, event: ReturnEvent) -> ReturnState:
    at = event.occurred_at
    match event.type:
        case _T.RETURN_REQUESTED:
            return replace(
                state,
                requested_at=_earliest(state.requested_at, at),
                reason=event.reason,
                items=event.items,
            )
        case _T.RETURN_LABEL_CREATED:
            if state.label_created_at is not None and at < state.label_created_at:
                return state  # an older label, replaced already
            return replace(
                state,
                label_created_at=at,
                return_tracking_number=event.return_tracking_number,
                return_carrier=event.carrier,
            )
        case _T.RETURN_CANCELLED:
            return replace(state, cancelled_at=_latest(state.cancelled_at, at))
        case _T.REFUND_REQUESTED:
            return replace(state, refund_requested_at=_earliest(state.refund_requested_at, at))
        case _T.REFUND_APPROVED:
            return replace(state, refund_approved_at=_earliest(state.refund_approved_at, at))
        case _T.REFUND_ISSUED:
            if state.refund_issued_at is not None and at < state.refund_issued_at:
                return state
            return replace(
                state,
                refund_issued_at=at,
                refund_amount=event.amount,
                refund_currency=event.currency,
                refund_method=event.method,
            )
        case _T.REFUND_FAILED:
            if state.refund_failed_at is not None and at < state.refund_failed_at:
                return state
            return replace(state, refund_failed_at=at, refund_failure_reason=event.failure_reason)


def _remember(state: ReturnState, event_id: str) -> ReturnState:
    seen = (*state.seen_event_ids, event_id)[-MAX_REMEMBERED_EVENT_IDS:]
    return replace(state, seen_event_ids=seen)


def _earliest(known: datetime | None, moment: datetime) -> datetime:
    return moment if known is None else min(known, moment)


def _latest(known: datetime | None, moment: datetime) -> datetime:
    return moment if known is None else max(known, moment)


# ---------------------------------------------------------------------------------------------
# Milestones


def _reached(state: ReturnState) -> list[tuple[NotificationKind, datetime]]:
    """The milestones the state has reached that are still worth telling, in journey order."""
    reached = []
    moving = state.in_transit_at is not None or state.received_at is not None
    if state.label_created_at is not None and not state.cancelled and not moving:
        reached.append((_K.RETURN_LABEL_READY, state.label_created_at))
    if state.in_transit_at is not None and state.received_at is None:
        reached.append((_K.RETURN_IN_TRANSIT, state.in_transit_at))
    if state.received_at is not None:
        reached.append((_K.RETURN_RECEIVED, state.received_at))
    if state.refund_issued_at is not None and not state.refund_outstanding:
        reached.append((_K.REFUND_ISSUED, state.refund_issued_at))
    return reached


def announce(state: ReturnState, now: datetime) -> ReturnUpdate:
    """The milestones reached and not yet told (those held back earlier, say in quiet hours)."""
    return _announce(state, now, ())


def _announce(state: ReturnState, now: datetime, alerts: tuple[ReturnAlert, ...]) -> ReturnUpdate:
    due = [(kind, moment) for kind, moment in _reached(state) if kind not in state.notified]
    notices = tuple(_notice(state, kind, moment, now) for kind, moment in due)
    told = replace(state, notified=(*state.notified, *(notice.kind for notice in notices)))
    return ReturnUpdate(told, notices, alerts)


def _notice(
    state: ReturnState, kind: NotificationKind, occurred_at: datetime, now: datetime
) -> ReturnNotice:
    refund = kind is _K.REFUND_ISSUED
    return ReturnNotice(
        notification_id=deterministic_id("notification", "order", state.order_id, kind.value),
        kind=kind,
        order_id=state.order_id,
        occurred_at=occurred_at,
        created_at=now,
        return_tracking_number=state.return_tracking_number,
        carrier=state.return_carrier,
        amount=state.refund_amount if refund else None,
        currency=state.refund_currency if refund else None,
        method=state.refund_method if refund else None,
    )


# ---------------------------------------------------------------------------------------------
# Alerts and the timer's look


def _alert_id(state: ReturnState, kind: AlertKind, episode: str) -> str:
    return deterministic_id("alert", "order", state.order_id, kind.value, episode)


def _alert(
    state: ReturnState,
    kind: AlertKind,
    episode: str,
    message: str,
    now: datetime,
    occurred_at: datetime,
    source_event_id: str | None = None,
) -> ReturnAlert:
    return ReturnAlert(
        alert_id=_alert_id(state, kind, episode),
        kind=kind,
        severity=Severity.CRITICAL if kind is AlertKind.REFUND_FAILED else Severity.WARNING,
        order_id=state.order_id,
        message=message,
        detected_at=now,
        occurred_at=occurred_at,
        source_event_id=source_event_id,
        return_tracking_number=state.return_tracking_number,
        carrier=state.return_carrier,
    )


def _refund_failed_alert(state: ReturnState, event: ReturnEvent, now: datetime) -> ReturnAlert:
    return _alert(
        state, AlertKind.REFUND_FAILED, event.event_id,
        f"The refund for order {state.order_id} failed: {event.failure_reason}",
        now, event.occurred_at, event.event_id,
    )  # fmt: skip


def _new_alerts(state: ReturnState, alerts: tuple[ReturnAlert, ...]) -> tuple[ReturnAlert, ...]:
    return tuple(alert for alert in alerts if alert.alert_id not in state.alerted)


def add_business_days(start: datetime, days: int) -> datetime:
    """``days`` working days (Monday to Friday, in ``start``'s own offset) after ``start``, at
    the same time of day. Public holidays are not known here and count as working days."""
    moment, counted = start, 0
    while counted < days:
        moment += timedelta(days=1)
        counted += moment.weekday() < 5
    return moment


def refund_due_at(state: ReturnState, policy: ReturnPolicy) -> datetime | None:
    """When a refund is overdue: N business days after the return arrived, if still owed."""
    if state.received_at is None or not state.refund_outstanding:
        return None
    return add_business_days(state.received_at, policy.refund_delay_business_days)


def stalled_at(state: ReturnState, policy: ReturnPolicy) -> datetime | None:
    """When the return parcel on its way counts as gone silent."""
    if state.last_parcel_scan_at is None or state.received_at is not None or state.cancelled:
        return None
    return state.last_parcel_scan_at + policy.return_stalled_after


def check_return(state: ReturnState, now: datetime, policy: ReturnPolicy) -> ReturnUpdate:
    """The timer's look at an order's return: an overdue refund, a silent return parcel."""
    alerts: list[ReturnAlert] = []
    notices: list[ReturnNotice] = []
    due = refund_due_at(state, policy)
    if due is not None and now >= due:
        assert state.received_at is not None  # refund_due_at needs it
        alerts.append(
            _alert(
                state,
                AlertKind.REFUND_OVERDUE,
                state.received_at.isoformat(),
                f"Order {state.order_id}: the return arrived "
                f"{policy.refund_delay_business_days} business days ago and no refund followed",
                now,
                due,
            )
        )
        if _K.REFUND_DELAYED not in state.notified:
            notices.append(_notice(state, _K.REFUND_DELAYED, due, now))
    silent = stalled_at(state, policy)
    if silent is not None and now >= silent:
        assert state.last_parcel_scan_at is not None  # stalled_at needs it
        alerts.append(
            _alert(
                state,
                AlertKind.RETURN_STALLED,
                state.last_parcel_scan_at.isoformat(),
                f"Order {state.order_id}: the return parcel {state.return_tracking_number} has "
                f"had no scan since {state.last_parcel_scan_at.isoformat()}",
                now,
                silent,
            )
        )
    fresh = _new_alerts(state, tuple(alerts))
    updated = replace(
        state,
        notified=(*state.notified, *(notice.kind for notice in notices)),
        alerted=(*state.alerted, *(alert.alert_id for alert in fresh)),
    )
    return ReturnUpdate(updated, tuple(notices), fresh)


def next_check_at(state: ReturnState, policy: ReturnPolicy) -> datetime | None:
    """When the timer should look again: the earliest moment a check could find something."""
    pending = []
    due = refund_due_at(state, policy)
    if due is not None and _K.REFUND_DELAYED not in state.notified:
        pending.append(due)
    silent = stalled_at(state, policy)
    if (
        silent is not None
        and _alert_id(state, AlertKind.RETURN_STALLED, _iso(state.last_parcel_scan_at))
        not in state.alerted
    ):
        pending.append(silent)
    return min(pending, default=None)


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat()


# ---------------------------------------------------------------------------------------------
# JSON round trip (the table's value)

_TIMES = (
    "requested_at", "label_created_at", "cancelled_at", "in_transit_at", "last_parcel_scan_at",
    "received_at", "refund_requested_at", "refund_approved_at", "refund_issued_at",
    "refund_failed_at",
)  # fmt: skip


def return_state_to_json(state: ReturnState) -> bytes:
    return encode(state)


def return_state_from_json(data: bytes | dict[str, Any]) -> ReturnState:
    """A stored state: the JSON bytes, or the JSON object the shipments table holds."""
    raw: dict[str, Any] = orjson.loads(data) if isinstance(data, bytes | str) else data
    version = raw.get("state_version")
    if version != RETURN_STATE_VERSION:
        raise ValueError(f"return state version {version!r} is not known to this worker")
    values: dict[str, Any] = {
        name: parse_rfc3339(raw[name]) if raw.get(name) is not None else None for name in _TIMES
    }
    return ReturnState(
        order_id=raw["order_id"],
        reason=ReturnReason(raw["reason"]) if raw.get("reason") else None,
        items=tuple(Item(**item) for item in raw.get("items", ())),
        return_tracking_number=raw.get("return_tracking_number"),
        return_carrier=raw.get("return_carrier"),
        refund_amount=raw.get("refund_amount"),
        refund_currency=raw.get("refund_currency"),
        refund_method=RefundMethod(raw["refund_method"]) if raw.get("refund_method") else None,
        refund_failure_reason=raw.get("refund_failure_reason"),
        seen_event_ids=tuple(raw.get("seen_event_ids", ())),
        notified=tuple(NotificationKind(kind) for kind in raw.get("notified", ())),
        alerted=tuple(raw.get("alerted", ())),
        escalated=tuple(raw.get("escalated", ())),  # absent from states stored before it existed
        timer=_timer(raw.get("timer")),
        **values,
    )


def _timer(raw: dict[str, Any] | None) -> TimerSchedule:
    if raw is None:
        return TimerSchedule()
    due = raw.get("next_check_at")
    return TimerSchedule(
        next_check_at=parse_rfc3339(due) if due is not None else None,
        home_partition=raw.get("home_partition"),
    )
