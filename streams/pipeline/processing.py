"""Input messages from start to finish, a batch at a time: decode -> apply -> follow up (silences,
notifications) -> score -> escalate (support cases) -> publish -> store. Timer checks
(``shipment-checks``) take the same path, so they share its guarantees.

Independent of Faust, so tests use a dict as the table and a list as the topics; the agent in
``parcelwatch.streams.runtime.agents`` only feeds it batches.

Delivery guarantees (at-least-once, with deterministic ids):
* every output is acknowledged by the broker *before* the shipment's new state is written, so a
  state that says "alert raised" or "customer notified" is never durable without its message;
* a shipment's state is written once per batch, holding every event of the batch and its risk
  score, so a crash never leaves a shipment half-processed;
* the input offsets are committed by Faust only after the batch's outputs and changelog are
  flushed; after a crash the uncommitted inputs are re-read: those whose state made it to the
  changelog are duplicates, the others produce the same alerts and notifications again with the
  same ``alert_id`` / ``notification_id``, which consumers use to de-duplicate.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from parcelwatch.models.dataset import is_scorable
from parcelwatch.models.features import Row, feature_row
from parcelwatch.models.scoring import RiskEstimate, plain_reasons
from parcelwatch.schemas.codec import (
    InvalidEvent,
    decode_check,
    decode_order,
    decode_scan,
    encode,
)
from parcelwatch.schemas.escalations import SupportEscalation
from parcelwatch.schemas.order_state import OrderFeedbackState, order_key, return_key
from parcelwatch.schemas.retired import (
    RetiredShipment,
    is_retired,
    retired_from_json,
    retired_to_json,
)
from parcelwatch.schemas.return_parcels import ReturnParcelScan, decode_return_parcel_link
from parcelwatch.schemas.state import ShipmentState, state_from_json, state_to_json
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import (
    Alert,
    DeadLetterReason,
    Limits,
    Notification,
    Order,
    PredictedDelivery,
    Scan,
    ShipmentStatus,
)
from parcelwatch.streams.core.answers import AnswerTemplates
from parcelwatch.streams.core.escalations import EscalationPolicy
from parcelwatch.streams.core.follow_up import FollowUp, FollowUpPolicy, follow_up
from parcelwatch.streams.core.notification_text import Templates
from parcelwatch.streams.core.retention import (
    RetentionPolicy,
    forget_due,
    is_late,
    retirement,
    with_retention_timer,
)
from parcelwatch.streams.core.return_parcels import forwarded_scan, link_return_parcel
from parcelwatch.streams.core.returns import ReturnPolicy
from parcelwatch.streams.core.risk_rules import RiskPolicy, RiskScore, apply_risk
from parcelwatch.streams.core.tracking import Applied, apply_event
from parcelwatch.streams.message_templates import load_templates
from parcelwatch.streams.message_templates.answer_files import load_answer_templates
from parcelwatch.streams.pipeline.dead_letters import DeadLetterMaker
from parcelwatch.streams.pipeline.escalations import EscalationDesk
from parcelwatch.streams.pipeline.feedback_join import (
    DEFAULT_FEEDBACK_WAIT,
    Analyzer,
    FeedbackBatch,
    FeedbackJoin,
    rules_analyzer,
)
from parcelwatch.streams.pipeline.messages import InputMessage, OutputMessage
from parcelwatch.streams.pipeline.metrics import WorkerMetrics, bounded_carrier
from parcelwatch.streams.pipeline.model_outcomes import decide_outcome, outcome_newly_known
from parcelwatch.streams.pipeline.order_retention import OrderBatch, OrderRetention, RetiredOrder
from parcelwatch.streams.pipeline.returns_flow import ReturnsBatch, ReturnsFlow
from parcelwatch.streams.pipeline.state_cache import StateCache

log = logging.getLogger(__name__)

# Sends one message and returns once the broker has acknowledged it.
Publish = Callable[[str, bytes, bytes], Awaitable[None]]


# Sends messages in this order and returns once the broker has acknowledged all of them: one
# round trip for a batch's outputs instead of one per message.
PublishMany = Callable[[Sequence[OutputMessage]], Awaitable[None]]
Clock = Callable[[], datetime]


class Scorer(Protocol):
    """A loaded delay-risk model (parcelwatch.models.scoring.DelayRiskModel)."""

    version: str
    threshold: float

    def score(self, rows: Sequence[Row], as_of: Sequence[datetime]) -> list[RiskEstimate]: ...


class MessageOutcome(StrEnum):
    """What became of one input message (the ``outcome`` label of the events metric)."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"
    UNCHANGED = "unchanged"  # a timer's check that found nothing to do
    RETIRED = "retired"  # a late input of a shipment or order removed after its retention


