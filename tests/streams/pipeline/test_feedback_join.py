"""The feedback join through the pipeline, with a dict as the table and a list as the topics.

The fake broker hands the internal topics' messages (order-shipments, shipment-feedback) back to
the processor, as Kafka would, so a piece of feedback travels the whole way: customer-feedback ->
order side -> shipment side -> feedback-flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import orjson
import pytest
from prometheus_client import CollectorRegistry

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.feedback import SentimentLabel
from parcelwatch.schemas.order_state import order_key
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import Limits, ShipmentCheck
from parcelwatch.streams.pipeline.messages import InputMessage, OutputMessage
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.processing import MessageOutcome, ShipmentProcessor
from tests.factories import TRACKING, at, order, scan
from tests.feedback_factories import ORDER_ID, analysis, feedback

TOPICS = TopicNames.with_prefix("t.")
WAIT = timedelta(hours=168)


class FakeAnalyzer:
    version = "fake-1"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def analyze(self, items: Sequence) -> list:
        self.calls.append(len(items))
        return [
            analysis(product="positive")
            if item.text and "great product" in item.text
            else analysis()
            for item in items
        ]


class Loop:
    """A processor, its table, and a broker that keeps every output."""

    internal = frozenset({TOPICS.order_shipments, TOPICS.shipment_feedback})

    def __init__(self, hours: float = 500) -> None:
        self.store: dict = {}
        self.sent: list[OutputMessage] = []
        self.hours = hours
        self.analyzer = FakeAnalyzer()
        self.registry = CollectorRegistry()
        self.offsets: dict[str, int] = {}
        self.metrics = WorkerMetrics(self.registry)
        self.processor = ShipmentProcessor(
            topics=TOPICS, limits=Limits(), store=self.store, publish=self._unused,
            publish_many=self._publish_many, clock=lambda: at(self.hours),
            metrics=self.metrics, analyzer=lambda: self.analyzer,
            feedback_wait=WAIT,
        )  # fmt: skip
        self.delivered = 0  # outputs already fed back

    async def _unused(self, topic: str, key: bytes, value: bytes) -> None:
        raise AssertionError("the processor publishes batches")

    async def _publish_many(self, messages: Sequence[OutputMessage]) -> None:
        self.sent.extend(messages)

    def message(self, topic: str, key: bytes, value: bytes, partition: int = 0) -> InputMessage:
        offset = self.offsets.get(topic, 0)
        self.offsets[topic] = offset + 1
        return InputMessage(topic, partition, offset, key, value)

    def route(self, event) -> tuple[str, str]:
        """The topic and key an input event is produced with."""
        if hasattr(event, "channel"):
            return TOPICS.customer_feedback, event.order_id
        if hasattr(event, "status"):
            return TOPICS.carrier_scans, event.tracking_number
        return TOPICS.orders, event.tracking_number

    async def process(self, messages: list[InputMessage]) -> list[MessageOutcome]:
        return await self.processor.process_batch(messages)

    async def send(self, *events, partition: int = 0) -> list[MessageOutcome]:
        messages = []
        for event in events:
            topic, key = self.route(event)
            messages.append(self.message(topic, key.encode(), encode(event), partition))
        return await self.process(messages)

    async def settle(self) -> None:
        """Feed the internal topics' messages back until none are left."""
        while self.delivered < len(self.sent):
            pending = self.sent[self.delivered :]
            self.delivered = len(self.sent)
            batch = [
                self.message(item.topic, item.key, item.value, item.partition or 0)
                for item in pending
                if item.topic in self.internal
            ]
            if batch:
                await self.process(batch)

    def on(self, topic: str) -> list[dict]:
        return [orjson.loads(item.value) for item in self.sent if item.topic == topic]


@pytest.fixture
def loop():
    return Loop()


async def test_feedback_about_a_damaged_late_parcel_is_logistics_pain_with_its_context(loop):
    await loop.send(order(promised_in_hours=48))
    await loop.send(
        scan("in_transit", 10), scan("exception", 30, reason="damaged"), scan("delivered", 120)
    )
    await loop.settle()
    assert await loop.send(feedback()) == [MessageOutcome.APPLIED]
    await loop.settle()
    (flagged,) = loop.on(TOPICS.feedback_flagged)
    assert flagged["flag"]["reason"] == "logistics_pain"
    assert flagged["tracking_number"] == TRACKING
    assert flagged["analyzer_version"] == "fake-1"
    shipment = flagged["shipment"]
    assert shipment["late"] is True
    assert shipment["late_by_hours"] == pytest.approx(120 - 48)
    assert shipment["exceptions"] == ["damaged"]
    assert "carrier_exception" in shipment["alert_kinds"]
    (tally,) = loop.on(TOPICS.feedback_tallies)
    assert tally["carrier"] == "ups" and tally["reason"] == "logistics_pain"
    assert loop.registry.get_sample_value(
        "parcelwatch_feedback_flagged_total", {"reason": "logistics_pain"}
    )


