"""Where simulated journeys and feedback go: to the input topics at a chosen rate or on the live
clock, or to JSONL files."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
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
    SimulatedFeedback,
    SimulatedRun,
    SimulationConfig,
    generate_run,
    produce,
)
from parcelwatch.streams.simulation.raw_payloads import as_raw_payloads


def simulated_run(
    shipments: int,
    seed: int | None,
    days: float = 10.0,
    feedback_rate: float | None = None,
) -> SimulatedRun:
    """Journeys of orders placed over the last ``days`` days, cut at the present, and the
    feedback their customers wrote by then (``feedback_rate`` None: the configuration's default)."""
    seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    config = SimulationConfig(shipments=shipments, seed=seed, window_days=days)
    if feedback_rate is not None:
        config = replace(config, feedback_rate=feedback_rate)
    return generate_run(config, now=utc_now())


async def simulate_to_kafka(
    settings: Settings,
    *,
    shipments: int,
    rate: float | None,
    seed: int | None,
    feedback_rate: float | None = None,
    raw_source: str | None = None,
) -> int:
    """Produce a simulated run; with ``raw_source`` each scan goes to ``carrier-raw`` as that
    source's payload of the parcel's history so far (``raw_payloads``)."""
    events = simulated_run(shipments, seed, feedback_rate=feedback_rate).events
    if raw_source is not None:
        events = as_raw_payloads(events, raw_source)
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


def simulate_to_jsonl(
    folder: Path,
    *,
    shipments: int,
    seed: int | None,
    days: float,
    feedback_rate: float | None = None,
    raw_source: str | None = None,
) -> int:
    """``orders.jsonl``, ``scans.jsonl`` and ``feedback.jsonl`` in publish order (duplicates
    included, as on Kafka), and the feedback's ground truth in ``feedback-truth.jsonl``: for each
    piece, by ``event_id``, why the customer wrote, in which language, and the expected flag.
    With ``raw_source``, ``carrier-raw.jsonl`` (the scans as that source's payloads) instead of
    ``scans.jsonl``."""
    folder.mkdir(parents=True, exist_ok=True)
    run = simulated_run(shipments, seed, days, feedback_rate)
    events = run.events
    targets = {"order": "orders.jsonl", "scan": "scans.jsonl", "feedback": "feedback.jsonl"}
    if raw_source is not None:
        events = as_raw_payloads(events, raw_source)
        targets = {**targets, "raw": "carrier-raw.jsonl"}
        del targets["scan"]
    with contextlib.ExitStack() as files:
        opened = {
            kind: files.enter_context((folder / name).open("wb")) for kind, name in targets.items()
        }
        for item in events:
            opened[item.topic_kind].write(orjson.dumps(to_jsonable(item.event)) + b"\n")
        truth = files.enter_context((folder / "feedback-truth.jsonl").open("wb"))
        for piece in run.feedback:
            truth.write(orjson.dumps(feedback_truth(piece)) + b"\n")
    return len(events)


def feedback_truth(piece: SimulatedFeedback) -> dict[str, str]:
    """One line of ``feedback-truth.jsonl``."""
    return {
        "event_id": piece.feedback.event_id,
        "order_id": piece.feedback.order_id,
        "situation": piece.situation.value,
        "language": piece.language,
        "expected_flag": piece.expected_flag.value,
    }
