"""A worker on an empty disk restores its table in bulk, and the result is what Faust's own
record-at-a-time restore gives: the changelog's last value of every key, byte for byte."""

from __future__ import annotations

import signal
from pathlib import Path

from faust.stores.rocksdb import Store as RocksDBStore
from rocksdict import AccessType, Options, Rdict

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.streams.simulation import SimulationConfig, generate_journeys
from tests.integration.test_recovery import applied_table, changelog_rows, produce_backlog


def store_rows(data_dir: Path) -> dict[bytes, bytes]:
    """Every row of a stopped worker's shipments store, all partitions, as bytes."""
    rows: dict[bytes, bytes] = {}
    paths = sorted(data_dir.glob("v*/tables/shipments-*.db"))
    assert paths, f"no shipments store under {data_dir}"
    for path in paths:
        store = Rdict(str(path), Options(raw_mode=True), access_type=AccessType.read_only())
        try:
            rows.update((key, value) for key, value in store.items())
        finally:
            store.close()
    rows.pop(RocksDBStore.offset_key)
    return rows


async def test_a_bulk_restore_leaves_the_store_the_changelog_and_faust_would(deployment, workers):
    deployment.partitions = 4
    topics = deployment.topics
    events = generate_journeys(SimulationConfig(shipments=400, seed=21), now=utc_now())
    first = deployment.start_worker("first")
    workers.append(first)
    await produce_backlog([(e.topic(topics), e.key, encode(e.event)) for e in events])
    await applied_table(deployment)
    first.stop(signal.SIGTERM)

    for name, budget_seconds in (("bulk", "60"), ("faust-only", "0")):
        disk = deployment.root / f"{name}-disk"
        worker = deployment.start_worker(
            name, data_dir=disk, extra_env={"PARCELWATCH_RESTORE_BULK_SECONDS": budget_seconds}
        )  # returns once /readyz says the table is restored
        workers.append(worker)
        metrics = worker.metrics()
        worker.stop(signal.SIGTERM)
        # Read after the stop: whatever the worker itself wrote is in both.
        changelog = await changelog_rows(deployment)
        assert len(changelog) > 400
        assert store_rows(disk) == changelog, name
        restored_in_bulk = "in bulk" in (deployment.root / f"{name}.log").read_text()
        assert restored_in_bulk is (name == "bulk")
        complete = metrics.get('parcelwatch_bulk_restores_total{outcome="complete"}', 0)
        assert complete == (1 if name == "bulk" else 0)
        if name == "bulk":  # every record read, superseded ones too until the cleaner runs
            assert metrics["parcelwatch_bulk_restored_records_total"] >= len(changelog)
