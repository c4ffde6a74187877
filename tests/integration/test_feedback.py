"""Customer feedback joined with what really happened, on the real broker with real workers.

The text is read by the worker's own analyzer (no fake): the texts here are plain enough that
any reasonable reading agrees, and the assertions are about the join and the flag.
"""

from __future__ import annotations

import signal
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.feedback import Feedback, FeedbackChannel
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.schemas.types import ExceptionReason, Order, Scan, ShipmentStatus
from tests.factories import order_at, scan_at
from tests.integration.conftest import collect, produce, wait_until_committed

DAMAGED_AND_LATE = (
    "The parcel came late and the box was crushed. Very disappointed with the delivery."
)


def _tracking(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:10].upper()


def _feedback(order_id: str, now: datetime, text: str, event_id: str | None = None) -> Feedback:
    return Feedback(
        event_id=event_id or f"fb-{uuid.uuid4().hex[:8]}",
        order_id=order_id,
        channel=FeedbackChannel.REVIEW,
        received_at=now,
        text=text,
    )


def _messages(topics, events) -> list[tuple[str, bytes, bytes]]:
    routed = []
    for event in events:
        if isinstance(event, Feedback):
            routed.append((topics.customer_feedback, event.order_id.encode(), encode(event)))
        elif isinstance(event, Order):
            routed.append((topics.orders, event.tracking_number.encode(), encode(event)))
        else:
            routed.append((topics.carrier_scans, event.tracking_number.encode(), encode(event)))
    return routed


def _order(tracking: str, now: datetime, order_id: str, promise_in_hours: float = 72) -> Order:
    return replace(order_at(tracking, now, promise_in_hours=promise_in_hours), order_id=order_id)


async def test_feedback_is_joined_with_its_shipments_history(deployment, workers):
    """A damaged, late parcel gives logistics_pain with its context; feedback that comes before
    its order is joined once the order arrives; an order with two shipments gives two."""
    topics = deployment.topics
    workers.append(deployment.start_worker())
    now = utc_now()

    damaged = _tracking("1ZDMG")
    damage_scan = Scan(
        event_id=f"{damaged}-damaged", tracking_number=damaged, carrier="ups",
        status=ShipmentStatus.EXCEPTION, occurred_at=now - timedelta(minutes=100),
        reason=ExceptionReason.DAMAGED,
    )  # fmt: skip
    await produce(
        _messages(
            topics,
            [
                _order(damaged, now, "ORDER-DMG", promise_in_hours=-1),  # promised an hour ago
                scan_at(damaged, "picked_up", now - timedelta(minutes=150)),
                damage_scan,
                scan_at(damaged, "delivered", now - timedelta(minutes=10)),
            ],
        )
    )
    early = _tracking("1ZEARLY")
    first, second = _tracking("1ZONE"), _tracking("1ZTWO")
    await produce(
        _messages(
            topics,
            [
                _feedback("ORDER-EARLY", now, "Where is my order??? Still nothing after weeks!"),
                _order(first, now, "ORDER-TWO"),
                _order(second, now, "ORDER-TWO"),
            ],
        )
    )
    await wait_until_committed(deployment)
    await produce(
        _messages(
            topics,
            [
                _feedback("ORDER-DMG", now, DAMAGED_AND_LATE),
                _feedback("ORDER-TWO", now, "Both parcels arrived quickly, thank you!"),
            ],
        )
    )
    values = await collect(topics.feedback_flagged, lambda found: len(found) >= 3, settle=3)
    assert not [item for item in values if item["order_id"] == "ORDER-EARLY"]  # still waiting

    (pain,) = [item for item in values if item["order_id"] == "ORDER-DMG"]
    assert pain["flag"]["reason"] == "logistics_pain", pain
    assert pain["tracking_number"] == damaged
    assert pain["delivery_sentiment"]["label"] == "negative"
    assert "damaged" in [topic["topic"] for topic in pain["topics"]]
    shipment = pain["shipment"]
    assert shipment["exceptions"] == ["damaged"]
    assert shipment["status"] == "delivered" and shipment["late"] is True
    assert "carrier_exception" in shipment["alert_kinds"]

    two = [item for item in values if item["order_id"] == "ORDER-TWO"]
    assert sorted(item["tracking_number"] for item in two) == sorted([first, second])
    assert {item["flag"]["reason"] for item in two} == {"praise"}

    await produce(_messages(topics, [_order(early, now, "ORDER-EARLY")]))
    values = await collect(
        topics.feedback_flagged,
        lambda found: any(item["order_id"] == "ORDER-EARLY" for item in found),
        settle=2,
    )
    (joined,) = [item for item in values if item["order_id"] == "ORDER-EARLY"]
    assert joined["tracking_number"] == early
    assert joined["shipment"]["tracking_number"] == early
    assert joined["sentiment"]["label"] == "negative"


async def test_feedback_for_an_order_never_seen_goes_out_unmatched_after_the_wait(
    deployment, workers
):
    topics = deployment.topics
    workers.append(
        deployment.start_worker(
            extra_env={
                "PARCELWATCH_FEEDBACK_WAIT_HOURS": "0.002",  # 7.2 s
                "PARCELWATCH_CHECK_INTERVAL_SECONDS": "1",
            }
        )
    )
    now = utc_now()
    await produce(_messages(topics, [_feedback("ORDER-GHOST", now, "Nunca llegó mi pedido.")]))
    values = await collect(topics.feedback_flagged, lambda found: len(found) >= 1, settle=3)
    (unmatched,) = values
    assert unmatched["flag"]["reason"] == "unmatched"
    assert unmatched["shipment"] is None
    assert unmatched["order_id"] == "ORDER-GHOST"
    assert unmatched["language"] == "es"


async def test_a_restart_keeps_waiting_feedback(deployment, workers):
    """Feedback waiting for its order survives a worker's death and an empty disk."""
    topics = deployment.topics
    first = deployment.start_worker("first")
    workers.append(first)
    now = utc_now()
    await produce(_messages(topics, [_feedback("ORDER-LATER", now, "Not received yet :(")]))
    await wait_until_committed(deployment)
    first.stop(signal.SIGKILL)

    second = deployment.start_worker("second")  # a new data dir: restored from the changelog
    workers.append(second)
    tracking = _tracking("1ZLATER")
    await produce(_messages(topics, [_order(tracking, utc_now(), "ORDER-LATER")]))
    values = await collect(topics.feedback_flagged, lambda found: len(found) >= 1, settle=3)
    (joined,) = values
    assert joined["tracking_number"] == tracking
    assert joined["shipment"]["tracking_number"] == tracking
