"""The feedback join inside a batch: read the text, route it to its order's shipments, join it
with each shipment's state, flag it.

Three of the tracking agent's topics carry it, all co-partitioned with the shipments table:

* ``customer-feedback`` (keyed by order id): the text is analysed (the whole batch in one call),
  then ``feedback_routing`` sends it to the order's shipments or keeps it waiting;
* ``order-shipments`` (keyed by order id): written here when a shipment's order is applied, so a
  shipment's state always exists before feedback is forwarded to it;
* ``shipment-feedback`` (keyed by tracking number, sent to the shipment's own partition): the
  feedback meets the shipment's state and goes out on ``feedback-flagged``, with a tally for the
  pain-point windows.

The order side lives in the shipments table under ``~order~<id>`` keys (``schemas.order_state``),
so it is written after the batch's outputs are acknowledged and recorded with the partition's
offsets, exactly like a shipment's state.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from parcelwatch.models.feedback.analyzer import FeedbackAnalyzer, FeedbackText
from parcelwatch.schemas.codec import InvalidEvent, encode
from parcelwatch.schemas.escalations import SupportEscalation
from parcelwatch.schemas.feedback import (
    Feedback,
    FlaggedFeedback,
    OrderShipmentLink,
    ShipmentFeedback,
    TextAnalysis,
)
from parcelwatch.schemas.feedback_codec import (
    decode_feedback,
    decode_order_shipment_link,
    decode_shipment_feedback,
)
from parcelwatch.schemas.order_state import (
    OrderFeedbackState,
    WaitingFeedback,
    order_key,
    order_state_from_json,
    order_state_to_json,
)
from parcelwatch.schemas.retired import is_retired
from parcelwatch.schemas.state import MAX_FEEDBACK_IDS, ShipmentState
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import Limits, Order
from parcelwatch.streams.core.feedback_flags import feedback_id, flag_feedback, tally_of
from parcelwatch.streams.core.feedback_routing import (
    Routed,
    expire_waiting,
    link_shipment,
    receive_feedback,
)
from parcelwatch.streams.pipeline.escalations import EscalationDesk
from parcelwatch.streams.pipeline.messages import InputMessage, OutputMessage
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.order_retention import none_retired

DEFAULT_FEEDBACK_WAIT = timedelta(hours=168)  # PARCELWATCH_FEEDBACK_WAIT_HOURS


class Analyzer(Protocol):
    """A loaded feedback analyzer (parcelwatch.models.feedback.analyzer.FeedbackAnalyzer)."""

    version: str

    def analyze(self, items: Sequence[FeedbackText]) -> list[TextAnalysis]: ...


@functools.cache
def rules_analyzer() -> Analyzer:
    """The analyzer without a learned part: lexicons and rules only (loaded once)."""
    return FeedbackAnalyzer()


@dataclass
class FeedbackBatch:
    """The batch's feedback work: analyses made up front, order states and outputs in order."""

    read: dict[int, tuple[Feedback, TextAnalysis] | InvalidEvent] = field(default_factory=dict)
    analyzer_version: str = ""
    orders: dict[str, OrderFeedbackState] = field(default_factory=dict)
    order_last_message: dict[str, int] = field(default_factory=dict)
    outputs: list[OutputMessage] = field(default_factory=list)
    flagged: list[FlaggedFeedback] = field(default_factory=list)
    cases: list[SupportEscalation] = field(default_factory=list)  # disputed deliveries


