"""Which customer notifications a shipment's state calls for, and whether they may go out now.

State-based, not transition-based: ``due_milestones`` reads the state (status, alert episodes, the
delivery time) and names every milestone the customer should have heard about; ``decide`` drops
those already notified (``state.outputs.notified``). Because of that, duplicates, replays and
out-of-order scans cannot produce a second notification, and a milestone skipped by a later one
(a backlog that goes straight to "delivered") is not sent late: the journey milestones are ranked,
and none is sent after a higher one ("out for delivery" never follows "delivered").

Every milestone has a key, unique within its shipment, from which the notification id is derived.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from itertools import repeat

from parcelwatch.schemas.state import MAX_NOTIFIED, ShipmentState
from parcelwatch.schemas.types import AlertKind, NotificationKind, ShipmentStatus
from parcelwatch.streams.core.alert_rules import NO_PROMISE_CHECK, alert_id, promise_episode
from parcelwatch.streams.core.local_time import QuietHours, customer_zone
from parcelwatch.streams.core.silence import SilencePolicy, stalled_since

K = NotificationKind

# The journey, in order. A milestone is due while the status is at its stage, and never after a
# later one was notified.
JOURNEY_RANK = {
    K.ORDER_CONFIRMED: 0,
    K.SHIPPED: 1,
    K.OUT_FOR_DELIVERY: 2,
    K.AVAILABLE_FOR_PICKUP: 3,
    K.DELIVERED: 4,
}
# By notification key (a journey milestone's key is its kind): read once per follow-up.
_JOURNEY_RANK_OF_KEY: dict[str, int] = {kind.value: rank for kind, rank in JOURNEY_RANK.items()}
_JOURNEY_STAGE: dict[ShipmentStatus | None, NotificationKind] = {
    None: K.ORDER_CONFIRMED,
    ShipmentStatus.INFO_RECEIVED: K.ORDER_CONFIRMED,
    # "shipped" is the first *physical* scan: a label is not a shipment.
    ShipmentStatus.PICKED_UP: K.SHIPPED,
    ShipmentStatus.IN_TRANSIT: K.SHIPPED,
    ShipmentStatus.EXCEPTION: K.SHIPPED,
    ShipmentStatus.ATTEMPT_FAILED: K.SHIPPED,
    ShipmentStatus.OUT_FOR_DELIVERY: K.OUT_FOR_DELIVERY,
    ShipmentStatus.AVAILABLE_FOR_PICKUP: K.AVAILABLE_FOR_PICKUP,
    ShipmentStatus.DELIVERED: K.DELIVERED,
}
# Time-critical or needing the customer to act: these ignore quiet hours.
URGENT_KINDS = frozenset(
    {K.OUT_FOR_DELIVERY, K.AVAILABLE_FOR_PICKUP, K.ATTEMPT_FAILED, K.EXCEPTION}
)
# Alert episodes the customer hears about as an "exception" (returned: "it is coming back").
_EXCEPTION_EPISODES = (AlertKind.CARRIER_EXCEPTION, AlertKind.RETURNED)
# Why a promise is in doubt, strongest evidence first; the notification links that alert.
_DELAY_EPISODES = (AlertKind.MISSED_PROMISE, AlertKind.DELAY_RISK, AlertKind.STALLED)


@dataclass(frozen=True, slots=True)
class NotificationPolicy:
    quiet_hours: QuietHours | None = field(default_factory=QuietHours)
    urgent: frozenset[NotificationKind] = URGENT_KINDS
    review_after: timedelta = timedelta(hours=24)  # after delivery...
    review_window: timedelta = timedelta(hours=48)  # ...and only inside this post-delivery window
    # A milestone this old is recorded but not sent: replaying a backlog or a history must not
    # tell customers about last week's scans.
    stale_after: timedelta = timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class Milestone:
    kind: NotificationKind
    key: str  # unique within the shipment; the notification id derives from it
    occurred_at: datetime
    alert_id: str | None = None  # the alert this milestone goes with, if any
    alert_kind: AlertKind | None = None

    @property
    def is_journey(self) -> bool:
        return self.kind in JOURNEY_RANK


class Skip(StrEnum):
    STALE = "stale"
    WINDOW_CLOSED = "window_closed"


@dataclass(frozen=True, slots=True)
class Decision:
    send: tuple[Milestone, ...]
    skipped: tuple[tuple[Milestone, Skip], ...]
    wake_at: datetime | None  # earliest end of quiet hours for a held milestone
    state: ShipmentState  # with the sent and skipped milestones recorded


def due_milestones(
    state: ShipmentState, now: datetime, policy: NotificationPolicy, silence: SilencePolicy
) -> list[Milestone]:
    """Every milestone the state calls for, sent already or not."""
    return [
        *_journey(state),
        *_episodes(state),
        *_delay(state, silence),
        *_review(state, now, policy),
    ]


def decide(
    state: ShipmentState,
    now: datetime,
    policy: NotificationPolicy,
    silence: SilencePolicy,
    zone: tzinfo | None = None,
) -> Decision:
    """Which due milestones go out now, which are skipped for good, and which wait (quiet hours)."""
    channels = state.order.customer.channels if state.order.customer is not None else ()
    if not channels or state.order.order_id is None:
        # Nobody to tell (no order yet, or opted out of every channel): nothing is recorded, so an
        # order that arrives later still gets the current milestone.
        return Decision((), (), None, state)
    zone = zone or customer_zone(state)
    send: list[Milestone] = []
    skipped: list[tuple[Milestone, Skip]] = []
    wake_at: datetime | None = None
    notified = list(state.outputs.notified)
    top_rank = _top_journey_rank(notified)
    for milestone in due_milestones(state, now, policy, silence):
        if milestone.key in notified:
            continue
        if milestone.is_journey and JOURNEY_RANK[milestone.kind] <= top_rank:
            continue
        skip = _skip_reason(milestone, state, now, policy)
        if skip is None and milestone.kind not in policy.urgent and policy.quiet_hours:
            release = policy.quiet_hours.release_at(now, zone)
            if release is not None:
                wake_at = release if wake_at is None else min(wake_at, release)
                continue
        if skip is None:
            send.append(milestone)
        else:
            skipped.append((milestone, skip))
        notified.append(milestone.key)
        if milestone.is_journey:
            top_rank = JOURNEY_RANK[milestone.kind]
    if len(notified) != len(state.outputs.notified):
        outputs = replace(state.outputs, notified=tuple(_bounded(notified)))
        state = replace(state, outputs=outputs)
    return Decision(tuple(send), tuple(skipped), wake_at, state)


def next_review_at(state: ShipmentState, policy: NotificationPolicy) -> datetime | None:
    """When the review request falls due, if it is still to come."""
    if (
        state.tracking.status is not ShipmentStatus.DELIVERED
        or state.tracking.delivered_at is None
        or state.was_notified(K.REVIEW_REQUEST.value)
        or not (state.order.customer and state.order.customer.channels)
    ):
        return None
    return state.tracking.delivered_at + policy.review_after


def _journey(state: ShipmentState) -> Iterator[Milestone]:
    kind = _JOURNEY_STAGE.get(state.tracking.status)
    if kind is None:
        return
    occurred_at = (
        state.tracking.status_at if state.tracking.status is not None else state.order.ordered_at
    )
    if occurred_at is not None:
        yield Milestone(kind, kind.value, occurred_at)


def _episodes(state: ShipmentState) -> Iterator[Milestone]:
    occurred_at = state.tracking.status_at
    if occurred_at is None:
        return
    episode = state.open_episode(AlertKind.ATTEMPT_FAILED)
    if episode is not None and state.tracking.status is ShipmentStatus.ATTEMPT_FAILED:
        yield _alert_milestone(state, K.ATTEMPT_FAILED, AlertKind.ATTEMPT_FAILED, episode)
    for alert_kind in _EXCEPTION_EPISODES:
        episode = state.open_episode(alert_kind)
        if episode is not None:
            yield _alert_milestone(state, K.EXCEPTION, alert_kind, episode)


def _alert_milestone(
    state: ShipmentState, kind: NotificationKind, alert_kind: AlertKind, episode: str
) -> Milestone:
    assert state.tracking.status_at is not None
    return Milestone(
        kind,
        f"{kind.value}/{alert_kind.value}/{episode}",
        state.tracking.status_at,
        alert_id(state.tracking_number, alert_kind, episode),
        alert_kind,
    )


def _delay(state: ShipmentState, silence: SilencePolicy) -> Iterator[Milestone]:
    """One "delayed" per promise: a renegotiated promise may be missed again, and is told again.

    ``occurred_at`` is when the delay became evident, which is what staleness is judged by.
    """
    promised_by, last_scan_at = state.order.promised_by, state.tracking.last_scan_at
    if promised_by is None or state.tracking.status in NO_PROMISE_CHECK:
        return
    promise = promise_episode(state)
    evident_at = {
        AlertKind.MISSED_PROMISE: (
            promised_by if state.open_episode(AlertKind.MISSED_PROMISE) == promise else None
        ),
        AlertKind.DELAY_RISK: (
            last_scan_at if state.open_episode(AlertKind.DELAY_RISK) is not None else None
        ),
        AlertKind.STALLED: stalled_since(state, silence),
    }
    key = f"{K.DELAYED.value}/{promise}"
    for alert_kind in _DELAY_EPISODES:
        episode = state.open_episode(alert_kind)
        moment = evident_at[alert_kind]
        if moment is not None and episode is not None:
            yield Milestone(
                K.DELAYED,
                key,
                moment,
                alert_id(state.tracking_number, alert_kind, episode),
                alert_kind,
            )
            return
    estimate = state.tracking.estimated_delivery
    if estimate is not None and estimate > promised_by and last_scan_at is not None:
        yield Milestone(K.DELAYED, key, last_scan_at)  # the carrier moved its own date


def _review(state: ShipmentState, now: datetime, policy: NotificationPolicy) -> Iterator[Milestone]:
    due = next_review_at(state, policy)
    if due is not None and now >= due:
        yield Milestone(K.REVIEW_REQUEST, K.REVIEW_REQUEST.value, due)


def _skip_reason(
    milestone: Milestone, state: ShipmentState, now: datetime, policy: NotificationPolicy
) -> Skip | None:
    if milestone.kind is K.REVIEW_REQUEST:
        assert state.tracking.delivered_at is not None
        if now >= state.tracking.delivered_at + policy.review_window:
            return Skip.WINDOW_CLOSED
        return None
    if now - milestone.occurred_at > policy.stale_after:
        return Skip.STALE
    return None


def _top_journey_rank(notified: list[str]) -> int:
    return max(map(_JOURNEY_RANK_OF_KEY.get, notified, repeat(-1)), default=-1)


def _bounded(notified: list[str]) -> list[str]:
    # Journey keys are never evicted: they guard "never after a later milestone".
    if len(notified) <= MAX_NOTIFIED:
        return notified
    journey = {kind.value for kind in JOURNEY_RANK} | {K.REVIEW_REQUEST.value}
    keep = [key for key in notified if key in journey]
    others = [key for key in notified if key not in journey]
    return keep + others[len(others) - (MAX_NOTIFIED - len(keep)) :]
