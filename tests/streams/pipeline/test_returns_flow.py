"""Returns and refunds through the pipeline, with a dict as the table and a list as the topics.

The fake broker hands the internal topics' messages back to the processor, as Kafka would, so a
return travels the whole way: returns -> order side -> return-parcels -> parcel side ->
return-scans -> order side -> customer-notifications / shipment-alerts.
"""

from __future__ import annotations

import pytest

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.order_state import return_key
from parcelwatch.schemas.returns import ReturnEvent, ReturnEventType
from parcelwatch.schemas.state import Direction, state_from_json
from parcelwatch.schemas.types import (
    RETURN_NOTIFICATION_KINDS,
    Customer,
    Item,
    NotificationChannel,
    Scan,
    ShipmentCheck,
)
from parcelwatch.streams.core.returns import return_state_from_json
from parcelwatch.streams.pipeline.messages import InputMessage, OutputMessage
from parcelwatch.streams.pipeline.processing import MessageOutcome
from parcelwatch.streams.runtime.timers import CheckSweeper
from tests.factories import at, order, scan
from tests.return_factories import ORDER_ID, RETURN_PARCEL, return_step
from tests.streams.pipeline.test_feedback_join import TOPICS
from tests.streams.pipeline.test_feedback_join import Loop as FeedbackLoop

CUSTOMER = Customer("cust-7", "de-DE", "Europe/Berlin", (NotificationChannel.EMAIL,))
T = ReturnEventType


def step(kind: ReturnEventType, hours: float, **fields) -> ReturnEvent:
    event_id = fields.pop("event_id", f"{kind.value}-{hours}")
    return return_step(kind, at(hours), event_id, **fields)


def parcel(status: str, hours: float) -> Scan:
    return scan(status, hours, tracking_number=RETURN_PARCEL, carrier="dhl")


class Loop(FeedbackLoop):
    """The feedback join's loop, with the returns' internal topics fed back too, every input
    kept for redelivery, and the timer's sweep."""

    internal = frozenset(
        {
            TOPICS.order_shipments,
            TOPICS.shipment_feedback,
            TOPICS.return_parcels,
            TOPICS.return_scans,
            TOPICS.shipment_checks,
        }
    )

    def __init__(self) -> None:
        super().__init__(hours=0)
        self.inputs: list[InputMessage] = []

    def route(self, event) -> tuple[str, str]:
        if isinstance(event, ReturnEvent):
            return TOPICS.returns, event.order_id
        return super().route(event)

    async def process(self, messages: list[InputMessage]) -> list[MessageOutcome]:
        self.inputs.extend(messages)
        return await super().process(messages)

    async def send_raw(self, topic: str, key: bytes, value: bytes) -> MessageOutcome:
        (outcome,) = await self.process([self.message(topic, key, value)])
        return outcome

    async def sweep(self) -> int | None:
        """One timer sweep over the table; its checks are fed back like Kafka would."""
        sweeper = CheckSweeper(
            table=self.store, send_check=self._send_check, clock=lambda: at(self.hours),
            metrics=self.metrics, interval_seconds=1,
        )  # fmt: skip
        asked = await sweeper.sweep()
        await self.settle()
        return asked

    async def _send_check(self, key: str, value: bytes, partition: int | None) -> None:
        self.sent.append(OutputMessage(TOPICS.shipment_checks, key.encode(), value, partition))

    async def redeliver_everything(self) -> None:
        """Every input and internal message again, in order (a consumer group reset)."""
        for item in list(self.inputs):
            await self.processor.process_batch([item])

    def return_notices(self) -> list[dict]:
        kinds = {kind.value for kind in RETURN_NOTIFICATION_KINDS}
        return [n for n in self.on(TOPICS.customer_notifications) if n["kind"] in kinds]

    def return_alerts(self) -> list[dict]:
        return [a for a in self.on(TOPICS.shipment_alerts) if a["order_id"] == ORDER_ID]

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


