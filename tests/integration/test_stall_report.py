"""The stall report reads a real consumer: faust-streaming's, around the aiokafka consumer its
thread builds, on the real broker. An upgrade that moves what it reads shows here as
``unknown`` in place of a value."""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry

from parcelwatch.streams.devtools.bench.processes import create_topic
from parcelwatch.streams.runtime.app import create_app
from parcelwatch.streams.runtime.settings import Settings
from parcelwatch.streams.runtime.stall_report import UNKNOWN, describe_partition
from tests.integration.conftest import BOOTSTRAP, BROKER


async def _produce(topic: str, counts: dict[int, int]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP)
    await producer.start()
    try:
        for partition, count in counts.items():
            for number in range(count):
                await producer.send_and_wait(topic, b"%d" % number, partition=partition)
    finally:
        await producer.stop()


async def _until_fetched(client, tp: TopicPartition, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while tp not in client._fetcher._records:
        assert time.monotonic() < deadline, f"nothing fetched from {tp}"
        await asyncio.sleep(0.05)


async def test_each_place_a_partition_can_be_held_is_named(deployment, tmp_path):
    topic = f"{deployment.prefix}stall"
    await create_topic(BOOTSTRAP, topic, 3)
    await _produce(topic, {0: 5, 1: 3})
    settings = Settings(broker=BROKER, data_dir=tmp_path, topic_prefix=deployment.prefix)
    app = create_app(settings, registry=CollectorRegistry()).faust
    faust_consumer = app.consumer
    thread = faust_consumer._thread
    client = thread._create_worker_consumer(app.transport)  # what the worker's thread builds
    tps = [TopicPartition(topic, partition) for partition in range(3)]
    client.assign(tps[:2])
    await client.start()
    thread._consumer = client
    try:
        full, empty = tps[:2]  # "empty": its fetched records are never there to be taken
        client.pause(empty)
        for tp in tps[:2]:
            client.seek(tp, 1)
        await _until_fetched(client, full)
        faust_consumer._buffered_partitions.add(empty)
        faust_consumer._read_offset[full] = 3
        faust_consumer._committed_offset[full] = 2

        held = describe_partition(faust_consumer, full)
        paused = describe_partition(faust_consumer, empty)
        elsewhere = describe_partition(faust_consumer, tps[2])
    finally:
        await client.stop()

    assert UNKNOWN not in held + paused, (held, paused)
    fetcher, faust = held.split("; faust: ")
    assert fetcher.startswith("fetcher: position 1, fetched records waiting ")
    assert faust == "assigned, fetched, read offset 3, committed 2, highwater 5, flowing"
    assert paused.startswith("fetcher: position 1, PAUSED, no fetched records waiting; faust: ")
    assert "not fetched: its stream buffer is under pressure, read offset None" in paused
    assert elsewhere.startswith("fetcher: NOT in its assignment, no fetched records waiting")
    assert elsewhere.endswith(
        "faust: NOT assigned, fetched, read offset None, committed None, "
        f"highwater {UNKNOWN} (AssertionError), flowing"  # aiokafka's, for a partition not its own
    )
