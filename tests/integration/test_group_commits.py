"""The worker's own commits of applied inputs against the real broker and a real consumer group.

Faust's consumer thread is the one edge stood in for: its ``call_thread`` runs the call on the
test's loop, where the real aiokafka consumer lives. The coordinator request, the group's
generation and the stored offsets are the broker's.
"""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.types import TP
from prometheus_client import CollectorRegistry

from parcelwatch.streams.devtools.bench.processes import create_topic
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.runtime.group_commits import CommitRepair, group_offsets
from tests.integration.conftest import BOOTSTRAP
from tests.streams.runtime.consumer_stand_ins import App


async def _member_of_a_new_group(topic: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=BOOTSTRAP, group_id=f"{topic}-group", enable_auto_commit=False
    )
    await consumer.start()
    for _ in range(100):  # joined once it holds both partitions
        if len(consumer.assignment()) == 2:
            return consumer
        await asyncio.sleep(0.1)
    raise AssertionError("the consumer never joined its group")


async def test_a_partition_left_behind_is_committed_on_the_second_look():
    topic = f"group-commits-{uuid.uuid4().hex[:8]}"
    await create_topic(BOOTSTRAP, topic, 2)
    consumer = await _member_of_a_new_group(topic)
    try:
        await consumer.commit({TopicPartition(topic, 0): 3})
        assert await group_offsets(App(consumer).consumer, [(topic, 0), (topic, 1)]) == {
            (topic, 0): 3,
            (topic, 1): None,
        }
        app = App(consumer)
        app.consumer._committed_offset[TP(topic, 0)] = 9  # Faust believed it committed
        metrics = WorkerMetrics(CollectorRegistry())
        repair = CommitRepair(app, metrics.commit_repairs)
        applied = {(topic, 0): 9, (topic, 1): 4}

        await repair.tick(applied, generation=1)
        assert await group_offsets(app.consumer, applied) == {(topic, 0): 3, (topic, 1): None}

        await repair.tick(applied, generation=1)
        assert await group_offsets(app.consumer, applied) == applied
        assert app.producer.flushes == 1  # the changelog went out before the commit
        assert app.consumer._committed_offset[TP(topic, 1)] == 4
        assert metrics.commit_repairs.labels(topic)._value.get() == 2

        await repair.tick(applied, generation=1)  # caught up: nothing more to do
        assert metrics.commit_repairs.labels(topic)._value.get() == 2
    finally:
        await consumer.stop()


async def test_a_refused_commit_is_counted_nowhere_and_tried_again_later(caplog):
    """A partition the consumer does not hold (revoked meanwhile): aiokafka refuses the commit;
    the tick logs it, counts no repair, and the group's offset stays as it was."""
    topic = f"group-commits-{uuid.uuid4().hex[:8]}"
    other = f"{topic}-not-subscribed"
    await create_topic(BOOTSTRAP, topic, 2)
    await create_topic(BOOTSTRAP, other, 1)
    consumer = await _member_of_a_new_group(topic)
    try:
        app = App(consumer)
        metrics = WorkerMetrics(CollectorRegistry())
        repair = CommitRepair(app, metrics.commit_repairs)
        for _ in range(2):
            await repair.tick({(other, 0): 5}, generation=1)
        assert "committing the applied offsets failed" in caplog.text
        assert metrics.commit_repairs.labels(other)._value.get() == 0
        assert await group_offsets(app.consumer, [(other, 0)]) == {(other, 0): None}
    finally:
        await consumer.stop()