async def ordered_and_delivered(loop: Loop) -> None:
    loop.hours = 1
    await loop.send(order(customer=CUSTOMER, items=(Item("SKU-1", 1, "shoes"),)))
    await loop.send(scan("delivered", 0.5))
    await loop.settle()


async def returned_parcel(loop: Loop) -> None:
    """Request, label, a scan of the parcel before the link reaches it, then its way back."""
    await ordered_and_delivered(loop)
    loop.hours = 4
    await loop.send(step(T.RETURN_REQUESTED, 2), step(T.RETURN_LABEL_CREATED, 3))
    loop.hours = 6
    await loop.send(parcel("picked_up", 5))  # the link is still on its way
    await loop.settle()
    loop.hours = 31  # 16:00 UTC, 17:00 in Berlin
    await loop.send(parcel("in_transit", 10), parcel("delivered", 30))
    await loop.settle()


@pytest.fixture
def loop() -> Loop:
    return Loop()


async def test_a_return_journey_tells_each_milestone_once_in_the_customers_language(loop):
    await returned_parcel(loop)
    loop.hours = 33
    assert await loop.send(step(T.REFUND_ISSUED, 32)) == [MessageOutcome.APPLIED]
    await loop.settle()

    notices = loop.return_notices()
    assert [n["kind"] for n in notices] == [
        "return_label_ready", "return_in_transit", "return_received", "refund_issued",
    ]  # fmt: skip
    assert len({n["notification_id"] for n in notices}) == 4
    assert {n["locale"] for n in notices} == {"de"}
    assert {n["tracking_number"] for n in notices} == {RETURN_PARCEL}
    assert {n["customer"]["id"] for n in notices} == {"cust-7"}
    assert [n["status"] for n in notices] == [
        "info_received", "in_transit", "delivered", "delivered",
    ]  # fmt: skip
    refund = notices[-1]
    assert "49,90" in refund["message"] and ORDER_ID in refund["message"]
    # The return parcel is not a delivery to the customer: no shipment notices about it.
    assert all(
        n["kind"] in {k.value for k in RETURN_NOTIFICATION_KINDS}
        for n in loop.on(TOPICS.customer_notifications)
        if n["tracking_number"] == RETURN_PARCEL
    )
    parcel_state = state_from_json(loop.store[RETURN_PARCEL])
    assert parcel_state.direction is Direction.RETURN
    assert parcel_state.return_of is not None and parcel_state.return_of.order_id == ORDER_ID
    assert parcel_state.timer.next_check_at is None
    stored = return_state_from_json(loop.store[return_key(ORDER_ID)])
    assert stored.received_at == at(30) and stored.in_transit_at == at(5)
    assert loop.metric("parcelwatch_refund_seconds_count") == 1
    assert loop.metric("parcelwatch_refund_seconds_sum") == 2 * 3600
    assert loop.metric("parcelwatch_returns_total", carrier="ups", category="shoes",
                       reason="size_or_fit") == 1  # fmt: skip
    assert loop.metric("parcelwatch_deliveries_by_carrier_total", carrier="ups") == 1
    assert loop.metric("parcelwatch_deliveries_by_carrier_total", carrier="other") == 0


async def test_redelivering_every_message_changes_nothing(loop):
    await returned_parcel(loop)
    loop.hours = 33
    await loop.send(step(T.REFUND_ISSUED, 32), step(T.REFUND_FAILED, 32.5))
    await loop.settle()
    sent, table = list(loop.sent), dict(loop.store)
    ledger_free = {key: value for key, value in table.items() if not key.startswith("~ledger")}

    await loop.redeliver_everything()
    await loop.settle()

    outward = {TOPICS.customer_notifications, TOPICS.shipment_alerts, TOPICS.dead_letter}
    assert [m for m in loop.sent[len(sent) :] if m.topic in outward] == []
    assert {k: v for k, v in loop.store.items() if not k.startswith("~ledger")} == ledger_free
    assert loop.metric("parcelwatch_returns_total", carrier="ups", category="shoes",
                       reason="size_or_fit") == 1  # fmt: skip


