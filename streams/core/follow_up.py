"""After every change to a shipment, and whenever a timer asks: silences, notifications, and when
to look again. Pure: the clock and the templates are passed in."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from parcelwatch.schemas.state import NotificationEntry, ShipmentState
from parcelwatch.schemas.types import Alert, Notification
from parcelwatch.streams.core.local_time import customer_zone
from parcelwatch.streams.core.notification_text import Templates, render_notification
from parcelwatch.streams.core.notifications import (
    Milestone,
    NotificationPolicy,
    Skip,
    decide,
    next_review_at,
)
from parcelwatch.streams.core.silence import SilencePolicy, check_silence, pending_silences


@dataclass(frozen=True, slots=True)
class FollowUpPolicy:
    """What the follow-up judges by: when a silence is one, and when and what to tell customers."""

    silence: SilencePolicy = field(default_factory=SilencePolicy)
    notifications: NotificationPolicy = field(default_factory=NotificationPolicy)


@dataclass(frozen=True, slots=True)
class FollowUp:
    state: ShipmentState
    alerts: tuple[Alert, ...] = ()
    notifications: tuple[Notification, ...] = ()
    skipped: tuple[tuple[Milestone, Skip], ...] = ()


def follow_up(
    state: ShipmentState,
    now: datetime,
    policy: FollowUpPolicy,
    templates: Templates,
    *,
    check_silences: bool,
) -> FollowUp:
    """What ``state`` calls for at ``now``.

    Silences are judged only when a timer asks (``check_silences``): a scan is evidence of life,
    and a worker catching up on a backlog must not call a parcel stalled whose next scan is still
    further down the topic.
    """
    alerts: tuple[Alert, ...] = ()
    if check_silences:
        alerts, state = check_silence(state, now, policy.silence)
    zone = customer_zone(state)
    decision = decide(state, now, policy.notifications, policy.silence, zone)
    state = decision.state
    notifications = tuple(
        render_notification(milestone, state, now, templates, zone) for milestone in decision.send
    )
    # Logged as sent now: the state is stored only once they are published (processing.py).
    state = state.with_sent(
        tuple(
            NotificationEntry(notice.kind, milestone.key, notice.notification_id, now)
            for milestone, notice in zip(decision.send, notifications, strict=True)
        )
    )
    wake_at = next_check_at(state, policy, now, decision.wake_at)
    if wake_at != state.timer.next_check_at:
        state = replace(state, timer=replace(state.timer, next_check_at=wake_at))
    return FollowUp(state, alerts, notifications, decision.skipped)


def next_check_at(
    state: ShipmentState, policy: FollowUpPolicy, now: datetime, held_until: datetime | None = None
) -> datetime | None:
    """The earliest moment something may change with no new input: a silence falling due, the
    review request, or the end of quiet hours for a held notification. None: nothing to wait for.

    A silence already due stays in (a scan was applied without judging silences: the timer should
    come soon); a review request already due is either sent, skipped or held, and then only the
    end of quiet hours (``held_until``) matters.
    """
    moments = [silence.due_at for silence in pending_silences(state, policy.silence)]
    review = next_review_at(state, policy.notifications)
    if review is not None and review > now:
        moments.append(review)
    if held_until is not None:
        moments.append(held_until)
    return min(moments, default=None)
