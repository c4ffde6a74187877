"""Restarts never skip input: every event is applied once, in order, whatever the disk kept.

Reproduces the first data-loss path of issue 8: a worker SIGKILLed while draining a backlog and
restarted on an empty data directory used to resume fetching before its table was restored from
the changelog, and Faust committed offsets it had never applied (its "gap" bookkeeping treats
skipped offsets as done). The check is on the table itself, read back from the changelog topic:
each shipment's final state must equal the offline replay of its events through the pure core.
"""

from __future__ import annotations

import asyncio
import signal
import time

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.order_state import is_order_key
from parcelwatch.schemas.state import state_to_json
from parcelwatch.schemas.stored_value import load_stored
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.streams.core.tracking import apply_event
from parcelwatch.streams.devtools.chaos.verify import WORKER_FIELDS, comparable_fields
from parcelwatch.streams.pipeline.input_ledger import LEDGER_KEY_PREFIX, is_ledger_key
from parcelwatch.streams.simulation import SimulationConfig, generate_journeys
from tests.integration.conftest import BOOTSTRAP, Deployment

# Fields (by dotted name, see ``stored_fields``) that depend on when and where an event was
# processed, not on what was applied, or that the worker's follow-up, support desk and model
# monitoring write (the core's replay runs none of them). The logs' entries are compared without
# their processing times.
PROCESSING_FIELDS = {"timer.home_partition", "timer.next_check_at", *WORKER_FIELDS}


def replayed_states(events) -> dict[str, dict]:
    states: dict = {}
    now = utc_now()
    for item in events:
        states[item.key.decode()] = apply_event(
            states.get(item.key.decode()), item.event, now
        ).state
    return {key: state_to_json(state) for key, state in states.items()}  # as the table stores it


async def produce_backlog(messages: list[tuple[str, bytes, bytes]]) -> None:
    """Fast, and in order per partition (aiokafka keeps one batch in flight per partition)."""
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", linger_ms=20)
    await producer.start()
    try:
        for topic, key, value in messages:
            await producer.send(topic, key=key, value=value)
        await producer.flush()
    finally:
        await producer.stop()


async def changelog_rows(deployment: Deployment) -> dict[bytes, bytes]:
    """The shipments table changelog's last value of every key, as bytes; deleted keys left out."""
    topic = f"{deployment.prefix}parcelwatch-shipments-changelog"
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=BOOTSTRAP, auto_offset_reset="earliest", enable_auto_commit=False,
        group_id=None,
    )  # fmt: skip
    await consumer.start()
    rows: dict[bytes, bytes | None] = {}
    try:
        ends = await consumer.end_offsets(list(consumer.assignment()))

        async def behind() -> bool:
            return any([await consumer.position(tp) < end for tp, end in ends.items()])

        while await behind():
            for records in (await consumer.getmany(timeout_ms=500)).values():
                rows.update((record.key, record.value) for record in records)
    finally:
        await consumer.stop()
    return {key: value for key, value in rows.items() if value is not None}


async def stored_table(deployment: Deployment) -> dict[str, dict]:
    """The last value of every key in the shipments table's changelog topic."""
    rows = await changelog_rows(deployment)
    return {orjson.loads(key): load_stored(value) for key, value in rows.items()}


async def applied_table(deployment: Deployment, timeout: float = 180) -> dict[str, dict]:
    """The table once its input ledger says every input message was applied, whatever the
    consumer group committed (a commit may run ahead of what was applied: that was the bug)."""
    topics = deployment.topics
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=None)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, partition)
            for topic in (topics.orders, topics.carrier_scans)
            for partition in range(deployment.partitions)
        ]
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    deadline = time.monotonic() + timeout
    while True:
        table = await stored_table(deployment)
        applied = {
            TopicPartition(topic, int(key.removeprefix(LEDGER_KEY_PREFIX))): offset
            for key, value in table.items()
            if is_ledger_key(key)
            for topic, offset in value["next_offsets"].items()
        }
        waiting = {tp: end for tp, end in ends.items() if end and applied.get(tp, 0) < end}
        if not waiting:
            # Shipments only: the ledger's entries and the orders' feedback index live there too.
            return {
                key: value
                for key, value in table.items()
                if not (is_ledger_key(key) or is_order_key(key))
            }
        assert time.monotonic() < deadline, f"not applied: {waiting} (applied: {applied})"
        await asyncio.sleep(1)


def differences(stored: dict, replayed: dict, order_ids: set[str]) -> list[str]:
    """The fields in which a stored state differs from the replayed one. Orders and scans come
    from two topics, so where the order's id stands among the scans' ids is not fixed: the scans'
    ids must be in the same order, and the sets equal."""
    stored, replayed = comparable_fields(stored), comparable_fields(replayed)
    names = [
        name
        for name in stored.keys() | replayed.keys()
        if name not in PROCESSING_FIELDS | {"seen_event_ids"}
        and stored.get(name) != replayed.get(name)
    ]
    seen, replayed_seen = stored["seen_event_ids"], replayed["seen_event_ids"]
    scans_only = [i for i in seen if i not in order_ids]
    if set(seen) != set(replayed_seen) or scans_only != [
        i for i in replayed_seen if i not in order_ids
    ]:
        names.append("seen_event_ids")
    return sorted(names)


