"""Topic creation against the real broker: co-partitioning is kept, or refused with a reason."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from parcelwatch.streams.runtime.kafka_admin import TopicLayoutError, ensure_topics
from parcelwatch.streams.runtime.settings import Settings
from tests.integration.conftest import BOOTSTRAP, BROKER


async def _create(topics: dict[str, int]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, count, 1) for name, count in topics.items()])
    finally:
        await admin.close()


async def _partition_counts(names: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    return {topic["topic"]: len(topic["partitions"]) for topic in described}


async def test_an_upgrade_adds_the_checks_topic_with_the_inputs_partition_count(deployment):
    settings = Settings(broker=BROKER, topic_prefix=deployment.prefix, partitions=5)
    topics = settings.topics
    await _create({topics.carrier_scans: 2, topics.orders: 2})  # an existing deployment

    created = await ensure_topics(settings)

    assert topics.shipment_checks in created and topics.customer_notifications in created
    counts = await _partition_counts([topics.shipment_checks, topics.customer_notifications])
    assert counts[topics.shipment_checks] == 2  # co-partitioned with the inputs, not 5
    assert counts[topics.customer_notifications] == 5


async def test_inputs_that_are_not_co_partitioned_are_refused(deployment):
    settings = Settings(broker=BROKER, topic_prefix=deployment.prefix, partitions=3)
    topics = settings.topics
    await _create({topics.carrier_scans: 3, topics.orders: 6})

    with pytest.raises(TopicLayoutError, match="partition counts differ"):
        await ensure_topics(settings)
