"""Scan-to-alert latency at a fixed offered rate.

The probes are constructed carrier-exception scans, each on a fresh shipment (so each one opens
an exception episode and raises exactly one ``carrier_exception`` alert whose
``source_event_id`` is the scan's event id). Latency = when the harness reads the alert on
``shipment-alerts`` minus when the paced producer handed the scan to its client.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.schemas.types import ExceptionReason, Scan, ShipmentStatus
from parcelwatch.streams.devtools.bench.measurements import percentile
from parcelwatch.streams.devtools.chaos.deployment import Deployment
from parcelwatch.streams.devtools.chaos.kafka_io import partitions_of


@dataclass(frozen=True)
class Latency:
    offered_rate: float  # scans per second
    sent: int
    received: int
    p50_ms: float
    p95_ms: float
    p99_ms: float


def probe_scan(run: str, number: int) -> Scan:
    tracking = f"BENCH{run.upper()}{number:08d}"
    return Scan(
        event_id=f"bench-probe-{run}-{number}",
        tracking_number=tracking,
        carrier="ups",
        status=ShipmentStatus.EXCEPTION,
        occurred_at=utc_now(),
        reason=ExceptionReason.CARRIER_DELAY,
    )


async def measure_latency(
    deployment: Deployment, run: str, rate: float, seconds: float, *, drain_timeout: float = 60.0
) -> Latency:
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
        count = max(1, round(rate * seconds))
        loop = asyncio.get_running_loop()
        started = loop.time()
        pending = []
        for number in range(count):
            wait = started + number / rate - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            scan = probe_scan(run, number)
            sent_at[scan.event_id] = time.monotonic()
            pending.append(
                await producer.send(
                    topics.carrier_scans, encode(scan), key=scan.tracking_number.encode()
                )
            )
        await asyncio.gather(*pending)
        deadline = time.monotonic() + drain_timeout
        while len(received_at) < len(sent_at) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading
    finally:
        await producer.stop()
        await reader.stop()
    samples = [(received_at[key] - sent_at[key]) * 1000 for key in received_at]
    if not samples:
        raise RuntimeError(f"no alert raised by {len(sent_at)} exception scans")
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
