"""A return end to end on the real broker across two workers of one app: the order id's partition
and the return parcel's belong to different workers, so the return link, the parcel's scans and
the lookups all cross between them. One worker pair (module scope) serves every test here; the
last test restarts one of them.

The ids are chosen by partition: the tests' producer (aiokafka's default partitioner, murmur2 of
the key) decides where each message goes, and a forwarded lookup (``X-Parcelwatch-Forwarded``)
is answered only by the key's owner (any other worker says 503), which tells who owns what.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiokafka.partitioner import DefaultPartitioner
from selenium.webdriver.common.by import By

from parcelwatch.schemas.returns import RefundMethod, ReturnEventType, ReturnReason
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.schemas.types import Item, Order
from parcelwatch.streams.runtime.page_links import link_signature
from parcelwatch.streams.runtime.table_routing import FORWARDED_HEADER
from tests.factories import order_at, scan_at
from tests.integration import return_journey as rj
from tests.integration.browser import headless_chromium
from tests.integration.conftest import (
    Deployment,
    WorkerProcess,
    collect,
    produce,
    wait_until_committed,
)
from tests.integration.lookup_client import get_json, until, without_time, words

T = ReturnEventType
TOKEN = "integration-returns-token-0123"
KEY = "integration-returns-page-key-0123456789"
MINUTE, DAY = timedelta(minutes=1), timedelta(days=1)
PARTITIONS = 3
ENV = {
    **rj.FAST_TIMERS,
    "PARCELWATCH_API_TOKENS": TOKEN,
    "PARCELWATCH_TRACKING_PAGE_KEY": KEY,
    # The overdue refund's notice dates from its due day, two weeks back here: told, not skipped
    # as old news (the default skips what happened over 72 h ago).
    "PARCELWATCH_NOTIFY_STALE_AFTER_HOURS": str(30 * 24),
}


@dataclass
class Pair:
    deployment: Deployment
    workers: list[WorkerProcess]
    owners: dict[int, int]  # partition -> index of the worker owning it


def partition_of(key: str) -> int:
    every = list(range(PARTITIONS))
    return DefaultPartitioner()(key.encode(), every, every)


def key_on(partition: int, make: Callable[[str], str]) -> str:
    """A fresh id (``make`` of a random suffix) whose messages land on ``partition``."""
    while True:
        key = make(uuid.uuid4().hex[:8].upper())
        if partition_of(key) == partition:
            return key


def answer_of(worker: WorkerProcess, path: str) -> tuple[int, dict[str, Any]]:
    return get_json(worker.port, path, TOKEN)


def owners_of(workers: list[WorkerProcess], timeout: float = 60) -> dict[int, int]:
    """Which worker owns each partition: a forwarded lookup of an id on it is answered (404, it
    is unknown) only by its owner; the others refuse it (503)."""

    async def settle() -> dict[int, int]:
        owners: dict[int, int] = {}
        probes = {p: key_on(p, lambda s: f"PROBE{s}") for p in range(PARTITIONS)}

        def found() -> bool:
            for partition, probe in probes.items():
                statuses = [
                    get_json(w.port, f"/v1/shipments/{probe}", TOKEN, {FORWARDED_HEADER: "1"})[0]
                    for w in workers
                ]
                answering = [i for i, status in enumerate(statuses) if status != 503]
                if len(answering) != 1:
                    return False
                owners[partition] = answering[0]
            return True

        await until(found, timeout)
        return owners

    return asyncio.run(settle())


def both_ready(workers: list[WorkerProcess], timeout: float = 90) -> None:
    asyncio.run(until(lambda: all(w.ready() for w in workers), timeout))


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> Iterator[Pair]:
    deployment = Deployment(root=tmp_path_factory.mktemp("two-workers"), partitions=PARTITIONS)
    workers: list[WorkerProcess] = []
    try:
        workers.append(deployment.start_worker("first", extra_env=ENV))
        workers.append(deployment.start_worker("second", extra_env=ENV))
        both_ready(workers)
        owners = owners_of(workers)
        assert set(owners.values()) == {0, 1}, f"one worker owns every partition: {owners}"
        yield Pair(deployment, workers, owners)
    finally:
        for worker in workers:
            worker.stop(signal.SIGKILL)


@dataclass(frozen=True)
class Journey:
    order_id: str
    outbound: str
    parcel: str
    order_worker: int  # owner of the order id's partition
    parcel_worker: int  # owner of the return parcel's (and the outbound shipment's) partition
    notifications: list[dict[str, Any]]


def _split(pair: Pair) -> tuple[int, int]:
    """A partition of each worker: the order's, then the parcels'."""
    by_worker = {worker: partition for partition, worker in sorted(pair.owners.items())}
    return by_worker[0], by_worker[1]


async def _order_known(pair: Pair, order_id: str) -> None:
    """Until the order's index (keyed by order id, written from the order's shipment's
    partition) names its shipment: the return then finds the order's customer."""
    path = f"/v1/orders/{order_id}"
    await until(lambda: all(answer_of(w, path)[0] == 200 for w in pair.workers))