class FeedbackJoin:
    def __init__(
        self,
        *,
        topics: TopicNames,
        limits: Limits,
        store: MutableMapping[str, dict[str, Any]],
        analyzer: Callable[[], Analyzer],
        wait: timedelta,
        metrics: WorkerMetrics,
        escalations: EscalationDesk | None = None,  # None: flagged feedback opens no case
    ) -> None:
        self._escalations = escalations
        self._topics = topics
        self._limits = limits
        self._store = store
        self._analyzer = analyzer
        self._wait = wait
        self._metrics = metrics

    def warm_up(self) -> None:
        """Read one text, so the analyzer's models (language identification, lexicons) load
        before the first batch: loading them inside a batch would stall the event loop for
        seconds, long enough to miss the consumer group's heartbeats."""
        self._analyzer().analyze([FeedbackText("Arrived on time, thank you!")])

    def start(self, messages: Sequence[InputMessage], now: datetime) -> FeedbackBatch:
        """Decode every ``customer-feedback`` message of the batch and analyse the valid ones in
        one call: the text's reading depends on nothing but the text."""
        batch = FeedbackBatch()
        decoded: list[tuple[int, Feedback]] = []
        for index, message in enumerate(messages):
            if message.topic != self._topics.customer_feedback:
                continue
            try:
                feedback = decode_feedback(
                    message.payload, key=message.key, now=now, limits=self._limits
                )
            except InvalidEvent as error:
                batch.read[index] = error
                continue
            decoded.append((index, feedback))
        if decoded:
            analyzer = self._analyzer()
            analyses = analyzer.analyze(
                [FeedbackText(item.text, item.rating, item.language) for _, item in decoded]
            )
            batch.analyzer_version = analyzer.version
            for (index, feedback), analysis in zip(decoded, analyses, strict=True):
                batch.read[index] = (feedback, analysis)
        return batch

    def receive(
        self, batch: FeedbackBatch, index: int, partition: int, now: datetime,
        retired: Callable[[str], None] = none_retired,
    ) -> bool:  # fmt: skip
        """Customer feedback, read in ``start``; False when it is a duplicate. ``retired`` raises
        for an order removed after its retention."""
        read = batch.read[index]
        if isinstance(read, InvalidEvent):
            raise read
        feedback, analysis = read
        retired(feedback.order_id)
        key = order_key(feedback.order_id)
        routed = receive_feedback(
            self._order_before(key, batch), feedback, analysis, batch.analyzer_version,
            now=now, wait=self._wait,
        )  # fmt: skip
        if routed is None:
            return False
        self._apply_routed(batch, index, partition, routed, now)
        return True

    def link(
        self, batch: FeedbackBatch, index: int, message: InputMessage, now: datetime,
        retired: Callable[[str], None] = none_retired,
    ) -> bool:  # fmt: skip
        """A shipment of an order; False when the order knew it already."""
        payload = message.payload
        link = decode_order_shipment_link(payload, key=message.key, now=now, limits=self._limits)
        retired(link.order_id)
        routed = link_shipment(self._order_before(order_key(link.order_id), batch), link)
        if routed is None:
            return False
        self._apply_routed(batch, index, message.partition, routed, now)
        return True

    def expire(
        self, batch: FeedbackBatch, index: int, partition: int, order_id: str, now: datetime
    ) -> bool:
        """An order's timer check: feedback whose wait is over goes out unmatched."""
        state = self._order_before(order_key(order_id), batch)
        if state is None:
            return False
        routed = expire_waiting(state, now)
        kept = (routed.state.waiting, routed.state.forwarded)
        if kept == (state.waiting, state.forwarded):  # the timer may name a retention end too
            return False
        self._apply_routed(batch, index, partition, routed, now)
        return True

    def join(
        self,
        batch: FeedbackBatch,
        message: InputMessage,
        before: ShipmentState | None,
        now: datetime,
    ) -> ShipmentState | None:
        """Forwarded feedback meets its shipment. Returns the shipment's new state (it records
        the feedback id, so a redelivery flags nothing twice, and any case the flag opened), or
        None: a duplicate, or no state to record it in (the feedback goes out unmatched then)."""
        payload = message.payload
        forwarded = decode_shipment_feedback(payload, key=message.key, now=now, limits=self._limits)
        target = forwarded.tracking_number
        identity = feedback_id(forwarded.feedback, target)
        if before is not None and identity in before.outputs.feedback_ids:
            return None
        flagged = self._flag(
            batch, forwarded.feedback, forwarded.analysis, forwarded.analyzer_version,
            state=before, target=target, now=now,
        )  # fmt: skip
        if before is None:
            return None
        ids = (*before.outputs.feedback_ids, identity)[-MAX_FEEDBACK_IDS:]
        after = replace(before, outputs=replace(before.outputs, feedback_ids=ids))
        if self._escalations is not None:
            after, case = self._escalations.feedback(flagged, after, now)
            batch.cases += [case] if case is not None else []
        return after

    def linked(self, batch: FeedbackBatch, order: Order, partition: int, now: datetime) -> None:
        """An applied order tells its order's index that the shipment exists (on its partition)."""
        link = OrderShipmentLink(
            order.order_id, order.tracking_number, partition, linked_at=now,
            customer=order.customer, carrier=order.carrier,
        )  # fmt: skip
        batch.outputs.append(
            OutputMessage(self._topics.order_shipments, order.order_id.encode(), encode(link))
        )

    def store(self, batch: FeedbackBatch, focus: Callable[[int], None]) -> None:
        """Write each changed order state once, on behalf of its last message (after the
        batch's outputs were acknowledged)."""
        for key, state in batch.orders.items():
            focus(batch.order_last_message[key])
            self._store[key] = order_state_to_json(state)

    def count(self, batch: FeedbackBatch) -> None:
        for flagged in batch.flagged:
            self._metrics.feedback_flagged.labels(flagged.flag.reason.value).inc()
            for topic in flagged.topics:
                self._metrics.feedback_topics.labels(topic.topic.value).inc()

    def _apply_routed(
        self, batch: FeedbackBatch, index: int, partition: int, routed: Routed, now: datetime
    ) -> None:
        for forward in routed.forwards:
            item = forward.item
            message = ShipmentFeedback(
                tracking_number=forward.shipment.tracking_number,
                feedback=item.feedback,
                analysis=item.analysis,
                analyzer_version=item.analyzer_version,
                forwarded_at=now,
            )
            batch.outputs.append(
                OutputMessage(
                    self._topics.shipment_feedback,
                    forward.shipment.tracking_number.encode(),
                    encode(message),
                    forward.shipment.partition,
                )
            )
        for item in routed.unmatched:
            self._flag_unmatched(batch, item, now)
        state = replace(routed.state, changed_at=now)  # the order's retention runs from here
        if state.timer.home_partition != partition:
            state = replace(state, timer=replace(state.timer, home_partition=partition))
        key = order_key(state.order_id)
        batch.orders[key] = state
        batch.order_last_message[key] = index

    def _flag_unmatched(self, batch: FeedbackBatch, item: WaitingFeedback, now: datetime) -> None:
        self._flag(
            batch, item.feedback, item.analysis, item.analyzer_version,
            state=None, target=item.feedback.order_id, now=now,
        )  # fmt: skip
        self._metrics.feedback_unmatched.inc()

    def _flag(
        self,
        batch: FeedbackBatch,
        feedback: Feedback,
        analysis: TextAnalysis,
        analyzer_version: str,
        *,
        state: ShipmentState | None,
        target: str,
        now: datetime,
    ) -> FlaggedFeedback:
        flagged = flag_feedback(
            feedback, analysis, state, target=target, now=now, analyzer_version=analyzer_version
        )
        tally = tally_of(flagged)
        batch.outputs += [
            OutputMessage(self._topics.feedback_flagged, target.encode(), encode(flagged)),
            OutputMessage(self._topics.feedback_tallies, tally.carrier.encode(), encode(tally)),
        ]
        batch.flagged.append(flagged)
        return flagged

    def order(self, batch: FeedbackBatch, order_id: str) -> OrderFeedbackState | None:
        """The order's index as this batch left it so far, else as stored."""
        return self._order_before(order_key(order_id), batch)

    def _order_before(self, key: str, batch: FeedbackBatch) -> OrderFeedbackState | None:
        if key in batch.orders:
            return batch.orders[key]
        stored = self._store.get(key)
        if stored is None or is_retired(stored):  # a removed order's marker: no index
            return None
        return order_state_from_json(stored)
