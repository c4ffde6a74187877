"""Retention: when a settled shipment leaves the table, and what a later input of it means.

Pure functions of (state, now, policy). A shipment *settles* when nothing more is expected of it:

* its status is final (delivered, returned to sender, cancelled: ``SETTLED_STATUSES``), from the
  latest scan's event time (a later scan, e.g. a post-delivery one, restarts the clock);
* or it expired: no update for ``expired_after`` and the ``expired`` alert raised, from the moment
  it expired. A scan after that ends the silence and un-settles it.

``retention`` after it settles, its state is replaced by a ``RetiredShipment`` marker, unless the
state still waits for something else (its timer asks for a moment other than the retention's: an
escalation, a held notification); then removal waits for that. Returns are held in their order's
``~return~`` row and support cases by the helpdesk, so neither keeps a shipment state alive.

An order's rows (its ``~order~`` index and ``~return~`` row, on the order id's partition) go
together, ``retention`` after the order settled (``order_retire_at``): nothing waiting in the
index, the return (if any) refunded or cancelled with nothing pending, and its shipments settled
as far as this partition can tell. A shipment held on the same partition is read (an open one
holds the order); one on another partition cannot be: the index's last change plus
``expired_after`` stands for it (a shipment with no news settles by then at the latest).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from parcelwatch.schemas.order_state import OrderFeedbackState
from parcelwatch.schemas.retired import RetiredShipment
from parcelwatch.schemas.state import ShipmentState, TimerSchedule
from parcelwatch.schemas.timestamps import parse_rfc3339
from parcelwatch.schemas.types import SETTLED_STATUSES, AlertKind, Order, Scan
from parcelwatch.streams.core.returns import ReturnPolicy, ReturnState, next_check_at
from parcelwatch.streams.core.silence import SilencePolicy, expiry_stands

MIN_RETENTION = timedelta(seconds=1)  # tests use seconds; production days


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    retention: timedelta = timedelta(days=30)  # settled -> state removed (a marker stays)
    retired_memory: timedelta = timedelta(days=180)  # marker -> removed too (number reusable)
    expired_after: timedelta = SilencePolicy().expired_after  # the silence policy's


def settled_at(state: ShipmentState, policy: RetentionPolicy) -> datetime | None:
    """When the shipment settled, or None while it is still open."""
    tracking = state.tracking
    if tracking.status in SETTLED_STATUSES:
        return tracking.last_scan_at or tracking.status_at
    if expiry_stands(state):  # the episode is the last update's time (silence.py)
        episode = state.open_episode(AlertKind.EXPIRED)
        assert episode is not None
        return parse_rfc3339(episode) + policy.expired_after
    return None


def retire_at(state: ShipmentState, policy: RetentionPolicy) -> datetime | None:
    settled = settled_at(state, policy)
    return None if settled is None else settled + policy.retention


def retirement(
    state: ShipmentState, now: datetime, policy: RetentionPolicy
) -> RetiredShipment | None:
    """The marker replacing ``state`` when its retention has ended and its timer waits for
    nothing else (``state`` as the follow-up and escalations left it at ``now``); else None."""
    due = retire_at(state, policy)
    wake = state.timer.next_check_at
    if due is None or now < due or (wake is not None and wake != due):
        return None
    return RetiredShipment(
        settled_at=due - policy.retention,
        retired_at=now,
        forget_at=now + policy.retired_memory,
        home_partition=state.timer.home_partition,
    )


def with_retention_timer(
    state: ShipmentState, now: datetime, policy: RetentionPolicy
) -> ShipmentState:
    """``state`` with its timer asking for the end of its retention too (whichever comes first):
    the check then removes it (``retirement``). Once the end has passed, a moment still awaited
    stays the wake-up: removal follows it, rather than checks that find it pending."""
    timer = timer_with(state.timer, retire_at(state, policy), now)
    return state if timer == state.timer else replace(state, timer=timer)


def timer_with(timer: TimerSchedule, due: datetime | None, now: datetime) -> TimerSchedule:
    """``timer`` asking for ``due`` too (whichever comes first; once ``due`` has passed, a
    moment still awaited stays the wake-up)."""
    wake = timer.next_check_at
    if due is None or (wake is not None and (wake <= due or due <= now)):
        return timer
    return replace(timer, next_check_at=due)


def event_time(event: Scan | Order) -> datetime:
    return event.occurred_at if isinstance(event, Scan) else event.ordered_at


def is_late(marker: RetiredShipment, event: Scan | Order) -> bool:
    """An input of the retired shipment, arriving late (counted, never applied); otherwise a new
    shipment that reuses the tracking number (its events happen after the old one was retired)."""
    return event_time(event) <= marker.retired_at


def forget_due(marker: RetiredShipment, now: datetime) -> bool:
    """Whether the marker itself is to be removed (the tracking number is free again)."""
    return now >= marker.forget_at


# ---------------------------------------------------------------------------------------------
# Orders: the ``~order~`` index and the ``~return~`` row of one order id


@dataclass(frozen=True, slots=True)
class OrderRows:
    """What the order's partition knows of one order when it judges the order's retention."""

    index: OrderFeedbackState | None = None
    returned: ReturnState | None = None
    # The settled moments of the order's shipments held on the same partition (None: still open;
    # one removed already counts by its marker's ``settled_at``, one deleted not at all).
    local: tuple[datetime | None, ...] = ()
    remote: bool = False  # some of its shipments live on other partitions (unreadable here)


def return_settled_at(state: ReturnState, returns: ReturnPolicy) -> datetime | None:
    """When the return settled: refunded (no later failure) or cancelled, with nothing left for
    its timer (a return parcel still travelling after the refund is looked after); an owed
    refund keeps it open. None while open."""
    if next_check_at(state, returns) is not None:
        return None
    if state.cancelled:
        return state.cancelled_at
    if state.refund_issued_at is not None and not state.refund_outstanding:
        return state.refund_issued_at
    return None


def order_retire_at(
    rows: OrderRows, now: datetime, policy: RetentionPolicy, returns: ReturnPolicy
) -> datetime | None:
    """When the order's rows may be removed, or None while the order is open (feedback waiting,
    a return not settled). A shipment still open on this partition asks for a look a retention
    from ``now``; an index stored before ``changed_at`` existed counts from ``now`` too."""
    moments: list[datetime] = []
    if rows.index is not None:
        if rows.index.waiting or rows.index.forwarded:
            return None
        quiet = rows.index.changed_at or now
        moments.append(quiet + policy.expired_after if rows.remote else quiet)
    if rows.returned is not None:
        settled = return_settled_at(rows.returned, returns)
        if settled is None:
            return None
        moments.append(settled)
    moments += [now if settled is None else settled for settled in rows.local]
    return max(moments) + policy.retention if moments else None


def order_retirement(
    rows: OrderRows,
    now: datetime,
    policy: RetentionPolicy,
    returns: ReturnPolicy,
    home_partition: int | None,
) -> RetiredShipment | None:
    """The marker replacing the order's rows once its retention has ended; else None."""
    due = order_retire_at(rows, now, policy, returns)
    if due is None or now < due:
        return None
    return RetiredShipment(
        settled_at=due - policy.retention,
        retired_at=now,
        forget_at=now + policy.retired_memory,
        home_partition=home_partition,
    )
