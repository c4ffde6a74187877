"""The decoded-state cache: bounded, least recently used out, and invisible in what the
processor publishes and stores."""

from __future__ import annotations

import orjson
from prometheus_client import CollectorRegistry

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.state import ShipmentState, state_to_json
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import Limits
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.processing import InputMessage, ShipmentProcessor
from parcelwatch.streams.pipeline.state_cache import StateCache
from parcelwatch.streams.simulation import SimulationConfig, generate_journeys
from tests.model_fixtures import DATA_END, simulated_inputs


def test_the_least_recently_used_state_leaves_first():
    cache = StateCache(2)
    cache.put("A", ShipmentState("A"))
    cache.put("B", ShipmentState("B"))
    assert cache.get("A") == ShipmentState("A")  # A is now the most recent
    cache.put("C", ShipmentState("C"))
    assert cache.get("B") is None
    assert [cache.get("A"), cache.get("C")] == [ShipmentState("A"), ShipmentState("C")]
    assert (cache.hits, cache.misses, len(cache)) == (3, 1, 2)
    cache.forget("A")
    cache.clear()
    assert len(cache) == 0 and cache.get("C") is None


def test_a_cache_of_size_zero_keeps_nothing():
    cache = StateCache(0)
    cache.put("A", ShipmentState("A"))
    assert cache.get("A") is None and len(cache) == 0


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []

    async def publish(self, topic: str, key: bytes, value: bytes) -> None:
        self.sent.append((topic, key, value))


async def _run(cache: StateCache | None) -> tuple[list, dict]:
    topics = TopicNames()
    events = generate_journeys(SimulationConfig(shipments=120, seed=3), now=DATA_END)
    recorder, store = _Recorder(), {}
    processor = ShipmentProcessor(
        topics=topics, limits=Limits(), store=store, publish=recorder.publish,
        clock=lambda: DATA_END, metrics=WorkerMetrics(CollectorRegistry()), state_cache=cache,
    )  # fmt: skip
    messages = simulated_inputs(events, topics)
    for start in range(0, len(messages), 32):
        await processor.process_batch(messages[start : start + 32])
    for start in range(0, len(messages), 32):  # every message again: all duplicates
        await processor.process_batch(messages[start : start + 32])
    return recorder.sent, store


async def test_the_processor_publishes_and_stores_the_same_with_and_without_a_cache():
    cache = StateCache(50)  # smaller than the 120 shipments: hits, misses and evictions
    with_cache = await _run(cache)
    assert cache.hits > 0 and cache.misses > 0
    assert with_cache == await _run(None)


async def test_after_a_clear_the_table_is_read_again():
    """What the owner does at a rebalance: the table, which another worker may have written
    meanwhile, is the truth again."""
    topics, recorder, store, cache = TopicNames(), _Recorder(), {}, StateCache(10)
    processor = ShipmentProcessor(
        topics=topics, limits=Limits(), store=store, publish=recorder.publish,
        clock=lambda: DATA_END, metrics=WorkerMetrics(CollectorRegistry()), state_cache=cache,
    )  # fmt: skip
    first = generate_journeys(SimulationConfig(shipments=1, seed=3), now=DATA_END)[0]
    message = InputMessage(topics.orders, 0, 0, first.key, encode(first.event))
    await processor.process_batch([message])
    key = first.key.decode()
    written_elsewhere = state_to_json(ShipmentState(key, carrier="elsewhere"))
    store[key] = orjson.loads(orjson.dumps(written_elsewhere))
    assert processor._load(key) == cache.get(key)  # still the cached state
    cache.clear()
    assert processor._load(key) == ShipmentState(key, carrier="elsewhere")
