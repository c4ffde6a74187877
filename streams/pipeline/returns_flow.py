"""Returns and refunds inside a batch: the order side of ``streams/core/returns.py``.

Three of the tracking agent's topics carry it, all keyed by order id and co-partitioned with the
order index (``~order~<id>``), so an order's return state sits beside the order's customer:

* ``returns``: the merchant's return and refund steps;
* ``return-scans``: the return parcel's scans, forwarded by the parcel's owner;
* ``shipment-checks`` naming an order: the timer's look (refund overdue, return parcel silent,
  and notices held through quiet hours).

The state lives in the shipments table under ``~return~<order id>`` and, like ``~order~``
states, is written after the batch's outputs are acknowledged, on behalf of the batch's last
message for it. What is told follows the shipment notifications' rules: once per milestone (the
core's deterministic ids), quiet hours in the customer's zone, nothing recorded as told while no
customer is known (the order's link brings one), stale milestones recorded but not sent.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from parcelwatch.schemas.codec import encode, to_jsonable
from parcelwatch.schemas.escalations import SupportEscalation
from parcelwatch.schemas.order_state import OrderFeedbackState, return_key
from parcelwatch.schemas.retired import is_retired
from parcelwatch.schemas.return_parcels import ReturnParcelLink, decode_return_parcel_scan
from parcelwatch.schemas.returns import ReturnEvent, ReturnEventType, decode_return_event
from parcelwatch.schemas.state import ShipmentState, TimerSchedule, state_from_json
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import (
    Alert,
    Item,
    Limits,
    Notification,
    NotificationKind,
)
from parcelwatch.streams.core.local_time import zone_named
from parcelwatch.streams.core.notification_text import Templates
from parcelwatch.streams.core.notifications import NotificationPolicy, Skip
from parcelwatch.streams.core.returns import (
    ReturnPolicy,
    ReturnState,
    ReturnUpdate,
    announce,
    apply_return_event,
    apply_return_scan,
    check_return,
    next_check_at,
    return_state_from_json,
)
from parcelwatch.streams.pipeline.escalations import EscalationDesk
from parcelwatch.streams.pipeline.messages import InputMessage, OutputMessage
from parcelwatch.streams.pipeline.metrics import WorkerMetrics, bounded_carrier
from parcelwatch.streams.pipeline.order_retention import none_retired
from parcelwatch.streams.pipeline.return_outputs import (
    return_alert,
    return_notification,
    return_parcel,
)

OrderIndex = Callable[[str], OrderFeedbackState | None]  # order id -> the order's index


@dataclass
class ReturnsBatch:
    """The batch's return work: states chained across its messages, outputs in order."""

    states: dict[str, ReturnState] = field(default_factory=dict)  # table key -> state
    last_message: dict[str, int] = field(default_factory=dict)
    outputs: list[OutputMessage] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    stale: list[NotificationKind] = field(default_factory=list)
    returns: list[tuple[str, str, str]] = field(default_factory=list)  # carrier, category, reason
    refund_seconds: list[float] = field(default_factory=list)
    cases: list[SupportEscalation] = field(default_factory=list)


