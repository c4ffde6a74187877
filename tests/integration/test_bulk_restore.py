"""A worker on an empty disk restores its table in bulk, and the result is what Faust's own
record-at-a-time restore gives: the changelog's last value of every key, byte for byte."""

from __future__ import annotations

import signal
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from faust.stores.rocksdb import Store as RocksDBStore
from rocksdict import AccessType, Options, Rdict

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.streams.simulation import SimulationConfig, generate_journeys
from tests.integration.conftest import BOOTSTRAP, Deployment
from tests.integration.test_recovery import applied_table, produce_backlog


async def changelog_rows(deployment: Deployment) -> dict[bytes, bytes]:
    """The shipments changelog's last value of each key, as bytes; deleted keys left out."""
    topic = f"{deployment.prefix}parcelwatch-shipments-changelog"
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=BOOTSTRAP, auto_offset_reset="earliest", group_id=None,
        enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    rows: dict[bytes, bytes | None] = {}
    try:
        ends = await consumer.end_offsets(list(consumer.assignment()))
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                rows.update((record.key, record.value) for record in records)
    finally:
        await consumer.stop()
    return {key: value for key, value in rows.items() if value is not None}


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
        worker.stop(signal.SIGTERM)
        # Read after the stop: whatever the worker itself wrote is in both.
        changelog = await changelog_rows(deployment)
        assert len(changelog) > 400
        assert store_rows(disk) == changelog, name
        restored_in_bulk = "in bulk" in (deployment.root / f"{name}.log").read_text()
        assert restored_in_bulk is (name == "bulk")
