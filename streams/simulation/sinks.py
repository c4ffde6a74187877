"""Where simulated journeys go: to the input topics at a chosen rate or on the live clock, or to
JSONL files."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer

from parcelwatch.schemas.codec import encode, to_jsonable
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.streams.runtime.kafka_admin import aiokafka_options, ensure_topics
from parcelwatch.streams.runtime.settings import Settings
from parcelwatch.streams.simulation import (
    SimulatedEvent,
    SimulationConfig,
    generate_journeys,
    produce,
)


def simulated_events(shipments: int, seed: int | None, days: float = 10.0) -> list[SimulatedEvent]:
    """Journeys of orders placed over the last ``days`` days, cut at the present."""
    seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    config = SimulationConfig(shipments=shipments, seed=seed, window_days=days)
    return generate_journeys(config, now=utc_now())


async def simulate_to_kafka(
    settings: Settings, *, shipments: int, rate: float | None, seed: int | None
) -> int:
    events = simulated_events(shipments, seed)
    async with _input_producer(settings) as producer:
        return await produce(events, producer=producer, topics=settings.topics, rate=rate)


async def play_to_kafka(
    settings: Settings,
    events: Sequence[SimulatedEvent],
    *,
    clock: Callable[[], datetime] = utc_now,
) -> int:
    """Send each event when the live clock reaches its ``emit_at`` (events already due go at
    once), in ``emit_at`` order; returns how many were sent. For journeys whose timeline was put
    onto the live clock (``parcelwatch.streams.simulation.playback``)."""
    topics = settings.topics
    async with _input_producer(settings) as producer:
        for item in sorted(events, key=lambda event: event.emit_at):
            wait = (item.emit_at - clock()).total_seconds()
            if wait > 0:
                await asyncio.sleep(wait)
            await producer.send_and_wait(item.topic(topics), key=item.key, value=encode(item.event))
        return len(events)


@asynccontextmanager
async def _input_producer(settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    """A started producer for the input topics, which exist once it is handed out."""
    await ensure_topics(settings)
    producer = AIOKafkaProducer(**aiokafka_options(settings), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


def simulate_to_jsonl(folder: Path, *, shipments: int, seed: int | None, days: float) -> int:
    """``orders.jsonl`` and ``scans.jsonl`` in publish order (duplicates included, as on Kafka)."""
    folder.mkdir(parents=True, exist_ok=True)
    events = simulated_events(shipments, seed, days)
    with (
        (folder / "orders.jsonl").open("wb") as orders,
        (folder / "scans.jsonl").open("wb") as scans,
    ):
        for item in events:
            target = orders if item.topic_kind == "order" else scans
            target.write(orjson.dumps(to_jsonable(item.event)) + b"\n")
    return len(events)