async def test_a_failed_refund_raises_one_critical_alert_naming_the_return_parcel(loop):
    await ordered_and_delivered(loop)
    loop.hours = 4
    await loop.send(step(T.RETURN_REQUESTED, 2), step(T.RETURN_LABEL_CREATED, 3))
    await loop.send(step(T.REFUND_FAILED, 3.8))
    await loop.send(step(T.REFUND_FAILED, 3.8))  # redelivered
    await loop.settle()

    (alert,) = loop.return_alerts()
    assert alert["kind"] == "refund_failed" and alert["severity"] == "critical"
    assert alert["tracking_number"] == RETURN_PARCEL and alert["carrier"] == "dhl"
    assert alert["source_event_id"] == "refund_failed-3.8"
    assert [n["kind"] for n in loop.return_notices()] == ["return_label_ready"]


async def test_an_overdue_refund_gives_one_delay_notice_and_one_alert_from_the_timer(loop):
    await returned_parcel(loop)  # back on Saturday 21 Nov, 15:00 UTC
    loop.hours = 32
    await loop.sweep()
    assert loop.return_alerts() == []  # nothing due yet
    assert loop.metric("parcelwatch_refunds_open", age="lt_1d") == 1

    loop.hours = 7 * 24 + 7  # Friday 27 Nov, 16:00 UTC: five business days and an hour later
    await loop.sweep()
    (alert,) = loop.return_alerts()
    assert alert["kind"] == "refund_overdue" and alert["tracking_number"] == RETURN_PARCEL
    assert alert["source_event_id"] == f"{RETURN_PARCEL}-delivered-30"
    assert [n["kind"] for n in loop.return_notices()][-1] == "refund_delayed"
    assert loop.metric("parcelwatch_refunds_open", age="3d_7d") == 1

    loop.hours += 2
    await loop.sweep()
    await loop.redeliver_everything()
    await loop.settle()
    assert len(loop.return_alerts()) == 1
    assert [n["kind"] for n in loop.return_notices()].count("refund_delayed") == 1


async def test_a_refund_owed_past_the_second_limit_opens_one_support_case(loop):
    await returned_parcel(loop)  # back on Saturday 21 Nov, 15:00 UTC
    loop.hours = 7 * 24 + 7  # five business days: the refund is overdue, no case yet
    await loop.sweep()
    assert loop.on(TOPICS.support_escalations) == []

    loop.hours = 14 * 24 + 7  # Friday 4 Dec, 16:00 UTC: ten business days and an hour later
    await loop.sweep()
    (case,) = loop.on(TOPICS.support_escalations)
    assert case["reason"] == "refund_overdue" and case["suggested_resolution"] == "refund"
    assert case["order_id"] == ORDER_ID and case["customer"]["id"] == CUSTOMER.id
    assert case["context"]["returns"]["order_id"] == ORDER_ID
    # The order's shipment is on this (the only) worker: its lookup answer comes along.
    assert case["context"]["shipment"]["order"]["order_id"] == ORDER_ID
    assert (
        loop.metric(
            "parcelwatch_escalations_total", reason="refund_overdue", priority=case["priority"]
        )
        == 1
    )

    loop.hours += 24
    await loop.sweep()
    await loop.redeliver_everything()
    await loop.settle()
    assert [c["case_id"] for c in loop.on(TOPICS.support_escalations)] == [case["case_id"]]