def _ids(tag: str, order: int, outbound: int, parcel: int) -> tuple[str, str, str]:
    """An order id, outbound and return tracking numbers on these partitions."""
    return (
        key_on(order, lambda s: f"A-{tag}-{s}"),
        key_on(outbound, lambda s: f"1Z{tag}{s}"),
        key_on(parcel, lambda s: f"JD{tag}{s}"),
    )


def _order(outbound: str, order_id: str, now: datetime, **where: Any) -> Order:
    return replace(order_at(outbound, now, **where), order_id=order_id)


@pytest.fixture(scope="module")
def journey(pair: Pair) -> Journey:
    """The whole return, published once: order, request, a parcel scan before the label, the
    label, the parcel's further scans (with redeliveries), the refund (twice)."""
    order_partition, parcel_partition = _split(pair)
    order_id, outbound, parcel = _ids("E2E", order_partition, parcel_partition, parcel_partition)
    topics = pair.deployment.topics
    now = utc_now()
    kinds = rj.kinds_for(parcel)

    async def publish() -> list[dict[str, Any]]:
        placed = _order(outbound, order_id, now, locale="de-DE", timezone="Europe/Berlin")
        await produce(rj.routed(topics, [placed]))
        await _order_known(pair, order_id)
        requested = rj.return_step(
            order_id, T.RETURN_REQUESTED, now - 50 * MINUTE,
            items=(Item("SKU-9", 1, "shoes"),), reason=ReturnReason.DEFECTIVE,
        )  # fmt: skip
        early = rj.parcel_scan(parcel, "picked_up", now - 40 * MINUTE)  # before its label is known
        await produce(rj.routed(topics, [requested, early]))
        await wait_until_committed(pair.deployment)
        label = rj.return_step(
            order_id, T.RETURN_LABEL_CREATED, now - 45 * MINUTE,
            return_tracking_number=parcel, carrier="dhl_express",
        )  # fmt: skip
        await produce(rj.routed(topics, [label]))
        await collect(topics.customer_notifications, lambda v: len(kinds(v)) >= 2, settle=0)
        later = [
            rj.parcel_scan(parcel, "in_transit", now - 30 * MINUTE),
            rj.parcel_scan(parcel, "delivered", now - 10 * MINUTE),
        ]
        await produce(rj.routed(topics, [*later, label, early]))  # redeliveries change nothing
        await collect(topics.customer_notifications, lambda v: len(kinds(v)) >= 3, settle=0)
        refund = rj.return_step(
            order_id, T.REFUND_ISSUED, now - 5 * MINUTE,
            amount="89.00", currency="EUR", method=RefundMethod.STORE_CREDIT,
        )  # fmt: skip
        await produce(rj.routed(topics, [refund, refund]))
        return await collect(
            topics.customer_notifications, lambda v: "refund_issued" in kinds(v), settle=5
        )

    notifications = asyncio.run(publish())
    return Journey(
        order_id, outbound, parcel, pair.owners[order_partition], pair.owners[parcel_partition],
        notifications,
    )  # fmt: skip


