"""Producing simulated events to the input topics."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from parcelwatch.schemas.codec import decode_order, decode_scan, to_jsonable
from parcelwatch.schemas.feedback import Feedback
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import Limits
from parcelwatch.streams.simulation import (
    SimulationConfig,
    generate_journeys,
    generate_run,
    produce,
)
from tests.streams.simulation.journeys import NOW


async def test_produce_sends_each_event_to_its_topic_at_the_requested_rate() -> None:
    events = generate_journeys(SimulationConfig(shipments=3, seed=2), now=NOW)[:12]
    sent: list[tuple[str, bytes, bytes]] = []

    class Recorder:
        async def send_and_wait(self, topic: str, *, key: bytes, value: bytes) -> None:
            sent.append((topic, key, value))

    topics = TopicNames.with_prefix("sim.")
    loop = asyncio.get_running_loop()
    started = loop.time()
    count = await produce(events, producer=Recorder(), topics=topics, rate=200.0)
    assert loop.time() - started >= (len(events) - 1) / 200.0 * 0.9
    assert count == len(events) == len(sent)
    for e, (topic, key, value) in zip(events, sent, strict=True):
        assert topic == (topics.orders if e.topic_kind == "order" else topics.carrier_scans)
        assert key == e.key
        decode = decode_order if e.topic_kind == "order" else decode_scan
        assert decode(value, key=key, now=NOW, limits=Limits()) == e.event
    with pytest.raises(ValueError):
        await produce(events, producer=Recorder(), topics=topics, rate=0)


async def test_feedback_goes_to_customer_feedback_keyed_by_order_id() -> None:
    run = generate_run(SimulationConfig(shipments=40, seed=2), now=NOW)
    pieces = [item for item in run.events if item.topic_kind == "feedback"]
    assert pieces
    sent: list[tuple[str, bytes, bytes]] = []

    class Recorder:
        async def send_and_wait(self, topic: str, *, key: bytes, value: bytes) -> None:
            sent.append((topic, key, value))

    topics = TopicNames.with_prefix("sim.")
    await produce(pieces, producer=Recorder(), topics=topics, rate=None)

    for item, (topic, key, value) in zip(pieces, sent, strict=True):
        assert isinstance(item.event, Feedback)
        assert topic == "sim.customer-feedback"
        assert key == item.event.order_id.encode()
        assert orjson.loads(value) == to_jsonable(item.event)
        assert orjson.loads(value)["received_at"] == item.event.received_at.isoformat()
