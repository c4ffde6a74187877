"""Restore a table's changelog in bulk before Faust's own recovery reads what is left.

faust-streaming restores a table one changelog record at a time through its fetch loop: tasks,
awaits and bookkeeping per record, about 200 µs of CPU each here (streams/devtools/bench/NOTES.md),
so a worker on an empty disk needed 418 s for 1,000,000 shipments' 2,000,000 rows. Kafka Streams
restores through a separate consumer in batches (a batching restore callback); this does the
same for Faust's RocksDB tables. When Faust has worked out where each active changelog
partition's reading starts (its persisted offset, or the log start), a plain consumer reads
every record up to the highwater and hands them to the table's own ``apply_changelog_batch`` a
batch at a time: the store writes them and persists the last offset, exactly as Faust's recovery
does with its buffers. Faust's recovery then starts from the offsets reached and reads only what
came since.

Only the reading changes hands. Faust still decides which partitions to recover, when, and when
recovery is over; a rebalance or a stop during the bulk read cancels it (every batch already
written is consistent with its persisted offset, so the next recovery starts after it). The bulk
read stops after a time budget, well inside the timeout Faust gives this step, and leaves the
rest to Faust. Standby partitions are left to Faust: they are read after the worker is ready.
In-memory tables keep Faust's path: they restore decoded values, which this does not produce.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.stores.rocksdb import Store as RocksDBStore
from faust.tables import TableManager
from faust.tables.recovery import Recovery
from faust.types import TP

from parcelwatch.streams.pipeline.error_text import describe

log = logging.getLogger(__name__)

BATCH_RECORDS = 10_000  # records per fetch and per store write (about 1 MiB of values)
PARTITION_FETCH_BYTES = 8 * 2**20  # per partition and fetch: changelog rows are small


# Told after each bulk restore: its outcome (complete, budget_spent, failed), records, seconds.
RestoreReport = Callable[[str, int, float], None]


@dataclass(frozen=True)
class BulkRestoreOptions:
    consumer_options: Mapping[str, Any]  # bootstrap servers, TLS and SASL (kafka_admin)
    budget_seconds: float  # then Faust reads the rest; 0 turns bulk restore off
    report: RestoreReport  # the worker's metrics (WorkerMetrics.bulk_restored)


class ChangelogRecord:
    """A consumer record in the shape a store's ``apply_changelog_batch`` reads: an event whose
    ``message`` has the topic partition, offset, key and value bytes."""

    __slots__ = ("key", "offset", "partition", "tp", "value")

    def __init__(self, tp: TP, offset: int, key: bytes | None, value: bytes | None) -> None:
        self.tp = tp
        self.partition = tp.partition
        self.offset = offset
        self.key = key
        self.value = value

    @property
    def message(self) -> ChangelogRecord:
        return self


class ChangelogTable(Protocol):
    def apply_changelog_batch(self, batch: Iterable[Any]) -> None: ...


def reading_plan(last_applied: Mapping[TP, int], last_offsets: Mapping[TP, int]) -> dict[TP, int]:
    """The offset to start reading each partition at, for partitions with records to read.

    Both mappings use Faust's recovery convention: an offset is that of the last record, -1 for
    none (an empty partition, or nothing applied yet)."""
    return {
        tp: applied + 1
        for tp, applied in last_applied.items()
        if tp in last_offsets and applied < last_offsets[tp]
    }


@dataclass
class RestoreProgress:
    records: int = 0
    seconds: float = 0.0
    complete: bool = False  # every partition reached its end offset


class ChangelogReader(Protocol):
    """What a bulk restore needs of an aiokafka consumer."""

    def assign(self, partitions: list[Any]) -> None: ...
    def seek(self, partition: Any, offset: int) -> None: ...
    async def position(self, partition: Any) -> int: ...
    async def getmany(self, *partitions: Any, timeout_ms: int, max_records: int) -> Any: ...


async def restore_in_bulk(
    reader: ChangelogReader,
    tables: Mapping[TP, ChangelogTable],
    start_at: Mapping[TP, int],
    end_offsets: Mapping[TP, int],
    applied: MutableMapping[TP, int],
    *,
    budget_seconds: float,
    batch_records: int = BATCH_RECORDS,
    clock: Callable[[], float] = time.monotonic,
    progress: RestoreProgress | None = None,
) -> RestoreProgress:
    """Read each partition of ``start_at`` from its offset up to its end offset (the offset after
    its last record) and apply the records to its table in batches; ``applied`` gets the offset
    of each partition's last applied record as each batch is written. Stops when every partition
    reached its end or ``budget_seconds`` have passed. ``progress``, when given, is kept current
    as batches are written (a caller reads it after a failure too)."""
    progress = RestoreProgress() if progress is None else progress
    started = clock()
    waiting = {TopicPartition(tp.topic, tp.partition): tp for tp in start_at}
    reader.assign(list(waiting))
    for client_tp, tp in waiting.items():
        reader.seek(client_tp, start_at[tp])
    while waiting and clock() - started < budget_seconds:
        fetched = await reader.getmany(*waiting, timeout_ms=500, max_records=batch_records)
        for client_tp, records in fetched.items():
            tp = waiting.get(client_tp)
            if tp is None or not records:
                continue
            tables[tp].apply_changelog_batch(
                [ChangelogRecord(tp, r.offset, r.key, r.value) for r in records]
            )
            applied[tp] = records[-1].offset
            progress.records += len(records)
            progress.seconds = clock() - started
        for client_tp, tp in list(waiting.items()):
            if await reader.position(client_tp) >= end_offsets[tp]:
                del waiting[client_tp]
    progress.seconds = clock() - started
    progress.complete = not waiting
    return progress


class BulkRestoringRecovery(Recovery):
    """Faust's recovery, with active changelog partitions of RocksDB tables read in bulk first."""

    def __init__(self, app: Any, tables: Any, options: BulkRestoreOptions, **kwargs: Any) -> None:
        super().__init__(app, tables, **kwargs)
        self.bulk_options = options

    async def _build_offsets(
        self, consumer: Any, tps: set[TP], destination: Any, title: str
    ) -> None:
        await super()._build_offsets(consumer, tps, destination, title)
        if destination is self.active_offsets and self.bulk_options.budget_seconds > 0:
            await self._restore_in_bulk(destination)

    async def _restore_in_bulk(self, active_offsets: MutableMapping[TP, int]) -> None:
        tables = {
            tp: table
            for tp, table in self.tp_to_table.items()
            if tp in self.active_tps and restores_in_bulk(table)
        }
        last_offsets = {tp: self.active_highwaters[tp] for tp in tables}
        start_at = reading_plan({tp: active_offsets[tp] for tp in tables}, last_offsets)
        if not start_at:
            return
        reader = AIOKafkaConsumer(
            **self.bulk_options.consumer_options,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_uncommitted",  # as Faust's recovery reads (at-least-once)
            max_partition_fetch_bytes=PARTITION_FETCH_BYTES,
        )
        progress = RestoreProgress()
        try:
            await reader.start()
            await restore_in_bulk(
                reader,
                tables,
                start_at,
                {tp: offset + 1 for tp, offset in last_offsets.items()},
                active_offsets,
                budget_seconds=self.bulk_options.budget_seconds,
                progress=progress,
            )
        except Exception as error:  # Faust reads on from the last batch written
            log.warning("bulk restore stopped, Faust's recovery reads on: %s", describe(error))
            self.bulk_options.report("failed", progress.records, progress.seconds)
            return
        finally:
            await reader.stop()
        self.bulk_options.report(
            "complete" if progress.complete else "budget_spent", progress.records, progress.seconds
        )
        log.info(
            "restored %d changelog records in bulk (%d partitions, %.2f s)%s",
            progress.records,
            len(start_at),
            progress.seconds,
            "" if progress.complete else "; the time budget ran out, Faust reads the rest",
        )


def restores_in_bulk(table: Any) -> bool:
    """Tables whose restore is only a store write: RocksDB stores (they write the record's bytes
    as they are), no changelog callback."""
    return isinstance(table.data, RocksDBStore) and table._on_changelog_event is None


def bulk_restoring_table_manager(options: BulkRestoreOptions) -> type[TableManager]:
    """A TableManager class (Faust's ``TableManager`` setting) whose recovery restores in bulk."""

    class BulkRestoringTableManager(TableManager):
        @property
        def recovery(self) -> Recovery:
            if self._recovery is None:
                self._recovery = BulkRestoringRecovery(
                    self.app, self, options, beacon=self.beacon, loop=self.loop
                )
            return self._recovery

    return BulkRestoringTableManager