class ReturnsFlow:
    def __init__(
        self,
        *,
        topics: TopicNames,
        limits: Limits,
        store: MutableMapping[str, dict[str, Any]],
        templates: Templates,
        policy: ReturnPolicy,
        notifications: NotificationPolicy,
        metrics: WorkerMetrics,
        escalations: EscalationDesk,
    ) -> None:
        self._topics = topics
        self._limits = limits
        self._store = store
        self._templates = templates
        self._policy = policy
        self._notifications = notifications
        self._metrics = metrics
        self._escalations = escalations

    def receive(
        self, batch: ReturnsBatch, index: int, message: InputMessage, order: OrderIndex,
        now: datetime, retired: Callable[[str], None] = none_retired,
    ) -> bool:  # fmt: skip
        """A ``returns`` step; False when it is a duplicate. Invalid steps raise InvalidEvent;
        ``retired`` raises for an order removed after its retention."""
        event = decode_return_event(message.payload, key=message.key, now=now, limits=self._limits)
        retired(event.order_id)
        before = self._before(batch, event.order_id)
        update = apply_return_event(before, event, now)
        if update.duplicate:
            return False
        index_of_order = order(event.order_id)
        self._count(batch, before, update.state, event, index_of_order)
        if _new_parcel(before, update.state):
            self._link_parcel(batch, update.state, message.partition, now)
        self._settle(batch, index, message.partition, update, index_of_order, now, judged=False)
        return True

    def parcel_scan(
        self, batch: ReturnsBatch, index: int, message: InputMessage, order: OrderIndex,
        now: datetime, retired: Callable[[str], None] = none_retired,
    ) -> bool | None:  # fmt: skip
        """A forwarded scan of a return parcel: True applied, False a duplicate, None ignored (no
        return state, or a parcel the order's newer label replaced)."""
        forwarded = decode_return_parcel_scan(
            message.payload, key=message.key, now=now, limits=self._limits
        )
        retired(forwarded.order_id)
        before = self._before(batch, forwarded.order_id)
        if before is None or before.return_tracking_number != forwarded.return_tracking_number:
            return None
        update = apply_return_scan(before, forwarded.as_scan(), now)
        if update.duplicate:
            return False
        self._count(batch, before, update.state, None, None)
        self._settle(
            batch, index, message.partition, update, order(forwarded.order_id), now, judged=False
        )
        return True

    def check(
        self, batch: ReturnsBatch, index: int, partition: int, order_id: str, order: OrderIndex,
        now: datetime,
    ) -> bool:  # fmt: skip
        """The timer's look at the order's return; False when nothing changed."""
        before = self._before(batch, order_id)
        if before is None:
            return False
        judged = check_return(before, now, self._policy)
        told = announce(judged.state, now)  # notices held through quiet hours
        update = ReturnUpdate(told.state, (*judged.notices, *told.notices), judged.alerts)
        return self._settle(batch, index, partition, update, order(order_id), now, judged=True)

    def customer_known(
        self, batch: ReturnsBatch, index: int, partition: int, order_id: str, order: OrderIndex,
        now: datetime,
    ) -> None:  # fmt: skip
        """The order's index learnt a shipment or customer: notices waiting for one go out."""
        before = self._before(batch, order_id)
        if before is not None:
            update = announce(before, now)
            self._settle(batch, index, partition, update, order(order_id), now, judged=False)

    def store(self, batch: ReturnsBatch, focus: Callable[[int], None]) -> None:
        """Write each changed return state once, on behalf of its last message (after the
        batch's outputs were acknowledged)."""
        for key, state in batch.states.items():
            focus(batch.last_message[key])
            self._store[key] = to_jsonable(state)

    def count(self, batch: ReturnsBatch) -> None:
        for alert in batch.alerts:
            self._metrics.alerts.labels(alert.kind.value, alert.severity.value).inc()
        for notification in batch.notifications:
            self._metrics.notifications.labels(notification.kind.value).inc()
        for kind in batch.stale:
            self._metrics.notifications_skipped.labels(kind.value, Skip.STALE.value).inc()
        for carrier, category, reason in batch.returns:
            self._metrics.returns.labels(carrier, category, reason).inc()
        for seconds in batch.refund_seconds:
            self._metrics.refund_seconds.observe(seconds)
        self._escalations.count(batch.cases)

    def state(self, batch: ReturnsBatch, order_id: str) -> ReturnState | None:
        """The order's return as this batch left it so far, else as stored."""
        return self._before(batch, order_id)

    # -----------------------------------------------------------------------------------------

    def _before(self, batch: ReturnsBatch, order_id: str) -> ReturnState | None:
        key = return_key(order_id)
        if key in batch.states:
            return batch.states[key]
        stored = self._store.get(key)
        if stored is None or is_retired(stored):  # a removed order's marker: no return
            return None
        return return_state_from_json(stored)

    def _link_parcel(
        self, batch: ReturnsBatch, state: ReturnState, partition: int, now: datetime
    ) -> None:
        assert state.return_tracking_number is not None and state.return_carrier is not None
        link = ReturnParcelLink(
            order_id=state.order_id,
            return_tracking_number=state.return_tracking_number,
            carrier=state.return_carrier,
            order_partition=partition,
            linked_at=now,
        )
        batch.outputs.append(
            OutputMessage(
                self._topics.return_parcels, link.return_tracking_number.encode(), encode(link)
            )
        )

    def _settle(
        self,
        batch: ReturnsBatch,
        index: int,
        partition: int,
        update: ReturnUpdate,
        order: OrderFeedbackState | None,
        now: datetime,
        *,
        judged: bool,
    ) -> bool:
        """Send what may go out now, hold the rest (not recorded as told), schedule the timer,
        and keep the state for the batch's store. False when the state did not change."""
        state = update.state
        customer = order.customer if order is not None else None
        parcel = return_parcel(state, order)
        quiet = self._notifications.quiet_hours
        zone = (zone_named(customer.timezone) if customer and customer.timezone else None) or UTC
        held: list[NotificationKind] = []
        wake_at: datetime | None = None
        for alert in update.alerts:
            self._emit_alert(batch, return_alert(alert, state, order))
        for notice in update.notices:
            if customer is None or not customer.channels or parcel is None:
                held.append(notice.kind)  # nobody to tell yet: the order's link brings them
                continue
            if now - notice.occurred_at > self._notifications.stale_after:
                batch.stale.append(notice.kind)  # recorded as told, never sent: old news
                continue
            release = None
            if quiet is not None and notice.kind not in self._notifications.urgent:
                release = quiet.release_at(now, zone)
            if release is not None:
                held.append(notice.kind)
                wake_at = release if wake_at is None else min(wake_at, release)
                continue
            notification = return_notification(notice, state, parcel, customer, self._templates)
            batch.notifications.append(notification)
            batch.outputs.append(
                OutputMessage(
                    self._topics.customer_notifications,
                    notification.tracking_number.encode(),
                    encode(notification),
                )
            )
        if held:
            state = replace(state, notified=tuple(k for k in state.notified if k not in held))
        state, cases = self._escalations.refund(
            state, now, lambda: self._shipment_of(order), customer
        )
        batch.cases += cases
        batch.outputs += self._escalations.messages(cases)
        state = replace(state, timer=self._timer(state, partition, now, wake_at, judged=judged))
        key = return_key(state.order_id)
        if state == self._before(batch, state.order_id):
            return False
        batch.states[key] = state
        batch.last_message[key] = index
        return True

    def _timer(
        self, state: ReturnState, partition: int, now: datetime, wake_at: datetime | None,
        *, judged: bool,
    ) -> TimerSchedule:  # fmt: skip
        """When the sweep should send the order a check: the core's next moment, and the end of
        quiet hours for held notices. A moment already past that a check has just judged is not
        asked for again (what it found is held, or told)."""
        due = (next_check_at(state, self._policy), self._escalations.refund_due_at(state), wake_at)
        moments = [moment for moment in due if moment]
        if judged:
            moments = [moment for moment in moments if moment > now or moment == wake_at]
        return replace(
            state.timer, next_check_at=min(moments, default=None), home_partition=partition
        )

    def _shipment_of(self, order: OrderFeedbackState | None) -> ShipmentState | None:
        """The order's first shipment, if its state is on this worker (it lives on its tracking
        number's partition, which need not be the order's): context for a support case."""
        if order is None or not order.shipments:
            return None
        stored = self._store.get(order.shipments[0].tracking_number)
        if stored is None or is_retired(stored):  # removed after its retention
            return None
        return state_from_json(stored)

    def _emit_alert(self, batch: ReturnsBatch, alert: Alert) -> None:
        batch.alerts.append(alert)
        batch.outputs.append(
            OutputMessage(
                self._topics.shipment_alerts, alert.tracking_number.encode(), encode(alert)
            )
        )

    def _count(
        self,
        batch: ReturnsBatch,
        before: ReturnState | None,
        after: ReturnState,
        event: ReturnEvent | None,
        order: OrderFeedbackState | None,
    ) -> None:
        if (
            event is not None
            and event.type is ReturnEventType.RETURN_REQUESTED
            and (before is None or before.requested_at is None)
        ):
            outbound = order.shipments[0].carrier if order is not None and order.shipments else None
            reason = after.reason.value if after.reason is not None else "unknown"
            category = self._metrics.category_label(_category(after.items))
            batch.returns.append((bounded_carrier(outbound), category, reason))
        was_owed = before is None or before.refund_outstanding
        if was_owed and not after.refund_outstanding and after.received_at is not None:
            assert after.refund_issued_at is not None
            seconds = (after.refund_issued_at - after.received_at).total_seconds()
            if seconds >= 0:  # a refund before the goods came back is not a refund delay
                batch.refund_seconds.append(seconds)


def _new_parcel(before: ReturnState | None, after: ReturnState) -> bool:
    """The label set or changed the return parcel: its owner must learn it is a return."""
    known = before.return_tracking_number if before is not None else None
    return after.return_tracking_number is not None and after.return_tracking_number != known


def _category(items: tuple[Item, ...]) -> str:
    """One label per return: the items' shared product category, ``mixed`` or ``unknown``."""
    categories = {item.category for item in items if item.category}
    if not categories:
        return "unknown"
    if len(categories) > 1:
        return "mixed"
    return categories.pop()
