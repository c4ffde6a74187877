"""The worker's state after the rules-only run: its size in the changelog and on disk, and how
long a fresh worker takes to restore it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from parcelwatch.streams.devtools.bench.measurements import dir_bytes
from parcelwatch.streams.devtools.bench.pipeline import start_worker
from parcelwatch.streams.devtools.chaos.deployment import Deployment
from parcelwatch.streams.devtools.chaos.kafka_io import read_to_end
from parcelwatch.streams.pipeline.input_ledger import is_ledger_key

# A table's latest row per key (JSON-decoded key → stored value), the input ledger's left out.
Rows = dict[str, bytes]


@dataclass(frozen=True)
class StateSize:
    changelog_bytes_per_shipment: float  # latest value per shipment key, summed, per shipment
    rocksdb_bytes_per_shipment: float  # the worker's table directory on disk, per shipment


async def latest_rows(deployment: Deployment) -> Rows:
    """The shipments table's rows as its changelog holds them once compacted."""
    latest: Rows = {}
    for record in await read_to_end(deployment.bootstrap, [deployment.changelog_topic]):
        if record.key is None:
            continue
        key = orjson.loads(record.key)
        if not isinstance(key, str) or is_ledger_key(key):
            continue  # the input ledger's entries: per partition, not per shipment
        if record.value is None:
            latest.pop(key, None)  # a tombstone: the row was deleted
        else:
            latest[key] = record.value
    return latest


def state_size(rows: Rows, data_dir: Path, shipments: int) -> StateSize:
    return StateSize(
        changelog_bytes_per_shipment=sum(map(len, rows.values())) / shipments,
        rocksdb_bytes_per_shipment=dir_bytes(data_dir) / shipments,
    )


async def recovery_seconds(
    deployment: Deployment,
    run_dir: Path,
    *,
    timeout: float,
    name: str = "recovery",
    poll: float = 0.1,
) -> float:
    """A fresh worker on an empty data dir and the same app id: start until /readyz says 200
    (its partitions assigned and the table restored from the changelog)."""
    worker = start_worker(deployment, run_dir, name)
    try:
        deadline = time.monotonic() + timeout
        while await worker.health("/readyz") != 200:
            if not worker.alive() or time.monotonic() > deadline:
                raise RuntimeError("the recovering worker never became ready")
            await asyncio.sleep(poll)
        return time.monotonic() - worker.started_at
    finally:
        worker.stop()
