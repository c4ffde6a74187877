"""The log probe against the real broker: holes in a partition are told from present offsets.

The input ledger trusts only this read of the log when offsets look skipped (see
``input_ledger.Probe``), so it is tried on the holes a real log has: the commit markers
of a transactional producer, and records removed from the start of the log.
"""

from __future__ import annotations

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from parcelwatch.streams.devtools.bench.processes import create_topic
from parcelwatch.streams.runtime.log_probe import first_offset_in_log
from parcelwatch.streams.runtime.settings import Settings
from tests.integration.conftest import BOOTSTRAP, BROKER


async def _send_in_transactions(topic: str, transactions: list[int]) -> list[int]:
    """Each transaction's records, then its commit marker (which takes an offset of its own)."""
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, transactional_id=f"{topic}-probe")
    await producer.start()
    offsets = []
    try:
        for size in transactions:
            async with producer.transaction():
                for number in range(size):
                    sent = await producer.send_and_wait(topic, f"{number}".encode(), key=b"k")
                    offsets.append(sent.offset)
    finally:
        await producer.stop()
    return offsets


async def test_commit_markers_are_found_absent_and_records_present(deployment):
    topic = f"{deployment.prefix}probe-transactions"
    await create_topic(BOOTSTRAP, topic, 1)
    offsets = await _send_in_transactions(topic, [2, 1, 3])
    assert offsets == [0, 1, 3, 5, 6, 7]  # 2 and 4 are commit markers
    settings = Settings(broker=BROKER, topic_prefix=deployment.prefix)

    found = {at: await first_offset_in_log(settings, topic, 0, at) for at in range(8)}

    assert found == {0: 0, 1: 1, 2: 3, 3: 3, 4: 5, 5: 5, 6: 6, 7: 7}


async def test_an_offset_removed_from_the_log_start_reads_from_the_new_start(deployment):
    topic = f"{deployment.prefix}probe-retention"
    await create_topic(BOOTSTRAP, topic, 1)
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP)
    await producer.start()
    try:
        for number in range(6):
            await producer.send_and_wait(topic, f"{number}".encode(), key=b"k")
    finally:
        await producer.stop()
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:  # what retention does to old segments
        await admin.delete_records({TopicPartition(topic, 0): RecordsToDelete(before_offset=4)})
    finally:
        await admin.close()
    settings = Settings(broker=BROKER, topic_prefix=deployment.prefix)

    assert await first_offset_in_log(settings, topic, 0, 1) == 4
    assert await first_offset_in_log(settings, topic, 0, 5) == 5
    # Nothing at or after the end: no answer, rather than a guess.
    assert await first_offset_in_log(settings, topic, 0, 6, timeout_seconds=1) is None