def _same_from_both(pair: Pair, path: str, ready: Callable[[dict[str, Any]], bool]):
    """The answer to ``path`` from each worker, once the first one's satisfies ``ready``."""
    first, second = pair.workers
    asyncio.run(until(lambda: ready(answer_of(first, path)[1])))
    (status_first, from_first), (status_second, from_second) = (
        answer_of(first, path),
        answer_of(second, path),
    )
    assert (status_first, status_second) == (200, 200)
    return from_first, from_second


def _refunded(body: dict[str, Any]) -> bool:
    returns = body.get("returns")
    return isinstance(returns, dict) and returns["status"] == "refund_issued"


def test_the_return_crosses_workers_and_both_answer_it_alike(pair, journey):
    assert journey.order_worker != journey.parcel_worker
    returned = [n for n in journey.notifications if n["tracking_number"] == journey.parcel]
    assert [n["kind"] for n in returned] == rj.RETURN_JOURNEY  # each once, in order
    assert len({n["notification_id"] for n in returned}) == len(rj.RETURN_JOURNEY)
    assert all(n["order_id"] == journey.order_id for n in returned)
    assert all(n["customer"]["id"] == "cust-1" and n["locale"] == "de" for n in returned)
    outbound = [
        n["kind"] for n in journey.notifications if n["tracking_number"] == journey.outbound
    ]
    assert outbound == ["order_confirmed"]

    order_first, order_second = _same_from_both(pair, f"/v1/orders/{journey.order_id}", _refunded)
    assert [without_time(a) for a in order_first["shipments"]] == [
        without_time(a) for a in order_second["shipments"]
    ]
    returns = order_first["returns"]
    assert order_second["returns"] == returns and order_first["unavailable"] == []
    assert returns["status"] == "refund_issued" and returns["refund_amount"] == "89.00"
    assert returns["refund_currency"] == "EUR" and returns["refund_method"] == "store_credit"
    assert returns["return_tracking_number"] == journey.parcel and returns["received_at"]
    assert [a["tracking_number"] for a in order_first["shipments"]] == [journey.outbound]

    shipment_first, shipment_second = _same_from_both(
        pair, f"/v1/shipments/{journey.outbound}", _refunded
    )
    assert without_time(shipment_first) == without_time(shipment_second)
    assert shipment_first["returns"] == returns
    assert shipment_first["answer"] == shipment_second["answer"]
    assert shipment_first["answer"].endswith(returns["answer"])

    parcel_first, parcel_second = _same_from_both(
        pair, f"/v1/shipments/{journey.parcel}", _refunded
    )
    assert without_time(parcel_first) == without_time(parcel_second)
    assert parcel_first["situation"] == "delivered"
    assert parcel_first["order"]["order_id"] == journey.order_id
    assert parcel_first["answer"].startswith(f"Your return parcel for order {journey.order_id}")
    assert parcel_first["returns"]["status"] == "refund_issued"
    assert [entry["status"] for entry in parcel_first["timeline"]] == [
        "picked_up", "in_transit", "delivered",
    ]  # fmt: skip


def test_the_outbound_shipments_page_shows_the_return(pair, journey, monkeypatch):
    order_owner = pair.workers[journey.order_worker]  # not the shipment's owner: both hop
    path = f"/v1/shipments/{journey.outbound}"
    asyncio.run(until(lambda: _refunded(answer_of(order_owner, path)[1])))
    returns = answer_of(order_owner, path)[1]["returns"]
    signature = link_signature(KEY.encode(), journey.outbound)
    browser = headless_chromium(monkeypatch, "de-DE,de")
    try:
        browser.get(f"http://127.0.0.1:{order_owner.port}/track/{journey.outbound}?sig={signature}")
        section = words(browser.find_element(By.ID, "returns").text)
    finally:
        browser.quit()
    assert words(returns["answer"]) in section and returns["locale"] == "de"
    assert journey.parcel in section and "89,00" in section


