"""The repair's failure paths, with the broker stood in for (the real one: tests/integration)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka.structs import OffsetAndMetadata
from prometheus_client import CollectorRegistry

from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.runtime.group_commits import CommitRepair
from tests.streams.runtime.consumer_stand_ins import App

SCANS_0 = ("carrier-scans", 0)


class _Coordinator:
    def __init__(self, committed: int | None) -> None:
        self.committed = committed

    async def fetch_committed_offsets(self, partitions: list[Any]) -> dict[Any, Any]:
        if self.committed is None:
            return {}
        return {tp: OffsetAndMetadata(self.committed, "") for tp in partitions}


class _KafkaConsumer:
    def __init__(self, committed: int | None) -> None:
        self._coordinator = _Coordinator(committed)
        self.commits: list[dict[Any, Any]] = []

    async def commit(self, offsets: dict[Any, Any]) -> None:
        self.commits.append(offsets)


class _HangingProducer:
    async def flush(self) -> None:
        await asyncio.Event().wait()  # a broker that never answers


async def test_a_flush_that_never_ends_gives_up_in_time_and_commits_nothing(caplog):
    app = App(_KafkaConsumer(committed=3), _HangingProducer())
    metrics = WorkerMetrics(CollectorRegistry())
    repair = CommitRepair(app, metrics.commit_repairs, timeout=0.05)
    for _ in range(2):
        await asyncio.wait_for(repair.tick({SCANS_0: 9}, generation=1), 1.0)
    assert "committing the applied offsets failed" in caplog.text
    assert app.consumer._thread.consumer.commits == []
    assert metrics.commit_repairs.labels("carrier-scans")._value.get() == 0


async def test_the_log_line_names_faust_s_view_of_the_partition(caplog):
    app = App(_KafkaConsumer(committed=None))
    app.consumer._acked[SCANS_0] = [120, 121]
    metrics = WorkerMetrics(CollectorRegistry())
    repair = CommitRepair(app, metrics.commit_repairs)
    for _ in range(2):
        await repair.tick({SCANS_0: 122}, generation=1)
    assert (
        "carrier-scans[0]: the group's committed offset stayed at None while everything before "
        "122 was applied; committing 122 (Faust's view: committed None, 2 acked waiting from 120"
    ) in caplog.text
    assert [
        {(tp.topic, tp.partition): meta.offset for tp, meta in commit.items()}
        for commit in app.consumer._thread.consumer.commits
    ] == [{SCANS_0: 122}]