@dataclass
class _Batch:
    """Working memory of one batch: states chained across its events, outputs in order."""

    states: dict[str, ShipmentState] = field(default_factory=dict)
    last_message: dict[str, int] = field(default_factory=dict)  # tracking number -> index
    dead_letters: list[OutputMessage] = field(default_factory=list)
    alerts: list[tuple[int, Alert]] = field(default_factory=list)  # (message index, alert)
    notifications: list[tuple[int, Notification]] = field(default_factory=list)
    model_outcomes: list[OutputMessage] = field(default_factory=list)
    # (message index, state, the input's event id, as of: the scan's time; for an order, its
    # shipment's newest scan's)
    to_score: list[tuple[int, ShipmentState, str, datetime]] = field(default_factory=list)
    # Shipments whose outcome the batch made known: the input that did and the state after it.
    outcome_known: dict[str, tuple[int, ShipmentState]] = field(default_factory=dict)
    scans_seen: list[tuple[Scan, ShipmentState | None, ShipmentState]] = field(default_factory=list)
    feedback: FeedbackBatch = field(default_factory=FeedbackBatch)
    cases: list[SupportEscalation] = field(default_factory=list)  # shipments' support cases
    returns: ReturnsBatch = field(default_factory=ReturnsBatch)
    # Shipments removed by this batch: the marker replacing the state, or None to delete the row
    # (a marker's own end). Their last message is in ``last_message``.
    retired: dict[str, RetiredShipment | None] = field(default_factory=dict)
    orders: OrderBatch = field(default_factory=OrderBatch)  # orders removed, or their timers


