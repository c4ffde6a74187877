"""``send_lingering_now`` against the real broker and the pinned aiokafka.

It reaches into aiokafka's accumulator (there is no public "send now"), so this is where an
aiokafka upgrade that moves those parts shows: a producer lingering for a minute must deliver
at once when nudged, and keep lingering when not.
"""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaProducer

from parcelwatch.streams.devtools.bench.processes import create_topic
from parcelwatch.streams.runtime.producer_nudge import send_lingering_now
from tests.integration.conftest import BOOTSTRAP

LINGER_MS = 60_000  # far longer than any wait below: a delivery in time was nudged out


async def _lingering_producer() -> tuple[AIOKafkaProducer, str]:
    topic = f"nudge-{uuid.uuid4().hex[:8]}"
    await create_topic(BOOTSTRAP, topic, 2)
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", linger_ms=LINGER_MS)
    await producer.start()
    return producer, topic


async def test_a_nudged_producer_delivers_what_it_held_back_at_once():
    producer, topic = await _lingering_producer()
    try:
        deliveries = [
            await producer.send(topic, f"{number}".encode(), key=f"{number}".encode())
            for number in range(10)
        ]
        assert send_lingering_now(producer) is True
        sent = await asyncio.wait_for(asyncio.gather(*deliveries), timeout=20)
        assert len({(metadata.partition, metadata.offset) for metadata in sent}) == 10
        assert {metadata.topic for metadata in sent} == {topic}
        # The producer goes on working: later messages linger again, and a nudge sends them too.
        later = await producer.send(topic, b"later", key=b"later")
        await asyncio.sleep(1)
        assert not later.done()
        send_lingering_now(producer)
        assert (await asyncio.wait_for(later, timeout=20)).topic == topic
    finally:
        await producer.stop()


def test_a_producer_without_the_expected_parts_is_left_alone():
    assert send_lingering_now(object()) is False
