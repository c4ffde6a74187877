"""Read the input log itself: which offset is really the first one at or after a given offset.

The input ledger asks this when offsets look skipped (``input_ledger.Probe``): a stream
that was sent back by a seek and a log with holes (transaction markers, compaction, retention)
look the same from inside the stream, but not from a fresh read of the partition.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition

from parcelwatch.streams.pipeline.error_text import describe
from parcelwatch.streams.runtime.kafka_admin import aiokafka_options
from parcelwatch.streams.runtime.settings import Settings

log = logging.getLogger(__name__)


LogPosition = tuple[str, int, int]  # topic, partition, offset


async def first_offset_in_log(
    settings: Settings, topic: str, partition: int, offset: int, timeout_seconds: float = 5.0
) -> int | None:
    """The offset of the first record at or after ``offset`` (the log start when ``offset`` was
    removed by retention); None when the broker gave no record in time or could not be asked."""
    position = (topic, partition, offset)
    found = await first_offsets_in_log(settings, [position], timeout_seconds)
    return found[position]


async def first_offsets_in_log(
    settings: Settings, positions: Sequence[LogPosition], timeout_seconds: float = 5.0
) -> dict[LogPosition, int | None]:
    """``first_offset_in_log`` for many positions, with one consumer (a worker's first batch asks
    where each of its partitions starts)."""
    found: dict[LogPosition, int | None] = dict.fromkeys(positions)
    if not positions:
        return found
    consumer = AIOKafkaConsumer(
        **aiokafka_options(settings),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # an offset below the log start reads from the start
        isolation_level="read_uncommitted",  # as the worker's consumer reads
        max_poll_records=1,
    )
    try:
        await consumer.start()
        for round_ in _rounds(found):
            await _read_round(consumer, round_, found, timeout_seconds)
    except Exception as error:  # the ledger asks again; a probe must never fail a batch
        log.warning("could not read the input log: %s", describe(error))
    finally:
        await consumer.stop()
    return found


def _rounds(positions: Iterable[LogPosition]) -> list[list[LogPosition]]:
    """Positions split so that no partition is read twice in one round."""
    rounds: list[list[LogPosition]] = []
    for position in positions:
        for round_ in rounds:
            if all(other[:2] != position[:2] for other in round_):
                round_.append(position)
                break
        else:
            rounds.append([position])
    return rounds


async def _read_round(
    consumer: AIOKafkaConsumer,
    positions: list[LogPosition],
    found: dict[LogPosition, int | None],
    timeout_seconds: float,
) -> None:
    waiting = {TopicPartition(topic, partition): (topic, partition, offset)
               for topic, partition, offset in positions}  # fmt: skip
    consumer.assign(list(waiting))
    for tp, (_, _, offset) in waiting.items():
        consumer.seek(tp, offset)
    deadline = time.monotonic() + timeout_seconds
    while waiting and (left := deadline - time.monotonic()) > 0:
        records = await consumer.getmany(*waiting, timeout_ms=int(left * 1000))
        for tp, batch in records.items():
            if batch and tp in waiting:
                found[waiting.pop(tp)] = batch[0].offset
                consumer.pause(tp)
