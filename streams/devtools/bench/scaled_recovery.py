"""Recovery at the target's scale: a fresh worker restores a changelog seeded with N shipments.

The bench's backlog leaves some 24,000 shipments; the recovery target is set for 1,000,000. The
seeded changelog holds N shipments' rows, made from the pipeline run's own table: its latest
row per key (shipment states, order index rows, return rows; not the per-partition input
ledger), copied under keys of their own until there are as many rows per shipment as the run
had. A table that old is mostly retired markers: under the default retention (30 days) a table
fed at an even rate for 120 days holds 25% states and 75% markers (README, Retention, measured by
tests/benchmarks/bench_retention.py), so three copies in four are markers (schemas/retired.py),
written in the worker's stored form. Every key is written once, so the log cleaner has nothing
to remove: the worker reads what a compacted changelog of N shipments holds.

The changelog topic is the worker's own: a first worker on the empty deployment creates it, with
the settings it gives its changelogs, and stops; then the rows are produced; then a worker on an
empty data dir is timed from its start until /readyz answers 200.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from parcelwatch.schemas.retired import RetiredShipment, retired_to_json
from parcelwatch.schemas.stored_value import dump_stored
from parcelwatch.streams.devtools.bench.pipeline import start_worker
from parcelwatch.streams.devtools.bench.state import Rows, recovery_seconds
from parcelwatch.streams.devtools.chaos.deployment import Deployment
from parcelwatch.streams.devtools.chaos.kafka_io import producer

_SEND_WINDOW = 20_000  # sends in flight before they are awaited


@dataclass(frozen=True)
class ScaledRecovery:
    shipments: int  # whose rows were seeded
    rows: int  # changelog records the worker restored
    retired_rows: int  # of which markers
    changelog_bytes: int  # their values' bytes
    seconds: float  # worker start → ready (table restored)


async def scaled_recovery(
    deployment: Deployment,
    source_rows: Rows,
    source_shipments: int,
    shipments: int,
    run_dir: Path,
    *,
    timeout: float,
) -> ScaledRecovery:
    """Seed ``deployment``'s (fresh) shipments changelog with ``shipments`` shipments' rows made
    from ``source_rows`` (a run's table of ``source_shipments`` shipments); time its restore."""
    if not source_rows or source_shipments < 1 or shipments < 1:
        raise ValueError("need a run's rows, its shipment count and a positive shipment count")
    await deployment.create_topics()
    creator = start_worker(deployment, run_dir, "scaled-topics")  # creates the changelog topics
    try:
        if not await creator.wait_healthy(timeout):
            raise RuntimeError("the worker creating the changelog topics never became ready")
    finally:
        creator.stop()
    count = round(shipments * len(source_rows) / source_shipments)
    marker = marker_value(deployment.settings().store_deflated)
    rows = seeded_rows(source_rows, count, marker)
    changelog_bytes = retired_rows = 0
    async with producer(deployment.bootstrap) as client:
        while window := list(itertools.islice(rows, _SEND_WINDOW)):
            sent = [
                await client.send(deployment.changelog_topic, value, key=key)
                for key, value in window
            ]
            await asyncio.gather(*sent)
            changelog_bytes += sum(len(value) for _, value in window)
            retired_rows += sum(value is marker for _, value in window)
    seconds = await recovery_seconds(deployment, run_dir, timeout=timeout, name="scaled-recovery")
    return ScaledRecovery(
        shipments=shipments,
        rows=count,
        retired_rows=retired_rows,
        changelog_bytes=changelog_bytes,
        seconds=seconds,
    )


def seeded_rows(source_rows: Rows, count: int, marker: bytes) -> Iterator[tuple[bytes, bytes]]:
    """``count`` (key, value) rows: the source rows copied in turn, each copy under its own key
    (the source key and the copy's number); three copies in four carry ``marker`` instead."""
    sources: Sequence[tuple[str, bytes]] = sorted(source_rows.items())
    for index in range(count):
        key, value = sources[index % len(sources)]
        copy = index // len(sources)
        yield orjson.dumps(f"{key}#{copy}"), marker if is_retired_copy(index) else value


def is_retired_copy(index: int) -> bool:
    """Three rows in four (the retention benchmark's 749,561 markers in 1,000,000 rows), spread
    evenly over the source rows' kinds."""
    return index % 4 != 0


def marker_value(deflate: bool) -> bytes:
    """A retired marker as the worker stores it (the dates: a shipment settled 45 days ago)."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    marker = RetiredShipment(
        settled_at=now - timedelta(days=45),
        retired_at=now - timedelta(days=15),
        forget_at=now + timedelta(days=165),
        home_partition=0,
    )
    return dump_stored(retired_to_json(marker), deflate=deflate)
