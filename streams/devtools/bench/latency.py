"""Input-to-alert latency at a fixed offered rate.

The offered traffic is the simulator's, like the backlog but simulated with another seed (other
shipments): orders and scans in publish order, paced at the rate asked for, so the worker does
the work of live traffic (the model scores, notifications are told), not a stream of one kind of
scan. Every alert whose ``source_event_id`` is an offered event is a sample (carrier exceptions,
delay risks, missed promises…): latency = when the harness reads the alert on
``shipment-alerts`` minus when the paced producer handed the event to its client.

Each latency is split at the alert's ``detected_at``, the clock of the worker's batch that raised
it: before it, the input's way into a batch (the broker, the fetch, the batch's wait for more
inputs, the batch before it); after it, the batch's work and its outputs' way to a reader. The
split reads wall clocks of two processes on one machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from parcelwatch.schemas.timestamps import parse_rfc3339
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
    into_batch_p50_ms: float  # sent → the raising batch's clock
    into_batch_p99_ms: float
    batch_to_read_p50_ms: float  # the raising batch's clock → read
    batch_to_read_p99_ms: float


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
    sent_at: dict[str, float] = {}  # monotonic
    received_at: dict[str, float] = {}
    sent_wall: dict[str, float] = {}  # wall clock, for the split at the batch's clock
    split: dict[str, tuple[float, float]] = {}  # event id → (received, detected), wall clock
    reader = AIOKafkaConsumer(bootstrap_servers=deployment.bootstrap, group_id=None)
    await reader.start()
    producer = AIOKafkaProducer(bootstrap_servers=deployment.bootstrap, acks="all", linger_ms=0)
    await producer.start()
    try:
        partitions = await partitions_of(deployment.bootstrap, [topics.shipment_alerts])
        reader.assign(partitions)
        await reader.seek_to_end(*partitions)  # only alerts raised from now on
        reading = asyncio.create_task(_read_alerts(reader, sent_at, received_at, split))
        loop = asyncio.get_running_loop()
        started = loop.time()
        pending = []
        for number, message in enumerate(traffic.messages(topics)):
            wait = started + number / rate - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            event_id = orjson.loads(message.value)["event_id"]
            sent_at[event_id], sent_wall[event_id] = time.monotonic(), time.time()
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
    into_batch = [(split[key][1] - sent_wall[key]) * 1000 for key in split]
    batch_to_read = [(split[key][0] - split[key][1]) * 1000 for key in split]
    return Latency(
        offered_rate=rate,
        sent=len(sent_at),
        received=len(samples),
        p50_ms=percentile(samples, 0.50),
        p95_ms=percentile(samples, 0.95),
        p99_ms=percentile(samples, 0.99),
        into_batch_p50_ms=percentile(into_batch, 0.50),
        into_batch_p99_ms=percentile(into_batch, 0.99),
        batch_to_read_p50_ms=percentile(batch_to_read, 0.50),
        batch_to_read_p99_ms=percentile(batch_to_read, 0.99),
    )


async def _read_alerts(
    reader: AIOKafkaConsumer,
    sent_at: dict[str, float],
    received_at: dict[str, float],
    split: dict[str, tuple[float, float]],
) -> None:
    while True:
        batches = await reader.getmany(timeout_ms=50)
        now, wall = time.monotonic(), time.time()
        for records in batches.values():
            for record in records:
                alert = orjson.loads(record.value)
                source = alert.get("source_event_id")
                if source in sent_at and source not in received_at:
                    received_at[source] = now
                    detected = parse_rfc3339(alert["detected_at"]).timestamp()
                    split[source] = (wall, detected)
