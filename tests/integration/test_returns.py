"""Returns and refunds against the real broker and a real worker process: the return parcel is
linked to its order through the internal topics, and the refund timer really runs."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from parcelwatch.schemas.returns import RefundMethod, ReturnEvent, ReturnEventType, ReturnReason
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.schemas.types import Item
from tests.factories import order_at
from tests.integration.conftest import collect, produce
from tests.integration.return_journey import (
    FAST_TIMERS,
    RETURN_JOURNEY,
    kinds_for,
    parcel_scan,
    return_step,
    returned_unrefunded,
    routed,
)

T = ReturnEventType


def _journey_steps(order_id: str, parcel: str, now: datetime) -> list[ReturnEvent]:
    return [
        return_step(
            order_id, T.RETURN_REQUESTED, now - timedelta(minutes=50),
            items=(Item("SKU-9", 1, "shoes"),), reason=ReturnReason.DEFECTIVE,
        ),
        return_step(
            order_id, T.RETURN_LABEL_CREATED, now - timedelta(minutes=45),
            return_tracking_number=parcel, carrier="dhl_express",
        ),
    ]  # fmt: skip


async def test_a_return_and_refund_journey_gives_exactly_the_expected_notifications(
    deployment, workers
):
    topics = deployment.topics
    workers.append(deployment.start_worker(extra_env=FAST_TIMERS))
    now = utc_now()
    suffix = uuid.uuid4().hex[:8].upper()
    outbound, parcel = f"1ZOUT{suffix}", f"JDRET{suffix}"
    order = order_at(outbound, now, locale="fr-FR", timezone="Europe/Paris")
    order_id = order.order_id
    kinds = kinds_for(parcel)

    await produce(routed(topics, [order]))
    await collect(
        topics.customer_notifications,
        lambda v: any(n["order_id"] == order_id for n in v),
        settle=0,
    )
    steps = _journey_steps(order_id, parcel, now)
    await produce(routed(topics, steps))
    await collect(topics.customer_notifications, lambda v: kinds(v) == RETURN_JOURNEY[:1], settle=0)
    scans = [
        parcel_scan(parcel, "picked_up", now - timedelta(minutes=40)),
        parcel_scan(parcel, "in_transit", now - timedelta(minutes=30)),
        parcel_scan(parcel, "delivered", now - timedelta(minutes=10)),
    ]
    # Redeliveries (a label, a scan) must change nothing.
    await produce(routed(topics, [*scans, steps[1], scans[0]]))
    await collect(topics.customer_notifications, lambda v: len(kinds(v)) >= 3, settle=0)
    refund = return_step(
        order_id, T.REFUND_ISSUED, now - timedelta(minutes=5),
        amount="89.00", currency="EUR", method=RefundMethod.STORE_CREDIT,
    )  # fmt: skip
    await produce(routed(topics, [refund, refund]))

    notifications = await collect(
        topics.customer_notifications, lambda v: "refund_issued" in kinds(v), settle=5
    )
    returned = [n for n in notifications if n["tracking_number"] == parcel]
    assert [n["kind"] for n in returned] == RETURN_JOURNEY
    assert len({n["notification_id"] for n in returned}) == len(RETURN_JOURNEY)
    assert all(n["order_id"] == order_id and n["locale"] == "fr" for n in returned)
    assert all(n["customer"]["id"] == "cust-1" for n in returned)
    assert "89,00" in returned[-1]["message"]
    # The outbound parcel only had its order confirmed; the return parcel had no shipment notice.
    outbound_kinds = [n["kind"] for n in notifications if n["tracking_number"] == outbound]
    assert outbound_kinds == ["order_confirmed"]


async def test_an_overdue_refund_raises_its_alert_from_the_timer(deployment, workers):
    topics = deployment.topics
    worker = deployment.start_worker(extra_env=FAST_TIMERS)
    workers.append(worker)
    now = utc_now()
    suffix = uuid.uuid4().hex[:8].upper()
    order_id, parcel = f"ORDER-LATE-{suffix}", f"JDLATE{suffix}"
    days = timedelta(days=1)
    # Back ten days ago, no refund since.
    events = returned_unrefunded(
        order_id, parcel, now - 12 * days, now - 11 * days, now - 10 * days
    )
    await produce(routed(topics, events))

    alerts = await collect(
        topics.shipment_alerts,
        lambda v: any(a["order_id"] == order_id and a["kind"] == "refund_overdue" for a in v),
        settle=4,
    )
    mine = [a for a in alerts if a["order_id"] == order_id]
    assert [a["kind"] for a in mine] == ["refund_overdue"]
    (overdue,) = mine
    assert overdue["tracking_number"] == parcel and overdue["status"] == "delivered"
    assert overdue["severity"] == "warning"
    assert worker.metrics()["parcelwatch_checks_requested_total"] >= 1
