"""Retention against the real broker: a worker with a retention of seconds removes a delivered
shipment (a marker, then a tombstone in the changelog), and a late duplicate scan in between is
counted as retired and raises nothing; an order's index and refunded return go the same way, and
a late refund step in between tells the customer nothing again."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

import orjson
from aiokafka import AIOKafkaConsumer

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.order_state import order_key, return_key
from parcelwatch.schemas.returns import ReturnEventType
from parcelwatch.schemas.state import stored_version
from parcelwatch.schemas.stored_value import load_stored
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.streams.core.retention import MIN_RETENTION
from tests.factories import order_at, scan_at
from tests.integration.conftest import BOOTSTRAP, Deployment, collect, produce
from tests.integration.return_journey import routed
from tests.return_factories import return_step

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
                    (orjson.loads(r.key), None if r.value is None else load_stored(r.value))
                    for r in batch
                ]
    finally:
        await consumer.stop()
    return records


def values_of(records: list[Record], key: str) -> list[dict | None]:
    return [value for name, value in records if name == key]


def has_marker(records: list[Record], key: str) -> bool:
    return any(v is not None and "retired_version" in v for v in values_of(records, key))


def marker_then_tombstone(records: list[Record], key: str) -> None:
    """The row's last changelog values: its marker, then a tombstone, and no state after it."""
    values = values_of(records, key)
    assert values[-1] is None, values  # the marker's own end, so the changelog compacts
    first_marker = next(i for i, v in enumerate(values) if v is not None and "retired_version" in v)
    assert all(v is None or "retired_version" in v for v in values[first_marker:]), values


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
    assert any(v is not None and stored_version(v) for v in values_of(records, tracking))
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
    assert not any(v is not None and stored_version(v) for v in values[values.index(None) :])
    assert worker.events_total("dead_lettered") == 0
    after = await collect(
        [topics.shipment_alerts, topics.customer_notifications], lambda v: True, settle=2
    )
    assert after == said  # nothing raised or told again


async def test_an_orders_rows_are_removed_after_its_refund_and_a_late_refund_tells_nothing(
    deployment, workers
):
    topics = deployment.topics
    # A shipment on another partition than its order's counts as settled a silence horizon after
    # the order's last change: seconds here (the delivered shipment itself never goes silent).
    worker = deployment.start_worker(
        extra_env={**SHORT, "PARCELWATCH_EXPIRED_AFTER_HOURS": str(8 / 3600)}
    )
    workers.append(worker)
    now = utc_now()
    tracking = "1ZRETO" + uuid.uuid4().hex[:8].upper()
    order = order_at(tracking, now)
    order_id = order.order_id
    rows = (order_key(order_id), return_key(order_id))
    refund = return_step(
        ReturnEventType.REFUND_ISSUED, now - timedelta(minutes=10), f"{order_id}-refund",
        order_id=order_id,
    )  # fmt: skip
    requested = return_step(
        ReturnEventType.RETURN_REQUESTED, now - timedelta(minutes=20), f"{order_id}-request",
        order_id=order_id,
    )  # fmt: skip
    await produce(
        routed(topics, [order, scan_at(tracking, "delivered", now - timedelta(minutes=30))])
    )
    await collect(  # the order's link has reached its index: the customer is known
        topics.customer_notifications,
        lambda v: any(n["kind"] == "order_confirmed" and n["order_id"] == order_id for n in v),
        settle=0,
    )
    await produce(routed(topics, [requested, refund]))

    records = await changelog_until(deployment, lambda r: all(has_marker(r, k) for k in rows))
    for key in rows:  # each row held its state before its marker
        assert any(v is not None and "state_version" in v for v in values_of(records, key))
    said = await collect(
        [topics.shipment_alerts, topics.customer_notifications],
        lambda v: any(n.get("kind") == "refund_issued" for n in v),
        settle=0,
    )
    assert [n["kind"] for n in said if n.get("kind") == "refund_issued"] == ["refund_issued"]

    # Late: the refund again, and another refund step of the removed order.
    again = return_step(
        ReturnEventType.REFUND_ISSUED, now - timedelta(minutes=5), f"{order_id}-refund-2",
        order_id=order_id,
    )  # fmt: skip
    await produce(routed(topics, [refund, again]))
    deadline = time.monotonic() + 30
    while worker.events_total("retired") < 2:
        assert time.monotonic() < deadline, worker.log_tail()
        await asyncio.sleep(0.5)

    records = await changelog_until(
        deployment, lambda r: all(None in values_of(r, key) for key in rows)
    )
    for key in rows:
        marker_then_tombstone(records, key)
    assert worker.events_total("dead_lettered") == 0
    after = await collect(
        [topics.shipment_alerts, topics.customer_notifications], lambda v: True, settle=2
    )
    assert after == said  # nothing raised or told again
