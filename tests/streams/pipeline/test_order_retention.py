"""Retention of an order's rows through the pipeline: the ``~order~`` index and the ``~return~``
row give way to a marker at the order's check once it settled a retention ago, late inputs of the
order are counted as retired and change nothing, and the marker goes after its memory."""

from __future__ import annotations

from datetime import timedelta

import pytest

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.feedback import OrderShipmentLink
from parcelwatch.schemas.order_state import order_key, order_state_from_json, return_key
from parcelwatch.schemas.retired import is_retired, retired_from_json
from parcelwatch.schemas.return_parcels import ReturnParcelScan
from parcelwatch.schemas.state import stored_timer
from parcelwatch.schemas.timestamps import parse_rfc3339
from parcelwatch.schemas.types import Limits, ShipmentStatus
from parcelwatch.streams.core.retention import RetentionPolicy
from parcelwatch.streams.pipeline.processing import MessageOutcome, ShipmentProcessor
from tests.factories import TRACKING, at, order
from tests.feedback_factories import feedback
from tests.return_factories import ORDER_ID, RETURN_PARCEL
from tests.streams.pipeline.test_feedback_join import TOPICS, WAIT
from tests.streams.pipeline.test_returns_flow import CUSTOMER, T, ordered_and_delivered, step
from tests.streams.pipeline.test_returns_flow import Loop as ReturnsLoop

POLICY = RetentionPolicy(retention=timedelta(days=30), retired_memory=timedelta(days=180))
ROWS = (order_key(ORDER_ID), return_key(ORDER_ID))
HOUR = timedelta(hours=1)


class Loop(ReturnsLoop):
    """The returns loop with a processor that retires settled shipments and orders."""

    def __init__(self) -> None:
        super().__init__()
        self.processor = ShipmentProcessor(
            topics=TOPICS, limits=Limits(), store=self.store,
            publish=self._unused, publish_many=self._publish_many,
            clock=lambda: at(self.hours), metrics=self.metrics,
            analyzer=lambda: self.analyzer, feedback_wait=WAIT, retention=POLICY,
        )  # fmt: skip

    async def run_timer(self, until_hours: float) -> None:
        """Every check the timer asks for up to ``until_hours``, when it falls due."""
        while (due := self.next_due()) is not None and due <= until_hours:
            self.hours = max(self.hours, due)
            await self.sweep()
        self.hours = until_hours

    def next_due(self) -> float | None:
        moments = [stored_timer(value)[0] for value in self.store.values()]
        hours = [(parse_rfc3339(m) - at(0)) / HOUR for m in moments if m is not None]
        return min(hours, default=None)

    def outputs(self) -> int:
        return len([item for item in self.sent if item.topic not in self.internal])

    def events(self, topic: str, outcome: str) -> float:
        return self.metric("parcelwatch_events_total", topic=topic, outcome=outcome)


async def refunded(loop: Loop) -> None:
    """Delivered, feedback about it, a return asked for and refunded (no parcel sent back)."""
    await ordered_and_delivered(loop)
    loop.hours = 3
    await loop.send(feedback(hours=2.5), step(T.RETURN_REQUESTED, 2))
    await loop.settle()
    loop.hours = 5
    await loop.send(step(T.REFUND_ISSUED, 4))
    await loop.settle()


def order_end(loop: Loop) -> float:
    """When the order's retention ends: a retention after its index last changed (the feedback
    forwarded at hour 3 waits a week for later shipments of the order first)."""
    index = order_state_from_json(loop.store[order_key(ORDER_ID)])
    assert index.changed_at is not None
    return (max(index.changed_at, at(3) + WAIT) + POLICY.retention - at(0)) / HOUR


@pytest.fixture
def loop() -> Loop:
    return Loop()


async def test_a_settled_order_is_replaced_by_markers_at_the_end_of_its_retention(loop):
    await refunded(loop)
    assert [n["kind"] for n in loop.return_notices()] == ["refund_issued"]
    end = order_end(loop)
    await loop.run_timer(end - 0.01)
    assert not any(is_retired(loop.store[key]) for key in ROWS)
    said = loop.outputs()

    await loop.run_timer(end)
    markers = [retired_from_json(loop.store[key]) for key in ROWS]
    assert markers[0] == markers[1]
    assert markers[0].retired_at == at(end)
    assert markers[0].forget_at == at(end) + POLICY.retired_memory
    assert markers[0].home_partition == 0
    assert loop.outputs() == said  # removal says nothing


