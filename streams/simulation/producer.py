"""Publishing simulated events to the input topics at a chosen rate."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Protocol

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.streams.simulation.config import SimulatedEvent


class Producer(Protocol):
    """What :func:`produce` needs of a producer (``aiokafka.AIOKafkaProducer`` has it)."""

    async def send_and_wait(self, topic: str, *, key: bytes, value: bytes) -> object: ...


async def produce(
    events: Iterable[SimulatedEvent],
    *,
    producer: Producer,
    topics: TopicNames,
    rate: float | None,
) -> int:
    """Send each event in the given order; ``rate`` events per second (None: as fast as possible).

    Returns how many events were sent.
    """
    if rate is not None and rate <= 0:
        raise ValueError("rate must be positive (or None for as fast as possible)")
    loop = asyncio.get_running_loop()
    started = loop.time()
    sent = 0
    for event in events:
        if rate is not None:
            wait = started + sent / rate - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
        await producer.send_and_wait(event.topic(topics), key=event.key, value=encode(event.event))
        sent += 1
    return sent
