"""Talking to the chaos broker from the test harness: produce in order, read a topic to its end,
and compare a consumer group's committed offsets with the end offsets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from parcelwatch.schemas.stored_value import load_stored
from parcelwatch.streams.devtools.localkafka import quiet_aiokafka
from parcelwatch.streams.pipeline.input_ledger import LEDGER_KEY_PREFIX, is_ledger_key

# Larger than the broker's message.max.bytes (~1 MB), so that the broker, not this client, is
# what limits poison messages.
MAX_REQUEST_BYTES = 2**21


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    key: bytes | None
    value: bytes


@dataclass(frozen=True, slots=True)
class Placed:
    """Where the broker put a produced message."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@contextlib.asynccontextmanager
async def producer(bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    # Idempotence keeps per-partition order even when a batch is retried.
    client = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        max_request_size=MAX_REQUEST_BYTES,
        linger_ms=5,
    )
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


async def produce(
    bootstrap: str, messages: Sequence[Message], *, window: int = 2000
) -> list[Placed]:
    """Send every message, in order (per-key order is what matters), acknowledged by the broker;
    returns where each one landed."""
    placed: list[Placed] = []
    async with producer(bootstrap) as client:
        for start in range(0, len(messages), window):
            chunk = messages[start : start + window]
            futures = [
                await client.send(message.topic, key=message.key, value=message.value)
                for message in chunk
            ]
            for message, metadata in zip(chunk, await asyncio.gather(*futures), strict=True):
                placed.append(Placed(message.topic, metadata.partition, metadata.offset))
    return placed


async def produce_at_rate(
    client: AIOKafkaProducer, messages: AsyncIterator[Message], rate: float, stop: asyncio.Event
) -> int:
    """Send at ``rate`` messages per second until the messages run out or ``stop`` is set."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    sent = 0
    pending: list[asyncio.Future[object]] = []
    async for message in messages:
        if stop.is_set():
            break
        wait = started + sent / rate - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        pending.append(await client.send(message.topic, key=message.key, value=message.value))
        sent += 1
        if len(pending) >= 200:
            await asyncio.gather(*pending)
            pending.clear()
    await asyncio.gather(*pending)
    return sent


async def read_to_end(
    bootstrap: str, topics: Sequence[str], timeout: float = 120.0
) -> list[Record]:
    """Every record of ``topics`` from the beginning up to their end offsets as of now."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=MAX_REQUEST_BYTES,
        fetch_max_bytes=8 * MAX_REQUEST_BYTES,
    )
    partitions = await partitions_of(bootstrap, topics)
    await consumer.start()
    records: list[Record] = []
    try:
        ends = await consumer.end_offsets(partitions)
        wanted = {tp: end for tp, end in ends.items() if end > 0}
        consumer.assign(list(wanted))
        for tp in wanted:
            consumer.seek(tp, 0)
        async with asyncio.timeout(timeout):
            while wanted:
                batch = await consumer.getmany(timeout_ms=500, max_records=5000)
                for tp, items in batch.items():
                    records.extend(
                        Record(tp.topic, tp.partition, item.offset, item.key, item.value)
                        for item in items
                        if item.offset < ends[tp]
                    )
                    if items and items[-1].offset + 1 >= ends[tp]:
                        wanted.pop(tp, None)
                        consumer.pause(tp)
    finally:
        await consumer.stop()
    return records


@dataclass(frozen=True)
class GroupProgress:
    """A consumer group's committed offsets against the end offsets of the topics it reads, and,
    once the commits say "done", what the worker's input ledger says it applied: Faust may
    commit offsets it has not applied (the worker then rewinds and applies them), so only the
    ledger in the table's changelog says an input was really applied."""

    ends: dict[TopicPartition, int]
    committed: dict[TopicPartition, int]
    applied: dict[TopicPartition, int] | None = None  # None: not read (commits still behind)

    def _done(self, tp: TopicPartition) -> int:
        committed = self.committed.get(tp, 0)
        return committed if self.applied is None else min(committed, self.applied.get(tp, 0))

    @property
    def lag_by_partition(self) -> dict[str, int]:
        return {
            f"{tp.topic}[{tp.partition}]": end - self._done(tp)
            for tp, end in sorted(self.ends.items())
        }

    @property
    def lag(self) -> int:
        return sum(max(0, end - self._done(tp)) for tp, end in self.ends.items())

    @property
    def committed_total(self) -> int:
        """Moves whenever the worker makes progress (commits, or applies what was committed)."""
        return sum(self.committed.get(tp, 0) for tp in self.ends) + sum(
            (self.applied or {}).get(tp, 0) for tp in self.ends
        )

    @property
    def drained(self) -> bool:
        return self.lag == 0


