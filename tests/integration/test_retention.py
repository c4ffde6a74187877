"""Retention against the real broker: a worker with a retention of seconds removes a delivered
shipment (a marker, then a tombstone in the changelog), and a late duplicate scan in between is
counted as retired and raises nothing."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

import orjson
from aiokafka import AIOKafkaConsumer

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.streams.core.retention import MIN_RETENTION
from tests.factories import order_at, scan_at
from tests.integration.conftest import BOOTSTRAP, Deployment, collect, produce

DAY_SECONDS = 86400
SHORT = {
    "PARCELWATCH_CHECK_INTERVAL_SECONDS": "1",
    "PARCELWATCH_QUIET_HOURS": "off",
    "PARCELWATCH_REVIEW_AFTER_HOURS": "0.0005",  # 1.8 s: the review request goes out first
    "PARCELWATCH_RETENTION_DAYS": str(2 / DAY_SECONDS),
    "PARCELWATCH_RETIRED_MEMORY_DAYS": str(25 / DAY_SECONDS),
}
Record = tuple[str, dict | None]  # key, value (None: a tombstone)


async def changelog_until(
    deployment: Deployment, done: Callable[[list[Record]], bool], timeout: float = 90
) -> list[Record]:
    """The shipments table's changelog records from the start, until ``done(records)``."""
    consumer = AIOKafkaConsumer(
        f"{deployment.prefix}parcelwatch-shipments-changelog", bootstrap_servers=BOOTSTRAP,
        auto_offset_reset="earliest", enable_auto_commit=False, group_id=None,
    )  # fmt: skip
    await consumer.start()
    records: list[Record] = []
    try:
        deadline = time.monotonic() + timeout
        while not done(records):
            assert time.monotonic() < deadline, f"changelog: not done in {timeout}s: {records}"
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records += [
                    (orjson.loads(r.key), None if r.value is None else orjson.loads(r.value))
                    for r in batch
                ]
    finally:
        await consumer.stop()
    return records


def values_of(records: list[Record], key: str) -> list[dict | None]:
    return [value for name, value in records if name == key]


async def test_a_delivered_shipment_is_removed_and_a_late_duplicate_raises_nothing(
    deployment, workers
):
    assert timedelta(seconds=2) >= MIN_RETENTION  # the documented minimum allows it
    topics = deployment.topics
    worker = deployment.start_worker(extra_env=SHORT)
    workers.append(worker)
    now = utc_now()
    tracking = "1ZRETN" + uuid.uuid4().hex[:8].upper()
    delivered = scan_at(tracking, "delivered", now - timedelta(minutes=30))
    journey = [
        (topics.orders, order_at(tracking, now)),
        (topics.carrier_scans, scan_at(tracking, "picked_up", now - timedelta(minutes=150))),
        (topics.carrier_scans, delivered),
    ]
    await produce([(topic, tracking.encode(), encode(event)) for topic, event in journey])

    def retired(records: list[Record]) -> bool:
        return any(v is not None and "retired_version" in v for v in values_of(records, tracking))

    records = await changelog_until(deployment, retired)
    assert any(v is not None and "state_version" in v for v in values_of(records, tracking))
    said = await collect(
        [topics.shipment_alerts, topics.customer_notifications],
        lambda v: any(n.get("kind") == "review_request" for n in v),
        settle=0,
    )

    # Late: the delivered scan again, and an exception scan from before delivery (applied, it
    # would raise a carrier_exception alert).
    late_exception = scan_at(tracking, "exception", now - timedelta(minutes=60))
    await produce(
        [(topics.carrier_scans, tracking.encode(), encode(event))
         for event in (delivered, late_exception)]
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while worker.events_total("retired") < 2:
        assert time.monotonic() < deadline, worker.log_tail()
        await asyncio.sleep(0.5)

    records = await changelog_until(deployment, lambda r: None in values_of(r, tracking))
    values = values_of(records, tracking)
    assert values[-1] is None  # the marker's own end: a tombstone, so the changelog compacts
    assert not any(v is not None and "state_version" in v for v in values[values.index(None) :])
    assert worker.events_total("dead_lettered") == 0
    after = await collect(
        [topics.shipment_alerts, topics.customer_notifications], lambda v: True, settle=2
    )
    assert after == said  # nothing raised or told again
