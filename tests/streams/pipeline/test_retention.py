"""Retention in the pipeline: a settled shipment's state gives way to a retired marker when its
timer's check comes, late inputs of it are counted and not applied, and the marker goes too."""

from __future__ import annotations

from datetime import datetime, timedelta

import orjson
from prometheus_client import CollectorRegistry

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.retired import is_retired, retired_from_json
from parcelwatch.schemas.state import state_from_json, stored_timer
from parcelwatch.schemas.timestamps import parse_rfc3339
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import Limits, ShipmentCheck
from parcelwatch.streams.core.retention import RetentionPolicy
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.processing import InputMessage, MessageOutcome, ShipmentProcessor
from parcelwatch.streams.pipeline.state_cache import StateCache
from tests.factories import TRACKING, at, order, scan

TOPICS = TopicNames.with_prefix("t.")
POLICY = RetentionPolicy(retention=timedelta(days=30), retired_memory=timedelta(days=180))
DELIVERED_AT = at(30)


class Loop:
    """The processor on a dict table, a list as the topics and a clock the test moves."""

    def __init__(self) -> None:
        self.store: dict = {}
        self.sent: list[tuple[str, dict]] = []
        self.registry = CollectorRegistry()
        self.now = at(0)
        self.offset = 0
        self.processor = ShipmentProcessor(
            topics=TOPICS, limits=Limits(), store=self.store, publish=self._publish,
            clock=lambda: self.now, metrics=WorkerMetrics(self.registry), retention=POLICY,
            state_cache=StateCache(100),  # as the worker runs: a removed state must leave it too
        )  # fmt: skip

    async def _publish(self, topic: str, key: bytes, value: bytes) -> None:
        self.sent.append((topic, orjson.loads(value)))

    async def send(self, event, topic: str | None = None) -> MessageOutcome:
        topic = topic or (TOPICS.carrier_scans if hasattr(event, "status") else TOPICS.orders)
        self.offset += 1
        key = event.tracking_number.encode()
        message = InputMessage(topic, 0, self.offset, key, encode(event))
        return await self.processor.process(message)

    async def check(self) -> MessageOutcome:
        return await self.send(ShipmentCheck(tracking_number=TRACKING, requested_at=self.now),
                               TOPICS.shipment_checks)  # fmt: skip

    def due(self) -> datetime | None:
        stored = self.store.get(TRACKING)
        text = None if stored is None else stored_timer(stored)[0]
        return None if text is None else parse_rfc3339(text)

    async def run_timer(self, until: datetime) -> None:
        """Every check the timer would ask for up to ``until``, when it falls due."""
        while (due := self.due()) is not None and due <= until:
            self.now = max(self.now, due)
            await self.check()
        self.now = until

    def on(self, topic: str) -> list[dict]:
        return [value for name, value in self.sent if name == topic]

    def outputs(self) -> int:
        return len(self.on(TOPICS.shipment_alerts)) + len(self.on(TOPICS.customer_notifications))

    def events(self, topic: str, outcome: str) -> float:
        labels = {"topic": topic, "outcome": outcome}
        return self.registry.get_sample_value("parcelwatch_events_total", labels) or 0.0


async def delivered(loop: Loop) -> None:
    loop.now = at(1)
    await loop.send(order(72))
    await loop.send(scan("in_transit", 2))
    loop.now = DELIVERED_AT + timedelta(hours=1)
    await loop.send(scan("delivered", 30))


async def test_a_delivered_shipment_is_replaced_by_a_marker_when_its_retention_ends():
    loop = Loop()
    await delivered(loop)
    end = DELIVERED_AT + POLICY.retention
    assert loop.due() is not None and loop.due() <= end  # its timer asks for the end
    await loop.run_timer(end - timedelta(seconds=1))
    assert not is_retired(loop.store[TRACKING])
    said = loop.outputs()

    await loop.run_timer(end)
    marker = retired_from_json(loop.store[TRACKING])
    assert (marker.settled_at, marker.retired_at) == (DELIVERED_AT, end)
    assert marker.forget_at == end + POLICY.retired_memory and marker.home_partition == 0
    assert len(orjson.dumps(loop.store[TRACKING])) < 200
    assert loop.outputs() == said  # removal says nothing


async def test_a_late_duplicate_of_a_removed_shipment_is_counted_and_raises_nothing():
    loop = Loop()
    await delivered(loop)
    await loop.run_timer(DELIVERED_AT + POLICY.retention)
    marker, said = loop.store[TRACKING], loop.outputs()

    assert await loop.send(scan("delivered", 30)) is MessageOutcome.RETIRED
    assert await loop.send(scan("exception", 29, reason="damaged")) is MessageOutcome.RETIRED
    assert await loop.send(order(72)) is MessageOutcome.RETIRED
    assert loop.store[TRACKING] == marker  # not re-created
    assert loop.outputs() == said and loop.on(TOPICS.dead_letter) == []
    assert loop.events(TOPICS.carrier_scans, "retired") == 2
    assert loop.events(TOPICS.orders, "retired") == 1


async def test_the_marker_goes_after_its_memory_and_the_number_then_starts_afresh():
    loop = Loop()
    await delivered(loop)
    end = DELIVERED_AT + POLICY.retention
    await loop.run_timer(end + POLICY.retired_memory - timedelta(seconds=1))
    assert is_retired(loop.store[TRACKING])
    await loop.run_timer(end + POLICY.retired_memory)
    assert TRACKING not in loop.store  # deleted: a tombstone in the changelog

    assert await loop.send(scan("in_transit", 2)) is MessageOutcome.APPLIED
    assert state_from_json(loop.store[TRACKING]).tracking.scan_count == 1


async def test_a_new_shipment_reusing_a_retired_number_is_applied_as_new():
    loop = Loop()
    await delivered(loop)
    end = DELIVERED_AT + POLICY.retention
    await loop.run_timer(end + timedelta(days=10))
    later = 30 + 24 * 35  # after the old one was retired
    assert await loop.send(scan("picked_up", later, "reused-1")) is MessageOutcome.APPLIED
    state = state_from_json(loop.store[TRACKING])
    assert (state.tracking.scan_count, state.order.order_id) == (1, None)
    assert await loop.send(scan("delivered", 30)) is MessageOutcome.APPLIED  # no marker now


async def test_an_open_shipment_stays_and_an_expired_one_goes_after_its_retention():
    loop = Loop()
    loop.now = at(1)
    await loop.send(order(24 * 40))
    await loop.send(scan("in_transit", 2))
    expired_at = at(2) + POLICY.expired_after
    await loop.run_timer(expired_at - timedelta(seconds=1))
    assert "expired" not in [alert["kind"] for alert in loop.on(TOPICS.shipment_alerts)]
    assert not is_retired(loop.store[TRACKING])  # stalled, late: still open
    await loop.run_timer(expired_at + POLICY.retention - timedelta(seconds=1))
    assert "expired" in [alert["kind"] for alert in loop.on(TOPICS.shipment_alerts)]
    assert not is_retired(loop.store[TRACKING])  # expired, alerted, retained a while
    await loop.run_timer(expired_at + POLICY.retention)
    assert retired_from_json(loop.store[TRACKING]).settled_at == expired_at