class GroupWatcher:
    """Reads a group's progress; lives across broker restarts (errors are "unknown", not fatal)."""

    def __init__(
        self,
        bootstrap: str,
        group: str,
        topics: Sequence[str],
        changelog_topic: str | None = None,  # None: commits only (cheap, for frequent sampling)
    ) -> None:
        self._bootstrap = bootstrap
        self._group = group
        self._topics = tuple(topics)
        self._changelog_topic = changelog_topic
        self._consumer: AIOKafkaConsumer | None = None
        self._admin: AIOKafkaAdminClient | None = None

    async def progress(self, timeout: float = 30.0) -> GroupProgress | None:
        try:
            async with asyncio.timeout(timeout):
                return await self._progress()
        except Exception:  # broker down or restarting: the caller tries again later
            await self.close()
            return None

    async def _progress(self) -> GroupProgress:
        if self._consumer is None or self._admin is None:
            self._consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, group_id=None)
            self._admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
            await self._consumer.start()
            await self._admin.start()
        partitions = await _partitions(self._admin, self._topics)
        ends = await self._consumer.end_offsets(partitions)
        offsets = await self._admin.list_consumer_group_offsets(self._group)
        committed = {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}
        progress = GroupProgress(dict(ends), committed)
        if progress.lag == 0 and self._changelog_topic is not None:
            # The commits say done: ask the ledger (a longer read).
            applied = await applied_offsets(self._bootstrap, self._changelog_topic)
            progress = GroupProgress(dict(ends), committed, applied)
        return progress

    async def close(self) -> None:
        consumer, admin = self._consumer, self._admin
        self._consumer = self._admin = None
        with quiet_aiokafka():
            if consumer is not None:
                with contextlib.suppress(Exception):
                    await consumer.stop()
            if admin is not None:
                with contextlib.suppress(Exception):
                    await admin.close()


async def applied_offsets(bootstrap: str, changelog_topic: str) -> dict[TopicPartition, int]:
    """The next offset to apply per input partition, from the input ledger's entries in the
    shipments table's changelog (``pipeline.input_ledger``); the latest entry wins."""
    applied: dict[TopicPartition, int] = {}
    for record in await read_to_end(bootstrap, [changelog_topic]):
        if record.key is None or record.value is None:
            continue
        key = orjson.loads(record.key)
        if isinstance(key, str) and is_ledger_key(key):
            partition = int(key.removeprefix(LEDGER_KEY_PREFIX))
            for topic, offset in load_stored(record.value)["next_offsets"].items():
                applied[TopicPartition(topic, partition)] = int(offset)
    return applied


async def partitions_of(bootstrap: str, topics: Sequence[str]) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return await _partitions(admin, topics)
    finally:
        await admin.close()


async def _partitions(admin: AIOKafkaAdminClient, topics: Sequence[str]) -> list[TopicPartition]:
    described = await admin.describe_topics(list(topics))
    return sorted(
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        if not topic.get("error_code")
        for partition in topic["partitions"]
    )


async def delete_topics_with_prefix(bootstrap: str, prefix: str) -> list[str]:
    """Delete every topic named ``prefix…`` (a run's inputs, outputs and changelogs): a local
    broker that keeps every run's partitions runs out of file handles."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = sorted(name for name in await admin.list_topics() if name.startswith(prefix))
        if names:
            await admin.delete_topics(names)
        return names
    finally:
        await admin.close()