async def test_late_inputs_of_a_removed_order_are_counted_and_change_nothing(loop):
    await refunded(loop)
    await loop.run_timer(order_end(loop) + 1)
    stored, said = dict(loop.store), loop.outputs()

    assert await loop.send(step(T.REFUND_ISSUED, 4, event_id="refund-again")) == [
        MessageOutcome.RETIRED
    ]
    assert await loop.send(step(T.REFUND_ISSUED, 4)) == [MessageOutcome.RETIRED]  # redelivered
    assert await loop.send(feedback("fb-late", hours=loop.hours)) == [MessageOutcome.RETIRED]
    link = OrderShipmentLink(ORDER_ID, "1ZOTHER", 0, linked_at=at(loop.hours), customer=CUSTOMER)
    late_link = loop.message(TOPICS.order_shipments, ORDER_ID.encode(), encode(link))
    scanned = ReturnParcelScan(
        ORDER_ID, RETURN_PARCEL, "dhl", "rs-1", ShipmentStatus.DELIVERED, at(6), at(loop.hours)
    )
    late_scan = loop.message(TOPICS.return_scans, ORDER_ID.encode(), encode(scanned))
    assert await loop.process([late_link, late_scan]) == [MessageOutcome.RETIRED] * 2
    await loop.settle()

    assert loop.store == stored  # nothing re-created
    assert loop.outputs() == said and loop.on(TOPICS.dead_letter) == []
    assert loop.events(TOPICS.returns, "retired") == 2
    assert loop.events(TOPICS.customer_feedback, "retired") == 1
    assert loop.events(TOPICS.order_shipments, "retired") == 1
    assert loop.events(TOPICS.return_scans, "retired") == 1


async def test_the_markers_go_after_their_memory_and_the_id_then_starts_a_new_order(loop):
    await refunded(loop)
    end = order_end(loop)
    await loop.run_timer(end + POLICY.retired_memory / HOUR - 0.01)
    assert all(is_retired(loop.store[key]) for key in ROWS)
    await loop.run_timer(end + POLICY.retired_memory / HOUR)
    assert not any(key in loop.store for key in ROWS)  # deleted: tombstones in the changelog

    assert await loop.send(step(T.RETURN_REQUESTED, loop.hours, event_id="new-order")) == [
        MessageOutcome.APPLIED
    ]
    assert not is_retired(loop.store[return_key(ORDER_ID)])


async def test_an_owed_refund_keeps_the_order(loop):
    await ordered_and_delivered(loop)
    loop.hours = 3
    await loop.send(step(T.RETURN_REQUESTED, 2), step(T.REFUND_FAILED, 2.5))
    await loop.run_timer(24 * 400)
    assert not any(is_retired(loop.store[key]) for key in ROWS)
    assert await loop.send(step(T.REFUND_ISSUED, 24 * 400)) == [MessageOutcome.APPLIED]


async def test_a_shipment_on_the_orders_partition_holds_it_until_the_shipment_goes(loop):
    loop.hours = 1
    await loop.send(order(customer=CUSTOMER))  # never scanned: it expires after 30 days
    await loop.settle()
    await loop.run_timer(24 * 40)  # the order's own end (day 30) has passed
    assert not is_retired(loop.store[TRACKING])  # expired, in its retention
    assert not is_retired(loop.store[order_key(ORDER_ID)])
    await loop.run_timer(24 * 75)
    shipment = retired_from_json(loop.store[TRACKING])
    order_marker = retired_from_json(loop.store[order_key(ORDER_ID)])
    assert order_marker.settled_at == shipment.settled_at  # the order settled with it


async def test_a_shipment_on_another_partition_is_given_the_silence_horizon(loop):
    loop.hours = 1
    await loop.send(order(customer=CUSTOMER), partition=1)  # its link names partition 1
    await loop.settle()
    index = order_state_from_json(loop.store[order_key(ORDER_ID)])
    assert index.changed_at is not None and index.timer.home_partition == 0
    end = index.changed_at + POLICY.expired_after + POLICY.retention
    await loop.run_timer((end - at(0)) / HOUR - 0.01)
    assert not is_retired(loop.store[order_key(ORDER_ID)])
    await loop.run_timer((end - at(0)) / HOUR)
    assert retired_from_json(loop.store[order_key(ORDER_ID)]).retired_at == end