async def test_feedback_before_its_order_waits_and_is_joined_once_the_order_arrives(loop):
    await loop.send(feedback())
    await loop.settle()
    assert loop.on(TOPICS.feedback_flagged) == []
    assert loop.store[order_key(ORDER_ID)]["waiting"]
    await loop.send(order())
    await loop.settle()
    (flagged,) = loop.on(TOPICS.feedback_flagged)
    assert flagged["shipment"]["tracking_number"] == TRACKING
    assert loop.store[order_key(ORDER_ID)]["waiting"] == []


async def test_an_order_with_two_shipments_flags_the_feedback_for_each(loop):
    await loop.send(order(), order(event_id="order-2", tracking_number="1ZSECOND"))
    await loop.settle()
    await loop.send(feedback())
    await loop.settle()
    flagged = loop.on(TOPICS.feedback_flagged)
    assert sorted(item["tracking_number"] for item in flagged) == sorted([TRACKING, "1ZSECOND"])
    assert len({item["feedback_id"] for item in flagged}) == 2


async def test_waiting_feedback_goes_out_unmatched_after_the_wait(loop):
    await loop.send(feedback(hours=100))
    await loop.settle()
    stored = loop.store[order_key(ORDER_ID)]
    check = ShipmentCheck(tracking_number=None, requested_at=at(500), order_id=ORDER_ID)
    early = loop.message(TOPICS.shipment_checks, ORDER_ID.encode(), encode(check))
    assert await loop.processor.process_batch([early]) == [MessageOutcome.UNCHANGED]
    loop.hours = 500 + WAIT.total_seconds() / 3600
    late = loop.message(TOPICS.shipment_checks, ORDER_ID.encode(), encode(check))
    assert await loop.processor.process_batch([late]) == [MessageOutcome.APPLIED]
    (flagged,) = loop.on(TOPICS.feedback_flagged)
    assert flagged["flag"]["reason"] == "unmatched" and flagged["shipment"] is None
    assert loop.sent[-2].key == ORDER_ID.encode()  # keyed by order id when unmatched
    assert stored["timer"]["next_check_at"] is not None
    assert loop.store[order_key(ORDER_ID)]["timer"]["next_check_at"] is None
    assert loop.registry.get_sample_value("parcelwatch_feedback_unmatched_total") == 1


async def test_redelivered_feedback_flags_nothing_twice(loop):
    await loop.send(order())
    await loop.settle()
    await loop.send(feedback())
    forwarded = [item for item in loop.sent if item.topic == TOPICS.shipment_feedback]
    await loop.settle()
    assert await loop.send(feedback()) == [MessageOutcome.DUPLICATE]
    again = loop.message(TOPICS.shipment_feedback, forwarded[0].key, forwarded[0].value)
    assert await loop.processor.process_batch([again]) == [MessageOutcome.DUPLICATE]
    assert len(loop.on(TOPICS.feedback_flagged)) == 1


async def test_a_batch_of_feedback_is_analysed_in_one_call(loop):
    await loop.send(*(feedback(f"fb-{number}") for number in range(5)), order())
    assert loop.analyzer.calls == [5]


async def test_invalid_feedback_is_dead_lettered_with_its_reason(loop):
    bad = loop.message(TOPICS.customer_feedback, b"A-1", b'{"schema_version": 1}')
    assert await loop.processor.process_batch([bad]) == [MessageOutcome.DEAD_LETTERED]
    (letter,) = loop.on(TOPICS.dead_letter)
    assert letter["reason"] == "missing_field"
    assert loop.analyzer.calls == []


async def test_delivery_and_product_sentiment_travel_to_the_output(loop):
    await loop.send(order())
    await loop.settle()
    await loop.send(feedback(text="great product, but it came ten days late"))
    await loop.settle()
    (flagged,) = loop.on(TOPICS.feedback_flagged)
    assert flagged["product_sentiment"]["label"] == SentimentLabel.POSITIVE.value
    assert flagged["delivery_sentiment"]["label"] == SentimentLabel.NEGATIVE.value


async def test_a_shipment_linked_after_the_feedback_is_joined_too(loop):
    await loop.send(order())
    await loop.settle()
    await loop.send(feedback())
    await loop.settle()
    await loop.send(order(event_id="order-2", tracking_number="1ZSECOND"))
    await loop.settle()
    flagged = loop.on(TOPICS.feedback_flagged)
    assert sorted(item["tracking_number"] for item in flagged) == sorted([TRACKING, "1ZSECOND"])
