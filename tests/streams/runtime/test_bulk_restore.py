"""Bulk restore: what it reads, what it writes into a real RocksDB store, and when it stops."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import pytest
from aiokafka import TopicPartition
from faust.types import TP
from prometheus_client import CollectorRegistry

from parcelwatch.streams.runtime.app import create_app
from parcelwatch.streams.runtime.bulk_restore import (
    BulkRestoreOptions,
    BulkRestoringRecovery,
    RestoreProgress,
    reading_plan,
    restore_in_bulk,
    restores_in_bulk,
)
from parcelwatch.streams.runtime.settings import Settings

CHANGELOG = "t-parcelwatch-shipments-changelog"
P0, P1 = TP(CHANGELOG, 0), TP(CHANGELOG, 1)


@dataclass(frozen=True)
class Record:
    offset: int
    key: bytes
    value: bytes | None


class LogReader:
    """An aiokafka consumer's reading of fixed partition logs: a fetch hands on up to
    ``max_records`` from each partition's position; past its last record (compaction leaves
    offsets without one) a partition's position is its end offset."""

    def __init__(self, logs: dict[TP, list[Record]], ends: dict[TP, int]) -> None:
        self.logs = {TopicPartition(tp.topic, tp.partition): log for tp, log in logs.items()}
        self.ends = {TopicPartition(tp.topic, tp.partition): end for tp, end in ends.items()}
        self.positions: dict[TopicPartition, int] = {}
        self.assigned: list[TopicPartition] = []
        self.fetches = 0

    def assign(self, partitions):
        self.assigned = list(partitions)

    def seek(self, partition, offset):
        assert partition in self.assigned
        self.positions[partition] = offset

    async def position(self, partition):
        return self.positions[partition]

    async def getmany(self, *partitions, timeout_ms, max_records):
        self.fetches += 1
        fetched = {}
        for tp in partitions:
            records = [r for r in self.logs[tp] if r.offset >= self.positions[tp]][:max_records]
            if records:
                fetched[tp] = records
                self.positions[tp] = records[-1].offset + 1
            else:
                self.positions[tp] = self.ends[tp]
        return fetched


class Ticks:
    """A clock that moves one second each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def shipments(tmp_path):
    app = create_app(Settings(data_dir=tmp_path), registry=CollectorRegistry()).faust
    return app.tables["shipments"]


def stored(table, partition: int, key: bytes) -> bytes | None:
    return table.data._db_for_partition(partition).get(key)


def test_the_plan_reads_each_partition_after_its_last_applied_record_up_to_its_last():
    applied = {P0: -1, P1: 41, TP(CHANGELOG, 2): 9, TP(CHANGELOG, 3): -1}
    last = {P0: 99, P1: 50, TP(CHANGELOG, 2): 9, TP(CHANGELOG, 3): -1}
    # Partition 2 is up to date and partition 3 is empty: nothing to read there.
    assert reading_plan(applied, last) == {P0: 0, P1: 42}


async def test_every_record_lands_in_the_store_in_order_with_deletes_and_persisted_offsets(
    shipments,
):
    # Compacted: offsets 1 and 4 are gone. Key a is written, then deleted (a tombstone).
    first = [Record(0, b'"a"', b"a0"), Record(2, b'"b"', b"b2"), Record(3, b'"a"', b"a3")]
    logs = {
        P0: [*first, Record(5, b'"a"', None), Record(6, b'"c"', b"c6")],
        P1: [Record(3, b'"d"', b"d3"), Record(4, b'"d"', b"d4")],
    }
    reader = LogReader(logs, ends={P0: 8, P1: 5})  # offset 7 of partition 0: compacted away
    applied = {P0: -1, P1: 2}
    progress = await restore_in_bulk(
        reader,
        {P0: shipments, P1: shipments},
        {P0: 0, P1: 3},
        {P0: 8, P1: 5},
        applied,
        budget_seconds=60,
        batch_records=2,
    )
    assert progress.complete and progress.records == 7
    assert applied == {P0: 6, P1: 4}
    assert stored(shipments, 0, b'"a"') is None  # the tombstone came last
    assert stored(shipments, 0, b'"b"') == b"b2"
    assert stored(shipments, 0, b'"c"') == b"c6"
    assert stored(shipments, 1, b'"d"') == b"d4"
    # Faust's next recovery starts after what was written, as after its own buffers.
    assert shipments.persisted_offset(P0) == 6
    assert shipments.persisted_offset(P1) == 4


async def test_it_stops_when_the_budget_runs_out_and_says_what_it_wrote(shipments):
    logs = {P0: [Record(n, f'"k{n}"'.encode(), b"v") for n in range(10)]}
    reader = LogReader(logs, ends={P0: 10})
    applied = {P0: -1}
    progress = RestoreProgress()
    returned = await restore_in_bulk(
        reader, {P0: shipments}, {P0: 0}, {P0: 10}, applied,
        budget_seconds=3, batch_records=2, clock=Ticks(), progress=progress,
    )  # fmt: skip
    assert returned is progress and not progress.complete
    assert progress.records == 2 * reader.fetches < 10
    assert applied == {P0: progress.records - 1}
    assert shipments.persisted_offset(P0) == progress.records - 1
    assert stored(shipments, 0, f'"k{progress.records}"'.encode()) is None  # not read yet


def test_the_worker_restores_its_rocksdb_tables_in_bulk(tmp_path):
    settings = Settings(data_dir=tmp_path, restore_bulk_seconds=45)
    app = create_app(settings, registry=CollectorRegistry()).faust
    assert isinstance(app.tables.recovery, BulkRestoringRecovery)
    assert app.tables.recovery.bulk_options.budget_seconds == 45
    assert app.tables.recovery.bulk_options.consumer_options["bootstrap_servers"]
    registry = CollectorRegistry()
    reporting = create_app(settings, registry=registry).faust.tables.recovery.bulk_options
    reporting.report("complete", 1200, 2.5)
    assert (
        registry.get_sample_value("parcelwatch_bulk_restores_total", {"outcome": "complete"}) == 1
    )
    assert registry.get_sample_value("parcelwatch_bulk_restored_records_total") == 1200
    assert registry.get_sample_value("parcelwatch_bulk_restore_seconds_sum") == 2.5
    assert all(restores_in_bulk(table) for table in app.tables.values())


def test_in_memory_tables_keep_fausts_restore(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, store="memory://"), registry=CollectorRegistry())
    assert not any(restores_in_bulk(table) for table in app.faust.tables.values())


def test_a_table_with_a_changelog_callback_keeps_fausts_restore(shipments):
    async def on_event(event):
        return None

    shipments._on_changelog_event = on_event
    assert not restores_in_bulk(shipments)


async def test_a_broker_it_cannot_reach_leaves_the_restore_to_faust(shipments, caplog):
    recovery = shipments.app.tables.recovery
    reports = []
    recovery.bulk_options = BulkRestoreOptions(
        {"bootstrap_servers": f"127.0.0.1:{closed_port()}"},
        5,
        lambda *report: reports.append(report),
    )
    recovery.tp_to_table[P0] = shipments
    recovery.active_tps.add(P0)
    recovery.active_highwaters[P0] = 9
    active_offsets = {P0: -1}
    await recovery._restore_in_bulk(active_offsets)
    assert active_offsets == {P0: -1}  # Faust's recovery reads it all
    assert "bulk restore stopped, Faust's recovery reads on" in caplog.text
    assert reports == [("failed", 0, 0.0)]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