class ShipmentProcessor:
    def __init__(
        self,
        *,
        topics: TopicNames,
        limits: Limits,
        store: MutableMapping[str, dict[str, Any]],
        publish: Publish,
        clock: Clock,
        metrics: WorkerMetrics,
        templates: Templates | None = None,  # None: the built-in templates
        follow_up_policy: FollowUpPolicy | None = None,
        scorer: Callable[[], Scorer | None] = lambda: None,
        risk_hysteresis: float = 0.15,
        publish_many: PublishMany | None = None,  # None: ``publish`` one message at a time
        analyzer: Callable[[], Analyzer] = rules_analyzer,  # the feedback analyzer in force
        feedback_wait: timedelta = DEFAULT_FEEDBACK_WAIT,
        answer_templates: AnswerTemplates | None = None,  # None: the built-in answer templates
        escalation_policy: EscalationPolicy | None = None,
        return_policy: ReturnPolicy | None = None,  # None: the defaults
        retention: RetentionPolicy | None = None,  # None: settled shipments are kept
        # Decoded states of recent writes; the owner clears it at a rebalance (see StateCache).
        state_cache: StateCache | None = None,
    ) -> None:
        self._topics = topics
        self._cache = state_cache if state_cache is not None else StateCache(0)
        self._limits = limits
        self._store = store
        self._publish = publish
        self._publish_many = publish_many or self._publish_one_by_one
        self._clock = clock
        self._metrics = metrics
        self._retention = retention
        self._dead_letter = DeadLetterMaker(topics.dead_letter, limits, metrics)
        self._scorer = scorer
        self._risk_hysteresis = risk_hysteresis
        self._templates = templates or load_templates()
        self._follow_up_policy = follow_up_policy or FollowUpPolicy()
        self._escalations = EscalationDesk(
            topic=topics.support_escalations,
            templates=answer_templates or load_answer_templates(),
            policy=escalation_policy or EscalationPolicy(),
            metrics=metrics,
        )
        self._feedback = FeedbackJoin(
            topics=topics, limits=limits, store=store, analyzer=analyzer, wait=feedback_wait,
            metrics=metrics, escalations=self._escalations,
        )  # fmt: skip
        self._orders = OrderRetention(
            store=store, policy=retention, returns=return_policy or ReturnPolicy()
        )
        self._returns = ReturnsFlow(
            topics=topics, limits=limits, store=store, templates=self._templates,
            policy=return_policy or ReturnPolicy(),
            notifications=self._follow_up_policy.notifications, metrics=metrics,
            escalations=self._escalations,
        )  # fmt: skip
        self._dispatch = {
            topics.shipment_checks: self._apply_check,
            topics.customer_feedback: self._apply_feedback,
            topics.order_shipments: self._apply_link,
            topics.shipment_feedback: self._apply_forwarded_feedback,
            topics.returns: self._apply_return,
            topics.return_scans: self._apply_return_scan,
            topics.return_parcels: self._apply_return_parcel,
        }

    def warm_up(self) -> None:
        """Load what the first batch would otherwise load (see ``FeedbackJoin.warm_up``)."""
        self._feedback.warm_up()

    async def process(self, message: InputMessage) -> MessageOutcome:
        (outcome,) = await self.process_batch([message])
        return outcome

    async def process_batch(
        self,
        messages: Sequence[InputMessage],
        focus: Callable[[int], None] = lambda index: None,
    ) -> list[MessageOutcome]:
        """Process ``messages`` in order. ``focus(i)`` is called before the table is read or
        written on behalf of message ``i`` (Faust routes table writes by the current event)."""
        started = time.perf_counter()
        now = self._clock()
        batch = _Batch(feedback=self._feedback.start(messages, now))
        outcomes = []
        for index, message in enumerate(messages):
            focus(index)
            apply = self._dispatch.get(message.topic, self._apply_input)
            outcomes.append(apply(message, index, batch, now))
        self._score(batch, now)
        self._decide_outcomes(batch)
        self._escalate(batch, now)
        self._schedule_retention(batch, now)
        self._schedule_order_retention(batch, now, focus)
        await self._publish_and_store(messages, batch, focus)
        self._observe_batch(messages, outcomes, batch, now, time.perf_counter() - started)
        return outcomes

    def _apply_input(
        self, message: InputMessage, index: int, batch: _Batch, now: datetime
    ) -> MessageOutcome:
        """An order or a carrier scan: applied to the shipment, or a duplicate, or dead-lettered."""
        try:
            event = self._decode_input(message, now)
            before = self._state_before(event.tracking_number, batch)
            if before is None:  # a late input of a removed shipment, or a new one (reused number)
                marker = self._retired(event.tracking_number, batch)
                if marker is not None and is_late(marker, event):
                    return MessageOutcome.RETIRED
            outcome = apply_event(before, event, now)
            if not isinstance(outcome, Applied):
                return MessageOutcome.DUPLICATE
            after = self._follow_up(outcome.state, now, check_silences=False)
            # The cases an input's state calls for are judged on it, not only on the state the
            # batch ends with: a parcel sent back and in transit again within one batch would
            # open a case or not depending on where batches end (and so differ between runs).
            state, cases = self._escalations.shipment(after.state, now)
        except Exception as error:
            return self._reject(message, error, now, batch)
        if cases:
            after = replace(after, state=state)
            batch.cases.extend(cases)
        batch.alerts.extend((index, alert) for alert in outcome.alerts)
        self._keep(batch, index, after)
        if event.tracking_number not in batch.outcome_known and outcome_newly_known(after.state):
            batch.outcome_known[event.tracking_number] = (index, after.state)
        if isinstance(event, Scan):
            batch.scans_seen.append((event, before, after.state))
            if after.state.is_return:  # its order's return state follows it
                batch.returns.outputs.append(self._forward_return_scan(after.state, event))
            elif is_scorable(after.state):
                batch.to_score.append((index, after.state, event.event_id, event.occurred_at))
        else:  # the order's index learns of the shipment only once its state exists
            self._feedback.linked(batch.feedback, event, message.partition, now)
            scans = after.state.tracking.recent_scans
            if scans and not after.state.is_return and is_scorable(after.state):
                # Read after its scans (two topics), or a new promise: its risk is scored again
                # as of the newest scan, now knowing the promise; an alert is the order's.
                batch.to_score.append((index, after.state, event.event_id, scans[-1].occurred_at))
        return MessageOutcome.APPLIED

    def _apply_feedback(
        self, message: InputMessage, index: int, batch: _Batch, now: datetime
    ) -> MessageOutcome:
        """Customer feedback (keyed by order id): forwarded to the order's shipments, or kept
        waiting for them, or a duplicate, or dead-lettered."""
        try:
            applied = self._feedback.receive(
                batch.feedback, index, message.partition, now, self._orders.guard(batch.orders)
            )
        except RetiredOrder:
            return MessageOutcome.RETIRED
        except Exception as error:
            return self._reject(message, error, now, batch)
        return MessageOutcome.APPLIED if applied else MessageOutcome.DUPLICATE

    def _apply_link(
        self, message: InputMessage, index: int, batch: _Batch, now: datetime
    ) -> MessageOutcome:
        """An order's shipment (internal): releases the order's waiting feedback."""
        try:
            applied = self._feedback.link(
                batch.feedback, index, message, now, self._orders.guard(batch.orders)
            )
            if applied:  # the order may have just learnt its customer: held return notices
                order_id = message.key.decode() if message.key is not None else ""
                self._returns.customer_known(
                    batch.returns, index, message.partition, order_id, self._order_index(batch),
                    now,
                )  # fmt: skip
        except RetiredOrder:
            return MessageOutcome.RETIRED
        except Exception as error:
            return self._reject(message, error, now, batch)
        return MessageOutcome.APPLIED if applied else MessageOutcome.DUPLICATE

    def _apply_return(
        self, message: InputMessage, index: int, batch: _Batch, now: datetime
    ) -> MessageOutcome:
        """A return or refund step (keyed by order id): applied to the order's return state, or
        a duplicate, or dead-lettered."""
        try:
            applied = self._returns.receive(
                batch.returns, index, message, self._order_index(batch), now,
                self._orders.guard(batch.orders),
            )  # fmt: skip
        except RetiredOrder:
            return MessageOutcome.RETIRED
        except Exception as error:
            return self._reject(message, error, now, batch)
        return MessageOutcome.APPLIED if applied else MessageOutcome.DUPLICATE

    def _apply_return_scan(
        self, message: InputMessage, index: int, batch: _Batch, now: datetime
    ) -> MessageOutcome:
        """A return parcel's scan, forwarded to its order (internal)."""
        try:
            applied = self._returns.parcel_scan(
                batch.returns, index, message, self._order_index(batch), now,
                self._orders.guard(batch.orders),
            )  # fmt: skip
        except RetiredOrder:
            return MessageOutcome.RETIRED
        except Exception as error:
            return self._reject(message, error, now, batch)
        if applied is None:
            return MessageOutcome.UNCHANGED
        return MessageOutcome.APPLIED if applied else MessageOutcome.DUPLICATE

    def _apply_return_parcel(
        self, message: InputMessage, index: int, batch: _Batch, now: datetime
    ) -> MessageOutcome:
        """An order's return label names this parcel (internal): it becomes a return, and the
        scans it already holds go to the order."""
        try:
            link = decode_return_parcel_link(
                message.payload, key=message.key, now=now, limits=self._limits
            )
            linked = link_return_parcel(
                self._state_before(link.return_tracking_number, batch), link, now
            )
        except Exception as error:
            return self._reject(message, error, now, batch)
        if linked is None:
            return MessageOutcome.DUPLICATE
        batch.states[link.return_tracking_number] = linked.state
        batch.last_message[link.return_tracking_number] = index
        batch.returns.outputs += [
            self._forward_return_scan(linked.state, item) for item in linked.forwards
        ]
        return MessageOutcome.APPLIED

    def _forward_return_scan(
        self, state: ShipmentState, scan: Scan | ReturnParcelScan
    ) -> OutputMessage:
        """To the partition of the order's return state (explicit: it is not the key's
        partition when the producers' partitioner differs from ours)."""
        assert state.return_of is not None
        forwarded = (
            scan
            if isinstance(scan, ReturnParcelScan)
            else forwarded_scan(state, scan, self._clock())
        )
        return OutputMessage(
            self._topics.return_scans, forwarded.order_id.encode(), encode(forwarded),
            state.return_of.order_partition,
        )  # fmt: skip

    def _order_index(self, batch: _Batch) -> Callable[[str], OrderFeedbackState | None]:
        return lambda order_id: self._feedback.order(batch.feedback, order_id)

    def _apply_forwarded_feedback(
        self, message: InputMessage, index: int, batch: _Batch, now: datetime
    ) -> MessageOutcome:
        """Feedback forwarded to one shipment (internal): joined with its state and flagged."""
        try:
            tracking_number = message.key.decode() if message.key is not None else ""
            before = self._state_before(tracking_number, batch) if tracking_number else None
            after = self._feedback.join(batch.feedback, message, before, now)
        except Exception as error:
            return self._reject(message, error, now, batch)
        if after is None:
            return MessageOutcome.DUPLICATE if before is not None else MessageOutcome.APPLIED
        batch.states[tracking_number] = after
        batch.last_message[tracking_number] = index
        return MessageOutcome.APPLIED

    def _apply_check(
        self, message: InputMessage, index: int, batch: _Batch, now: datetime
    ) -> MessageOutcome:
        """A timer's check: whatever the shipment's state says is due by now (silences, held
        notifications), or nothing."""
        try:
            check = decode_check(message.payload, key=message.key, now=now, limits=self._limits)
            if check.order_id is not None:
                return self._check_order(check.order_id, index, message.partition, batch, now)
            assert check.tracking_number is not None  # a check names one or the other
            before = self._state_before(check.tracking_number, batch)
            if before is None:
                return self._forget(check.tracking_number, index, batch, now)
            after = self._follow_up(before, now, check_silences=True)
            retired = self._retirement(before, after, now)
        except Exception as error:
            return self._reject(message, error, now, batch)
        if retired is not None:
            batch.states.pop(check.tracking_number, None)
            batch.retired[check.tracking_number] = retired
            batch.last_message[check.tracking_number] = index
            return MessageOutcome.APPLIED
        if after.state == before and not self._escalations.due(before, now):
            return MessageOutcome.UNCHANGED
        self._keep(batch, index, after)
        return MessageOutcome.APPLIED

    def _check_order(
        self, order_id: str, index: int, partition: int, batch: _Batch, now: datetime
    ) -> MessageOutcome:
        """An order's check: the end of its retention (its rows go; a settled order waits for
        nothing else), or the end of its marker's memory, or its waiting feedback and return."""
        forgotten = self._orders.forget(batch.orders, index, order_id, now)
        if forgotten is not None:  # a removed order
            return MessageOutcome.APPLIED if forgotten else MessageOutcome.UNCHANGED
        rows = (
            self._feedback.order(batch.feedback, order_id),
            self._returns.state(batch.returns, order_id),
        )
        if self._orders.retire(
            batch.orders, index, rows, partition, self._shipment_here(batch), now
        ):
            self._forget_order_rows(batch, order_id)
            return MessageOutcome.APPLIED
        expired = self._feedback.expire(batch.feedback, index, partition, order_id, now)
        returned = self._returns.check(
            batch.returns, index, partition, order_id, self._order_index(batch), now
        )
        return MessageOutcome.APPLIED if expired or returned else MessageOutcome.UNCHANGED

    def _shipment_here(
        self, batch: _Batch
    ) -> Callable[[str], ShipmentState | RetiredShipment | None]:
        """A shipment as this partition holds it (for an order's retention)."""

        def read(tracking_number: str) -> ShipmentState | RetiredShipment | None:
            state = self._state_before(tracking_number, batch)
            return state if state is not None else self._retired(tracking_number, batch)

        return read

    def _schedule_order_retention(
        self, batch: _Batch, now: datetime, focus: Callable[[int], None]
    ) -> None:
        """Every order the batch changed or checked: its rows' timers ask for the end of its
        retention."""
        self._orders.schedule(
            batch.orders, batch.feedback.orders, batch.feedback.order_last_message,
            batch.returns.states, batch.returns.last_message, self._shipment_here(batch),
            now, focus,
        )  # fmt: skip

    @staticmethod
    def _forget_order_rows(batch: _Batch, order_id: str) -> None:
        """A removed order's rows are not written by the flows (its marker replaces them)."""
        for key in (order_key(order_id), return_key(order_id)):
            for rows in (batch.feedback.orders, batch.feedback.order_last_message,
                         batch.returns.states, batch.returns.last_message):  # fmt: skip
                rows.pop(key, None)

    def _retirement(
        self, before: ShipmentState, after: FollowUp, now: datetime
    ) -> RetiredShipment | None:
        """The marker replacing a checked shipment whose retention has ended, when the check
        has nothing else to say or do about it."""
        if self._retention is None or after.alerts or after.notifications:
            return None
        if self._escalations.due(before, now):
            return None
        return retirement(after.state, now, self._retention)

    def _forget(
        self, tracking_number: str, index: int, batch: _Batch, now: datetime
    ) -> MessageOutcome:
        """A check of a removed shipment: its marker is deleted once its memory ends."""
        marker = self._retired(tracking_number, batch)
        if marker is None or not forget_due(marker, now):
            return MessageOutcome.UNCHANGED
        batch.retired[tracking_number] = None
        batch.last_message[tracking_number] = index
        return MessageOutcome.APPLIED

    def _schedule_retention(self, batch: _Batch, now: datetime) -> None:
        """Every changed shipment's timer asks for the end of its retention too."""
        if self._retention is None:
            return
        for key, state in batch.states.items():
            batch.states[key] = with_retention_timer(state, now, self._retention)

    def _reject(
        self, message: InputMessage, error: Exception, now: datetime, batch: _Batch
    ) -> MessageOutcome:
        batch.dead_letters.append(self._dead_letter(message, error, now))
        return MessageOutcome.DEAD_LETTERED

    async def _publish_and_store(
        self, messages: Sequence[InputMessage], batch: _Batch, focus: Callable[[int], None]
    ) -> None:
        """The batch's commit: every output sent in order and acknowledged, and only then each
        changed shipment's state written, once, on behalf of its last message. If sending
        fails, nothing is written: the batch is read again and sends the same ids again."""
        await self._send_outputs(batch)
        for tracking_number, marker in batch.retired.items():
            if tracking_number in batch.states:  # a new shipment reusing the number
                continue
            focus(batch.last_message[tracking_number])
            self._cache.forget(tracking_number)  # else a late duplicate would find the old state
            if marker is not None:  # the state's last changelog value: the big state compacts
                self._store[tracking_number] = retired_to_json(marker)
            elif tracking_number in self._store:  # a tombstone in the changelog
                del self._store[tracking_number]
        for tracking_number, state in batch.states.items():
            index = batch.last_message[tracking_number]
            focus(index)
            if state.timer.home_partition != messages[index].partition:
                timer = replace(state.timer, home_partition=messages[index].partition)
                state = replace(state, timer=timer)
            self._store[tracking_number] = state_to_json(state)
            self._cache.put(tracking_number, state)
        self._feedback.store(batch.feedback, focus)
        self._returns.store(batch.returns, focus)
        self._orders.store(batch.orders, focus)

    async def _send_outputs(self, batch: _Batch) -> None:
        """Dead letters, then alerts, then notifications, each in the order of their messages,
        then the model outcomes, then the feedback join's messages, then the support cases."""
        # Stable sort: a risk alert follows the rule alerts of the scan that raised it.
        alerts = [alert for _, alert in sorted(batch.alerts, key=lambda item: item[0])]
        notifications = [
            notification
            for _, notification in sorted(batch.notifications, key=lambda item: item[0])
        ]
        cases = [*batch.feedback.cases, *batch.cases]
        outputs = [
            *batch.dead_letters,
            *(
                OutputMessage(
                    self._topics.shipment_alerts, alert.tracking_number.encode(), encode(alert)
                )
                for alert in alerts
            ),
            *(
                OutputMessage(
                    self._topics.customer_notifications,
                    notification.tracking_number.encode(),
                    encode(notification),
                )
                for notification in notifications
            ),
            *batch.model_outcomes,
            *batch.feedback.outputs,
            *batch.returns.outputs,
            *self._escalations.messages(cases),
        ]
        if outputs:
            await self._publish_many(outputs)
        for alert in alerts:
            self._metrics.alerts.labels(alert.kind.value, alert.severity.value).inc()
        for notification in notifications:
            self._metrics.notifications.labels(notification.kind.value).inc()
        self._feedback.count(batch.feedback)
        self._returns.count(batch.returns)
        self._metrics.model_outcomes.inc(len(batch.model_outcomes))
        self._escalations.count(cases)

    def _observe_batch(
        self,
        messages: Sequence[InputMessage],
        outcomes: Sequence[MessageOutcome],
        batch: _Batch,
        now: datetime,
        elapsed: float,
    ) -> None:
        for scan, before, after in batch.scans_seen:
            self._observe_scan(scan, before, after, now)
        counted = Counter(zip((m.topic for m in messages), outcomes, strict=True))
        for (topic, outcome), count in counted.items():  # one labels() call per kind, not per event
            self._metrics.events.labels(topic, outcome.value).inc(count)
        if messages:  # an empty batch (every message skipped by the ledger) did no work
            self._metrics.processing_seconds.observe(elapsed)
            self._metrics.batch_size.observe(len(messages))

    async def _publish_one_by_one(self, outputs: Sequence[OutputMessage]) -> None:
        for output in outputs:
            await self._publish(output.topic, output.key, output.value)

    def _follow_up(self, state: ShipmentState, now: datetime, *, check_silences: bool) -> FollowUp:
        if state.is_return:  # not a customer's delivery: its order's return state speaks for it
            return FollowUp(state)
        followed = follow_up(
            state, now, self._follow_up_policy, self._templates, check_silences=check_silences
        )
        for milestone, reason in followed.skipped:
            self._metrics.notifications_skipped.labels(milestone.kind.value, reason.value).inc()
        return followed

    @staticmethod
    def _keep(batch: _Batch, index: int, after: FollowUp) -> None:
        key = after.state.tracking_number
        batch.states[key] = after.state
        batch.last_message[key] = index
        batch.alerts.extend((index, alert) for alert in after.alerts)
        batch.notifications.extend((index, notification) for notification in after.notifications)

    def _score(self, batch: _Batch, now: datetime) -> None:
        """One model call for every scorable scan of the batch, then the risk rule in order."""
        scorer = self._scorer()
        if scorer is None or not batch.to_score:
            return
        rows = [feature_row(state, as_of) for _, state, _, as_of in batch.to_score]
        estimates = scorer.score(rows, [as_of for _, _, _, as_of in batch.to_score])
        policy = RiskPolicy(scorer.threshold, min(self._risk_hysteresis, scorer.threshold / 2))
        rescored: set[str] = set()
        for (index, snapshot, event_id, as_of), row, estimate in zip(
            batch.to_score, rows, estimates, strict=True
        ):
            score = RiskScore(
                snapshot=snapshot,
                source_event_id=event_id,
                scan_time=as_of,
                risk=estimate.risk,
                prediction=PredictedDelivery(
                    expected=estimate.expected_delivery,
                    earliest=estimate.earliest_delivery,
                    latest=estimate.latest_delivery,
                ),
                model_version=scorer.version,
                reasons=tuple(plain_reasons(row, estimate, snapshot.order.promised_by)),
            )
            key = snapshot.tracking_number
            known = batch.outcome_known.get(key)
            if known is not None and known[0] < index:  # decided before this scan's risk
                self._decide_outcome(batch, key)
            batch.states[key], alert = apply_risk(batch.states[key], score, policy, now)
            if alert is not None:
                batch.alerts.append((index, alert))
                rescored.add(key)
        self._metrics.scored.inc(len(rows))
        for key in rescored:  # a risk alert may call for a "delayed" notification
            after = self._follow_up(batch.states[key], now, check_silences=False)
            self._keep(batch, batch.last_message[key], after)

    def _decide_outcomes(self, batch: _Batch) -> None:
        """The outcome records of the batch's shipments whose outcome became known and that the
        scoring has not decided yet (after scoring: the scans up to the deciding one have set
        their risk moments)."""
        for key in list(batch.outcome_known):
            self._decide_outcome(batch, key)

    def _decide_outcome(self, batch: _Batch, key: str) -> None:
        _, known = batch.outcome_known.pop(key)
        if key not in batch.states:  # removed later in the batch
            return
        batch.states[key], outcomes = decide_outcome(batch.states[key], known)
        batch.model_outcomes += [
            OutputMessage(
                self._topics.model_outcomes, outcome.model_version.encode(), encode(outcome)
            )
            for outcome in outcomes
        ]

    def _escalate(self, batch: _Batch, now: datetime) -> None:
        """The support cases of every shipment the batch changed, once its state is decided
        (rules, silences, scoring, feedback); each input's own were opened as it came."""
        for key, state in batch.states.items():
            batch.states[key], cases = self._escalations.shipment(state, now)
            batch.cases.extend(cases)

    def _decode_input(self, message: InputMessage, now: datetime) -> Scan | Order:
        if message.topic == self._topics.carrier_scans:
            return decode_scan(message.payload, key=message.key, now=now, limits=self._limits)
        if message.topic == self._topics.orders:
            return decode_order(message.payload, key=message.key, now=now, limits=self._limits)
        raise InvalidEvent(
            DeadLetterReason.UNKNOWN_TOPIC, f"no decoder for topic {message.topic!r}"
        )

    def _state_before(self, tracking_number: str, batch: _Batch) -> ShipmentState | None:
        """The shipment's state as this batch left it so far, else as stored."""
        if tracking_number in batch.states:
            return batch.states[tracking_number]
        if tracking_number in batch.retired:
            return None
        return self._load(tracking_number)

    def _load(self, tracking_number: str) -> ShipmentState | None:
        cached = self._cache.get(tracking_number)
        if cached is not None:
            return cached
        stored = self._store.get(tracking_number)
        if stored is None or is_retired(stored):  # a retired marker: no state
            return None
        return state_from_json(stored)

    def _retired(self, tracking_number: str, batch: _Batch) -> RetiredShipment | None:
        """The marker of a removed shipment (as this batch left it), or None."""
        if tracking_number in batch.retired:
            return batch.retired[tracking_number]
        stored = self._store.get(tracking_number)
        return retired_from_json(stored) if stored is not None and is_retired(stored) else None

    def _observe_scan(
        self, scan: Scan, before: ShipmentState | None, after: ShipmentState, now: datetime
    ) -> None:
        self._metrics.event_age_seconds.observe(max(0.0, (now - scan.occurred_at).total_seconds()))
        was_delivered = before is not None and before.tracking.status is ShipmentStatus.DELIVERED
        if after.is_return:
            return  # a return parcel arriving back is not a delivery to a customer
        if after.tracking.status is ShipmentStatus.DELIVERED and not was_delivered:
            self._metrics.deliveries_by_carrier.labels(bounded_carrier(after.carrier)).inc()
            on_time = (
                "unknown"
                if after.order.promised_by is None or after.tracking.delivered_at is None
                else str(after.tracking.delivered_at <= after.order.promised_by).lower()
            )
            self._metrics.deliveries.labels(on_time).inc()