async def test_quiet_hours_hold_a_notice_until_their_end(loop):
    await ordered_and_delivered(loop)
    loop.hours = 12  # 21:00 UTC, 22:00 in Berlin
    await loop.send(step(T.RETURN_REQUESTED, 11), step(T.RETURN_LABEL_CREATED, 11.5))
    await loop.settle()
    assert loop.return_notices() == []
    held = return_state_from_json(loop.store[return_key(ORDER_ID)])
    assert held.timer.next_check_at == at(22)  # 08:00 in Berlin
    assert held.notified == ()

    loop.hours = 21
    assert await loop.sweep() == 0
    loop.hours = 22.5
    assert await loop.sweep() == 1
    (notice,) = loop.return_notices()
    assert notice["kind"] == "return_label_ready"
    assert notice["created_at"] == at(22.5).isoformat()


async def test_notices_wait_for_the_orders_customer(loop):
    loop.hours = 4
    await loop.send(step(T.RETURN_REQUESTED, 2), step(T.RETURN_LABEL_CREATED, 3))
    await loop.settle()
    assert loop.return_notices() == []
    loop.hours = 5
    await loop.send(order(customer=CUSTOMER))
    await loop.settle()
    assert [n["kind"] for n in loop.return_notices()] == ["return_label_ready"]


@pytest.mark.parametrize(
    ("payload", "key", "reason"),
    [
        (step(T.REFUND_ISSUED, 2, amount=None), ORDER_ID, "missing_field"),
        (step(T.RETURN_REQUESTED, 2, reason=None, items=()), ORDER_ID, "missing_field"),
        (step(T.RETURN_CANCELLED, 2), "A-9999", "key_mismatch"),
        (b"{not json", ORDER_ID, "malformed_json"),
        (step(T.REFUND_ISSUED, 2, amount="12,50"), ORDER_ID, "invalid_value"),
    ],
)
async def test_invalid_return_events_are_dead_lettered_with_their_reason(
    loop, payload, key, reason
):
    value = payload if isinstance(payload, bytes) else encode(payload)
    loop.hours = 4
    outcome = await loop.send_raw(TOPICS.returns, key.encode(), value)
    assert outcome is MessageOutcome.DEAD_LETTERED
    (dead,) = loop.on(TOPICS.dead_letter)
    assert dead["reason"] == reason and dead["source_topic"] == TOPICS.returns
    assert return_key(ORDER_ID) not in loop.store


async def test_an_order_check_without_a_return_changes_nothing(loop):
    loop.hours = 4
    check = ShipmentCheck(tracking_number=None, requested_at=at(4), order_id=ORDER_ID)
    outcome = await loop.send_raw(TOPICS.shipment_checks, ORDER_ID.encode(), encode(check))
    assert outcome is MessageOutcome.UNCHANGED
    assert loop.sent == []


async def test_scans_of_a_replaced_return_parcel_are_not_folded_in(loop):
    await ordered_and_delivered(loop)
    loop.hours = 4
    await loop.send(step(T.RETURN_REQUESTED, 2), step(T.RETURN_LABEL_CREATED, 3))
    await loop.settle()
    await loop.send(
        step(T.RETURN_LABEL_CREATED, 3.5, return_tracking_number="RT000000002", carrier="dpd")
    )
    await loop.settle()
    await loop.send(parcel("in_transit", 3.8))  # the first, replaced parcel moves after all
    await loop.settle()
    forwarded = [m for m in loop.inputs if m.topic == TOPICS.return_scans]
    assert len(forwarded) == 1
    stored = return_state_from_json(loop.store[return_key(ORDER_ID)])
    assert stored.return_tracking_number == "RT000000002" and stored.in_transit_at is None
    assert loop.metric("parcelwatch_events_total", topic=TOPICS.return_scans,
                       outcome="unchanged") == 1  # fmt: skip


async def test_the_stored_return_state_reads_back_from_the_tables_json_object(loop):
    await loop.send(step(T.RETURN_REQUESTED, 2), step(T.RETURN_LABEL_CREATED, 3))
    stored = loop.store[return_key(ORDER_ID)]
    assert isinstance(stored, dict)  # what the Faust table holds
    state = return_state_from_json(stored)
    assert state.timer.home_partition == 0
    assert return_state_from_json(encode(state)) == state
