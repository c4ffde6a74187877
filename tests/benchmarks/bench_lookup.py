"""Benchmark (not a test): latency of the lookup API on a real worker, with the baseline in the
same run.

A worker on the local broker (``parcelwatch kafka up``) with its shipments table on disk
(RocksDB, the default store) is loaded with N shipments (an order with items and two scans each),
then asked one request at a time, 4 at a time and C at a time:

* ``GET /healthz`` (baseline: the web stack's floor on the same server and connection pool);
* ``GET /v1/shipments/{tracking_number}``;
* ``GET /v1/orders/{order_id}``.

    .venv/bin/python -m tests.benchmarks.bench_lookup [--shipments 20000] [--requests 2000]
        [--concurrency 16] [--workers 1]

With ``--workers 2`` about half the requests reach a worker that does not own the key and are
forwarded once. The target is a p99 under 20 ms for single-worker lookups.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import statistics
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiokafka import AIOKafkaProducer

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.schemas.types import Item
from tests.factories import order_at, scan_at
from tests.integration.conftest import (
    BOOTSTRAP,
    Deployment,
    WorkerProcess,
)

TOKEN = "benchmark-lookup-token-0123456789"
ITEMS = (Item("SKU-BENCH-1", 1, "books"), Item("SKU-BENCH-2", 3, "toys"))
TARGET_P99_MS = 20.0
HOUR = timedelta(hours=1)


async def load(deployment: Deployment, shipments: int) -> list[str]:
    """N shipments on the input topics; their tracking numbers."""
    now = utc_now()
    trackings = [f"1ZB{uuid.uuid4().hex[:12].upper()}" for _ in range(shipments)]
    topics = deployment.topics
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", linger_ms=20)
    await producer.start()
    try:
        pending = []
        for n, tracking in enumerate(trackings):
            hours = 2 + n % 40  # spread: some shipments late, some not
            for topic, event in (
                (topics.orders, replace(order_at(tracking, now), items=ITEMS)),
                (topics.carrier_scans, scan_at(tracking, "picked_up", now - hours * HOUR)),
                (topics.carrier_scans, scan_at(tracking, "in_transit", now - HOUR)),
            ):
                pending.append(await producer.send(topic, encode(event), key=tracking.encode()))
            if len(pending) >= 3000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return trackings


def links_applied(worker: WorkerProcess) -> float:
    """Order-shipment links applied: each one indexes a shipment under its order id."""
    return sum(
        value
        for name, value in worker.metrics().items()
        if name.startswith("parcelwatch_events_total")
        and 'outcome="applied"' in name
        and 'order-shipments"' in name
    )


async def applied_all(workers: list[WorkerProcess], shipments: int, timeout: float = 1800) -> None:
    """Until the workers have applied every input (an order and two scans per shipment) and
    indexed every shipment under its order."""
    deadline = time.monotonic() + timeout
    while (
        sum(worker.events_total("applied") for worker in workers) < 3 * shipments
        or sum(links_applied(worker) for worker in workers) < shipments
    ):
        if time.monotonic() > deadline:
            raise AssertionError(f"not every input applied in {timeout:.0f} s")
        await asyncio.sleep(2)


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    return (
        f"p50 {at(0.50):6.2f}  p95 {at(0.95):6.2f}  p99 {at(0.99):6.2f}  "
        f"max {ordered[-1] * 1000:7.2f} ms  (mean {statistics.fmean(ordered) * 1000:5.2f})"
    )


async def timed_get(session: aiohttp.ClientSession, url: str) -> float:
    started = time.perf_counter()
    async with session.get(url) as response:
        await response.read()
        if response.status != 200:
            raise AssertionError(f"{url}: {response.status}")
    return time.perf_counter() - started


async def run(urls: list[str], concurrency: int) -> list[float]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        for url in urls[: min(50, len(urls))]:  # warm-up: connections, first template loads
            await timed_get(session, url)
        if concurrency == 1:
            return [await timed_get(session, url) for url in urls]
        queue = list(urls)
        samples: list[float] = []

        async def client() -> None:
            while queue:
                samples.append(await timed_get(session, queue.pop()))

        await asyncio.gather(*(client() for _ in range(concurrency)))
        return samples


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shipments", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-lookup-") as root:
        deployment = Deployment(root=Path(root))
        workers: list[WorkerProcess] = []
        try:
            for number in range(args.workers):
                workers.append(
                    deployment.start_worker(
                        f"worker-{number}", extra_env={"PARCELWATCH_API_TOKENS": TOKEN}
                    )
                )
            started = time.perf_counter()
            trackings = await load(deployment, args.shipments)
            await applied_all(workers, args.shipments)
            print(
                f"{args.shipments} shipments ({3 * args.shipments} input messages) applied in "
                f"{time.perf_counter() - started:.0f} s; store rocksdb, {args.workers} worker(s)"
            )
            for outcome in ("applied", "duplicate", "dead_lettered"):
                print(f"  {outcome}: {sum(w.events_total(outcome) for w in workers):.0f}")
            picked = random.Random(5).choices(trackings, k=args.requests)
            base = [f"http://127.0.0.1:{w.port}" for w in workers]
            routes = {
                "healthz (baseline)": [
                    f"{base[n % len(base)]}/healthz" for n in range(len(picked))
                ],
                "shipment": [
                    f"{base[n % len(base)]}/v1/shipments/{tn}" for n, tn in enumerate(picked)
                ],
                "order": [
                    f"{base[n % len(base)]}/v1/orders/A-{tn[-6:]}" for n, tn in enumerate(picked)
                ],
            }
            verdicts = []
            for concurrency in sorted({1, 4, args.concurrency}):
                print(f"-- {args.requests} requests, {concurrency} at a time")
                for name, urls in routes.items():
                    samples = await run(urls, concurrency)
                    print(f"{name:20s} {percentiles(samples)}")
                    if name != "healthz (baseline)":
                        p99 = sorted(samples)[int(0.99 * len(samples))] * 1000
                        verdicts.append((name, concurrency, p99))
            for name, concurrency, p99 in verdicts:
                verdict = "under" if p99 < TARGET_P99_MS else "OVER"
                print(f"{name} x{concurrency}: p99 {p99:.2f} ms, {verdict} {TARGET_P99_MS:.0f} ms")
        finally:
            for worker in workers:
                worker.stop(signal.SIGTERM)


if __name__ == "__main__":
    asyncio.run(main())