def assert_as_replayed(stored: dict, expected: dict, events) -> None:
    assert stored.keys() == expected.keys()
    order_ids = {e.event.event_id for e in events if e.topic_kind == "order"}
    differing = {
        key: names
        for key, state in expected.items()
        if (names := differences(stored[key], state, order_ids))
    }
    assert differing == {}, f"{len(differing)} shipments differ from the replay: {differing}"[:2000]


async def wait_for_applied(worker, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while worker.events_total("applied") < count:
        assert time.monotonic() < deadline, f"fewer than {count} applied; log:\n{worker.log_tail()}"
        await asyncio.sleep(0.1)


async def test_sigkill_and_empty_disk_restarts_apply_every_event_once_in_order(deployment, workers):
    deployment.partitions = 4
    topics = deployment.topics
    events = generate_journeys(SimulationConfig(shipments=1500, seed=8), now=utc_now())
    messages = [(e.topic(topics), e.key, encode(e.event)) for e in events]
    expected = replayed_states(events)
    assert len(messages) > 10_000

    first = deployment.start_worker("first")
    workers.append(first)
    await produce_backlog(messages)
    await wait_for_applied(first, len(messages) * 3 // 10)
    first.stop(signal.SIGKILL)  # mid-backlog, between commits

    # A new disk, as a rescheduled container gets: the table comes back from the changelog.
    second = deployment.start_worker("second", data_dir=deployment.root / "empty-disk")
    workers.append(second)
    await wait_for_applied(second, 1)
    await asyncio.sleep(2)
    second.stop(signal.SIGKILL)  # and again while it catches up, keeping this disk

    third = deployment.start_worker("third", data_dir=deployment.root / "empty-disk")
    workers.append(third)
    stored = await applied_table(deployment)

    assert_as_replayed(stored, expected, events)
    # Caught up, the worker says it is ready again (nothing left to rewind or recover).
    deadline = time.monotonic() + 30
    while not third.ready():
        assert time.monotonic() < deadline, third.log_tail()
        await asyncio.sleep(0.5)


async def _commit_ahead(deployment: Deployment, tp: TopicPartition, by: int) -> None:
    """Commit the worker group's offset of ``tp`` ``by`` past where it stands, as a commit that
    ran ahead of the applied state leaves it (while no worker runs)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=BOOTSTRAP, group_id=f"{deployment.prefix}parcelwatch",
        enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    try:
        consumer.assign([tp])
        committed = await consumer.committed(tp) or 0
        end = (await consumer.end_offsets([tp]))[tp]
        await consumer.commit({tp: min(committed + by, end)})
    finally:
        await consumer.stop()


async def test_a_partition_rewound_behind_a_backlog_comes_back_soon_and_in_order(
    deployment, workers
):
    """A commit ran ahead of what was applied on one partition, and the worker starts on a
    backlog: the consumer fetches that partition from the commit, and the other partitions'
    records queue ahead. The rewind must take effect while they pass: before read offsets were
    fenced, records fetched before the seek made Faust drop the re-fetched ones (5 seeks here;
    on a loaded CI machine none took effect in 120 s and the watchdog stopped the worker). And
    back, the scans must not run ahead of the orders held for them (one shipment's
    missed-promise alert differed from the replay before they went on together)."""
    deployment.partitions = 4
    topics = deployment.topics
    events = generate_journeys(SimulationConfig(shipments=1500, seed=11), now=utc_now())
    messages = [(e.topic(topics), e.key, encode(e.event)) for e in events]
    expected = replayed_states(events)

    first = deployment.start_worker("first")
    workers.append(first)
    await produce_backlog(messages)
    await wait_for_applied(first, len(messages) // 10)
    first.stop()  # an orderly stop: what it applied and what it committed agree
    await _commit_ahead(deployment, TopicPartition(topics.carrier_scans, 0), 300)

    second = deployment.start_worker("second", data_dir=deployment.root / "first-data")
    workers.append(second)
    stored = await applied_table(deployment)

    assert_as_replayed(stored, expected, events)
    lines = second.log_path.read_text(errors="replace").splitlines()
    gaps = [line for line in lines if "rewinding" in line]
    assert len(gaps) == 1 and f"{topics.carrier_scans}[0]: offset" in gaps[0], gaps
    seeks = second.metrics()[f'parcelwatch_input_rewinds_total{{topic="{topics.carrier_scans}"}}']
    # One seek back over the gap and one when it is back (to go on with the orders held for
    # it); a third only if the rewound records took over 30 s to come through those queued
    # ahead. Unfenced, this run took 5 (asked again every 2 s while stale records came).
    assert seeks <= 3, seeks
