"""The consumer group's committed input offsets, read from the broker, and committed by the worker
itself where Faust's own commits left an applied partition behind (``pipeline.commit_lag``).

Both run on the Faust consumer's own thread, like every call of its aiokafka consumer (see
``agents.seek_on_consumer_thread``), and give up after a timeout: the next watchdog tick tries
again. faust-streaming 0.15's thread-delegating consumer and aiokafka 0.14 (pinned).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka import TopicPartition as KafkaTopicPartition
from aiokafka.structs import OffsetAndMetadata
from faust.types import TP

from parcelwatch.streams.pipeline.commit_lag import CommitLag
from parcelwatch.streams.pipeline.error_text import describe
from parcelwatch.streams.pipeline.input_ledger import TopicPartition

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0


async def group_offsets(
    consumer: Any, partitions: Iterable[TopicPartition], timeout: float = TIMEOUT_SECONDS
) -> dict[TopicPartition, int | None]:
    """The group's committed offset of each of ``partitions`` (None: never committed), asked
    of the group coordinator in one request. Raises on a timeout or a broker error."""
    tps = [KafkaTopicPartition(topic, partition) for topic, partition in sorted(partitions)]
    if not tps:
        return {}
    thread = consumer._thread
    coordinator = thread._ensure_consumer()._coordinator
    found = await asyncio.wait_for(
        thread.call_thread(coordinator.fetch_committed_offsets, tps), timeout
    )
    offsets: dict[TopicPartition, int | None] = {}
    for tp in tps:
        stored = found.get(tp)
        offsets[(tp.topic, tp.partition)] = (
            stored.offset if stored is not None and stored.offset >= 0 else None
        )
    return offsets


async def commit_in_group(
    app: Any, offsets: Mapping[TopicPartition, int], timeout: float = TIMEOUT_SECONDS
) -> None:
    """Commit ``offsets`` for the group, after flushing the producer (the changelog of the
    states those inputs made goes out first, as before Faust's own commits), and tell Faust's
    bookkeeping. Raises on a timeout, a rebalance or a broker error."""
    consumer = app.consumer
    # Bounded like the calls below: a broker outage must not hold the watchdog (and with it the
    # health verdict) in a flush.
    await asyncio.wait_for(app.producer.flush(), timeout)
    thread = consumer._thread
    aiokafka_consumer = thread._ensure_consumer()
    await asyncio.wait_for(
        thread.call_thread(
            aiokafka_consumer.commit,
            {
                KafkaTopicPartition(topic, partition): OffsetAndMetadata(offset, "")
                for (topic, partition), offset in offsets.items()
            },
        ),
        timeout,
    )
    for (topic, partition), offset in offsets.items():
        tp = TP(topic, partition)
        known = consumer._committed_offset.get(tp)
        if known is None or known < offset:
            consumer._committed_offset[tp] = offset


def faust_view(consumer: Any, tp: TopicPartition) -> str:
    """What Faust's consumer believes of ``tp``: for the log line of a repair (why it stalled)."""
    key = TP(*tp)
    acked = consumer._acked.get(key) or []
    gaps = consumer._gap.get(key)
    return (
        f"committed {consumer._committed_offset.get(key)}, {len(acked)} acked waiting"
        f"{f' from {min(acked)}' if acked else ''}, read offset {consumer._read_offset.get(key)}"
        f", gaps {sorted((gap.begin, gap.end) for gap in gaps) if gaps else []}"
    )


class CommitRepair:
    """The watchdog's part: commit the applied inputs of partitions Faust left uncommitted."""

    def __init__(self, app: Any, repairs_counter: Any, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self._app = app
        self._lag = CommitLag()
        self._repairs = repairs_counter
        self._timeout = timeout

    async def tick(self, applied: Mapping[TopicPartition, int], *, generation: int) -> None:
        """``applied``: the ledger's next offset to apply of each assigned input partition."""
        consumer = self._app.consumer
        try:
            group = await group_offsets(consumer, applied, self._timeout)
        except Exception as error:  # a broker outage or a rebalance: the next tick asks again
            log.info("could not read the group's committed offsets: %s", describe(error))
            return
        due = self._lag.due(group, applied, generation=generation)
        if not due:
            return
        try:
            for tp, offset in sorted(due.items()):
                log.warning(
                    "%s[%d]: the group's committed offset stayed at %s while everything before "
                    "%d was applied; committing %d (Faust's view: %s)",
                    tp[0], tp[1], group[tp], offset, offset, faust_view(consumer, tp),
                )  # fmt: skip
            await commit_in_group(self._app, due, self._timeout)
        except Exception as error:  # revoked meanwhile, an outage: due again two looks later
            log.warning("committing the applied offsets failed: %s", describe(error))
            return
        for tp in due:
            self._repairs.labels(tp[0]).inc()