def _business_days_before(moment: datetime, days: int) -> datetime:
    counted = 0
    while counted < days:
        moment -= DAY
        counted += moment.weekday() < 5
    return moment


def _for_order(order_id: str) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    return lambda values: [value for value in values if value.get("order_id") == order_id]


def test_an_overdue_refund_is_alerted_told_and_escalated_once_across_a_restart(pair):
    order_partition, parcel_partition = _split(pair)
    # The outbound shipment on the order's partition: the order's owner holds its answer, which
    # goes into the case (a shipment on another worker's partition would be left out).
    order_id, outbound, parcel = _ids("LATE", order_partition, order_partition, parcel_partition)
    topics = pair.deployment.topics
    now = utc_now()
    received = _business_days_before(now, 15)
    placed = _order(outbound, order_id, received - 10 * DAY)
    events = [
        placed,
        scan_at(outbound, "delivered", received - 8 * DAY),
        # Back 15 business days ago, no refund since.
        *rj.returned_unrefunded(order_id, parcel, received - 5 * DAY, received - 3 * DAY, received),
    ]
    mine = _for_order(order_id)

    async def first_round() -> tuple[list, list, list]:
        await produce(rj.routed(topics, events[:2]))
        await _order_known(pair, order_id)  # the case names the order's customer
        await produce(rj.routed(topics, events[2:]))
        cases = mine(await collect(topics.support_escalations, lambda v: bool(mine(v)), settle=0))
        alerts = mine(
            await collect(
                topics.shipment_alerts,
                lambda v: any(a["kind"] == "refund_overdue" for a in mine(v)), settle=0,
            )
        )  # fmt: skip
        told = mine(
            await collect(
                topics.customer_notifications,
                lambda v: any(n["kind"] == "refund_delayed" for n in mine(v)), settle=3,
            )
        )  # fmt: skip
        return cases, alerts, told

    cases, alerts, told = asyncio.run(first_round())
    (case,) = cases
    assert case["reason"] == "refund_overdue" and case["priority"] == "high"
    assert case["tracking_number"] == outbound and case["customer"]["id"] == "cust-1"
    context = case["context"]
    assert context["returns"]["order_id"] == order_id
    assert context["returns"]["return_tracking_number"] == parcel
    assert context["returns"]["refund_status"] == "owed"
    assert context["shipment"]["tracking_number"] == outbound
    assert context["shipment"]["situation"] == "delivered"
    assert [a["kind"] for a in alerts if a["kind"] == "refund_overdue"] == ["refund_overdue"]
    assert [n["kind"] for n in told].count("refund_delayed") == 1

    # The order's owner restarts (its partitions move to the other worker and back), and the
    # return's last inputs are redelivered: nothing is raised, told or opened a second time.
    owner = pair.workers[pair.owners[order_partition]]
    owner.stop()
    owner.start()
    both_ready(pair.workers)
    pair.owners = owners_of(pair.workers)  # settled again (the split may differ)
    asyncio.run(produce(rj.routed(topics, events[-3:])))
    asyncio.run(wait_until_committed(pair.deployment, timeout=60))

    async def everything(topic: str) -> list[dict[str, Any]]:
        return mine(await collect(topic, lambda v: False, timeout=8, settle=0))

    async def second_round() -> tuple[list, list, list]:
        return (
            await everything(topics.support_escalations),
            await everything(topics.shipment_alerts),
            await everything(topics.customer_notifications),
        )

    again_cases, again_alerts, again_told = asyncio.run(second_round())
    assert [c["case_id"] for c in again_cases] == [case["case_id"]]
    assert sorted(a["alert_id"] for a in again_alerts) == sorted(a["alert_id"] for a in alerts)
    assert sorted(n["notification_id"] for n in again_told) == sorted(
        n["notification_id"] for n in told
    )
