"""Read the input log itself: which offset is really the first one at or after a given offset.

The input ledger asks this when offsets look skipped (``input_ledger.Probe``): a stream
that was sent back by a seek and a log with holes (transaction markers, compaction, retention)
look the same from inside the stream, but not from a fresh read of the partition.
"""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaConsumer, TopicPartition

from parcelwatch.streams.pipeline.error_text import describe
from parcelwatch.streams.runtime.kafka_admin import aiokafka_options
from parcelwatch.streams.runtime.settings import Settings

log = logging.getLogger(__name__)


async def first_offset_in_log(
    settings: Settings, topic: str, partition: int, offset: int, timeout_seconds: float = 5.0
) -> int | None:
    """The offset of the first record at or after ``offset`` (the log start when ``offset`` was
    removed by retention); None when the broker gave no record in time or could not be asked."""
    tp = TopicPartition(topic, partition)
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
        consumer.assign([tp])
        consumer.seek(tp, offset)
        records = await consumer.getmany(tp, timeout_ms=int(timeout_seconds * 1000))
        found = records.get(tp, [])
        return found[0].offset if found else None
    except Exception as error:  # the ledger asks again; a probe must never fail a batch
        log.warning("could not read %s[%d] at %d: %s", topic, partition, offset, describe(error))
        return None
    finally:
        await consumer.stop()
