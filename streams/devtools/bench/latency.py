"""Input-to-alert latency at a fixed offered rate.

The offered traffic is the simulator's, like the backlog but simulated with another seed (other
shipments): orders and scans in publish order, paced at the rate asked for, so the worker does
the work of live traffic (the model scores, notifications are told), not a stream of one kind of
scan. Every alert whose ``source_event_id`` is an offered event is a sample (carrier exceptions,
delay risks, missed promises…): latency = when the harness reads the alert on
``shipment-alerts`` minus when the paced producer handed the event to its client.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from parcelwatch.streams.devtools.bench.backlog import Backlog
from parcelwatch.streams.devtools.bench.measurements import percentile
from parcelwatch.streams.devtools.chaos.deployment import Deployment
from parcelwatch.streams.devtools.chaos.kafka_io import partitions_of

OFFERED_SEED_OFFSET = 1000  # the offered traffic's seed: the backlog's plus this


@dataclass(frozen=True)
class Latency:
    offered_rate: float  # input events per second
    sent: int  # events offered
    received: int  # alerts raised by them: the samples
    p50_ms: float
    p95_ms: float
    p99_ms: float


async def measure_latency(
    deployment: Deployment,
    traffic: Backlog,
    rate: float,
    *,
    drain_timeout: float = 60.0,
    settle_seconds: float = 3.0,
) -> Latency:
    """Offer ``traffic`` at ``rate`` events per second; the latency of every alert it raises."""
    topics = deployment.topics
    sent_at: dict[str, float] = {}
    received_at: dict[str, float] = {}
    reader = AIOKafkaConsumer(bootstrap_servers=deployment.bootstrap, group_id=None)
    await reader.start()
    producer = AIOKafkaProducer(bootstrap_servers=deployment.bootstrap, acks="all", linger_ms=0)
    await producer.start()
    try:
        partitions = await partitions_of(deployment.bootstrap, [topics.shipment_alerts])
        reader.assign(partitions)
        await reader.seek_to_end(*partitions)  # only alerts raised from now on
        reading = asyncio.create_task(_read_alerts(reader, sent_at, received_at))
        loop = asyncio.get_running_loop()
        started = loop.time()
        pending = []
        for number, message in enumerate(traffic.messages(topics)):
            wait = started + number / rate - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            sent_at[orjson.loads(message.value)["event_id"]] = time.monotonic()
            pending.append(await producer.send(message.topic, message.value, key=message.key))
        await asyncio.gather(*pending)
        # Which events raise an alert is the worker's to decide: wait until alerts stop coming.
        deadline = time.monotonic() + drain_timeout
        last_count, quiet_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            if len(received_at) != last_count:
                last_count, quiet_since = len(received_at), time.monotonic()
            elif time.monotonic() - quiet_since >= settle_seconds:
                break
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading
    finally:
        await producer.stop()
        await reader.stop()
    samples = [(received_at[key] - sent_at[key]) * 1000 for key in received_at]
    if not samples:
        raise RuntimeError(f"no alert raised by {len(sent_at)} offered events")
    return Latency(
        offered_rate=rate,
        sent=len(sent_at),
        received=len(samples),
        p50_ms=percentile(samples, 0.50),
        p95_ms=percentile(samples, 0.95),
        p99_ms=percentile(samples, 0.99),
    )


async def _read_alerts(
    reader: AIOKafkaConsumer, sent_at: dict[str, float], received_at: dict[str, float]
) -> None:
    while True:
        batches = await reader.getmany(timeout_ms=50)
        now = time.monotonic()
        for records in batches.values():
            for record in records:
                source = orjson.loads(record.value).get("source_event_id")
                if source in sent_at and source not in received_at:
                    received_at[source] = now
