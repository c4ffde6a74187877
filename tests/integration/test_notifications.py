"""Notifications and silence timers against the real broker and real worker processes.

Thresholds are shrunk to seconds through the same environment variables operators use, so a
"48 h" silence happens within the test, and the timers really run: no scan is sent to trigger them.
"""

from __future__ import annotations

import signal
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.schemas.types import Order, Scan
from tests.factories import order_at, scan_at
from tests.integration.conftest import collect, produce, wait_until_committed

FAST_TIMERS = {
    "PARCELWATCH_CHECK_INTERVAL_SECONDS": "1",
    "PARCELWATCH_QUIET_HOURS": "off",  # the tests must not depend on the time of day
}
JOURNEY = ["order_confirmed", "shipped", "out_for_delivery", "delivered", "review_request"]


def _messages(topics, events: list[Order | Scan]) -> list[tuple[str, bytes, bytes]]:
    return [
        (
            topics.orders if isinstance(event, Order) else topics.carrier_scans,
            event.tracking_number.encode(),
            encode(event),
        )
        for event in events
    ]


async def _confirm_orders(topics, orders: list[Order]) -> None:
    """Produce the orders and wait until each is confirmed to its customer.

    Orders and scans travel on two topics with no order across them: a scan applied before its
    order rightly skips ``order_confirmed`` (it only comes before the first physical scan), so a
    test that expects it must see the order applied before it produces the scans.
    """
    await produce(_messages(topics, orders))
    await collect(
        topics.customer_notifications,
        lambda v: sum(n["kind"] == "order_confirmed" for n in v) == len(orders),
        settle=0,
    )


def _journey(tracking: str, now: datetime) -> tuple[list[Order | Scan], list[Order | Scan]]:
    """(first half, second half) of a complete journey, all within the last three hours."""
    first: list[Order | Scan] = [
        order_at(tracking, now),
        scan_at(tracking, "info_received", now - timedelta(minutes=170)),
        scan_at(tracking, "picked_up", now - timedelta(minutes=150)),
        scan_at(tracking, "in_transit", now - timedelta(minutes=120)),
    ]
    second: list[Order | Scan] = [
        scan_at(tracking, "in_transit", now - timedelta(minutes=90), "-2"),
        scan_at(tracking, "out_for_delivery", now - timedelta(minutes=60)),
        scan_at(tracking, "delivered", now - timedelta(minutes=30)),
    ]
    return first, second


async def test_a_silent_parcel_raises_stalled_with_no_newscan_at(deployment, workers):
    topics = deployment.topics
    worker = deployment.start_worker(
        extra_env={
            **FAST_TIMERS,
            "PARCELWATCH_STALLED_AFTER_HOURS": "0.002",  # 7.2 s
            "PARCELWATCH_STALLED_AFTER_HOURS_BY_SERVICE": "",
        }
    )
    workers.append(worker)
    now = utc_now()
    tracking = "1ZSTALL" + uuid.uuid4().hex[:8].upper()
    await _confirm_orders(topics, [order_at(tracking, now)])
    await produce(_messages(topics, [scan_at(tracking, "picked_up", now)]))

    # Only the timer can raise it: nothing is produced after the pickup scan.
    alerts = await collect(
        topics.shipment_alerts, lambda v: any(a["kind"] == "stalled" for a in v), settle=5
    )
    stalled = [alert for alert in alerts if alert["kind"] == "stalled"]
    assert len(stalled) == 1, alerts  # the timer keeps ticking every second: still one alert
    assert stalled[0]["tracking_number"] == tracking
    assert stalled[0]["status"] == "picked_up"
    assert stalled[0]["source_event_id"] == f"{tracking}-picked_up"

    # The customer hears "delayed", linked to the alert; "shipped" came first.
    notifications = await collect(
        topics.customer_notifications, lambda v: any(n["kind"] == "delayed" for n in v), settle=2
    )
    assert [n["kind"] for n in notifications] == ["order_confirmed", "shipped", "delayed"]
    assert notifications[-1]["alert_id"] == stalled[0]["alert_id"]
    assert worker.metrics()["parcelwatch_checks_requested_total"] >= 1


async def test_a_full_journey_yields_exactly_the_expected_notifications(deployment, workers):
    topics = deployment.topics
    workers.append(
        deployment.start_worker(
            extra_env={**FAST_TIMERS, "PARCELWATCH_REVIEW_AFTER_HOURS": "0.002"}  # 7.2 s
        )
    )
    now = utc_now()
    tracking = "1ZJRNY" + uuid.uuid4().hex[:8].upper()
    first, second = _journey(tracking, now)
    late_out_for_delivery = scan_at(tracking, "out_for_delivery", now - timedelta(minutes=45), "-x")
    # Duplicates and a scan reported after "delivered" must change nothing.
    await _confirm_orders(topics, [first[0]])
    events = [*first[1:], first[2], *second, second[1], late_out_for_delivery, first[0]]
    await produce(_messages(topics, events))

    notifications = await collect(
        topics.customer_notifications,
        lambda v: any(n["kind"] == "review_request" for n in v),
        settle=5,
    )
    assert [n["kind"] for n in notifications] == JOURNEY
    assert len({n["notification_id"] for n in notifications}) == len(JOURNEY)
    assert all(n["tracking_number"] == tracking and n["locale"] == "en" for n in notifications)
    assert all(n["customer"]["channels"] == ["email"] for n in notifications)
    shipped = notifications[1]
    assert shipped["expected_delivery_source"] == "promise"
    assert "on its way with UPS" in shipped["message"]


async def test_a_worker_killed_mid_journey_sends_nothing_twice(deployment, workers):
    topics = deployment.topics
    env = {**FAST_TIMERS, "PARCELWATCH_REVIEW_AFTER_HOURS": "0.003"}  # 10.8 s
    now = utc_now()
    trackings = [f"1ZKILL{index:03d}{uuid.uuid4().hex[:6].upper()}" for index in range(30)]
    halves = [_journey(tracking, now) for tracking in trackings]
    first_halves = [event for first, _ in halves for event in first]
    second_halves = [event for _, second in halves for event in second]

    victim = deployment.start_worker("victim", extra_env=env)
    workers.append(victim)
    await _confirm_orders(topics, [event for event in first_halves if isinstance(event, Order)])
    await produce(_messages(topics, [event for event in first_halves if isinstance(event, Scan)]))
    await collect(
        topics.customer_notifications,
        lambda v: sum(n["kind"] == "shipped" for n in v) == len(trackings),
        settle=0,
    )
    await wait_until_committed(deployment)
    victim.stop(signal.SIGKILL)

    # A new worker on an empty disk: the sent-state comes back from the changelog. The first
    # halves are sent again, as a producer retrying after an outage would.
    survivor = deployment.start_worker(
        "survivor", data_dir=deployment.root / "fresh-disk", extra_env=env
    )
    workers.append(survivor)
    await produce(_messages(topics, [*first_halves, *second_halves]))
    notifications = await collect(
        topics.customer_notifications,
        lambda v: sum(n["kind"] == "review_request" for n in v) == len(trackings),
        timeout=150,
        settle=5,
    )
    ids = [n["notification_id"] for n in notifications]
    assert len(ids) == len(set(ids)), "a notification was sent twice"
    by_shipment = defaultdict(list)
    for notification in notifications:
        by_shipment[notification["tracking_number"]].append(notification["kind"])
    assert by_shipment == {tracking: JOURNEY for tracking in trackings}
