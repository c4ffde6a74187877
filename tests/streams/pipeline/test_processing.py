"""The message pipeline with hand-written fakes: a dict as the table, a list as the topics."""

from __future__ import annotations

import orjson
import pytest
from prometheus_client import CollectorRegistry

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.state import readable_stored
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import Customer, Limits, NotificationChannel
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.processing import InputMessage, MessageOutcome, ShipmentProcessor
from tests.factories import TRACKING, at, order, scan

TOPICS = TopicNames.with_prefix("t.")
KEY = TRACKING.encode()


class FakeBroker:
    """Records what was published, and what the table held at that moment."""

    def __init__(self, store: dict) -> None:
        self.store = store
        self.sent: list[tuple[str, bytes, dict, dict | None]] = []

    async def publish(self, topic: str, key: bytes, value: bytes) -> None:
        state_then = self.store.get(key.decode()) if topic == TOPICS.shipment_alerts else None
        self.sent.append((topic, key, orjson.loads(value), state_then))

    def on(self, topic: str) -> list[dict]:
        return [value for name, _, value, _ in self.sent if name == topic]


@pytest.fixture
def env():
    store: dict = {}
    broker = FakeBroker(store)
    registry = CollectorRegistry()
    processor = ShipmentProcessor(
        topics=TOPICS, limits=Limits(), store=store, publish=broker.publish,
        clock=lambda: at(500), metrics=WorkerMetrics(registry),
    )  # fmt: skip
    return processor, broker, store, registry


def message(event, topic=None, offset=0, key=KEY, value=None):
    topic = topic or (TOPICS.carrier_scans if hasattr(event, "status") else TOPICS.orders)
    return InputMessage(topic, 0, offset, key, value if value is not None else encode(event))


def count(registry, topic, outcome):
    return (
        registry.get_sample_value("parcelwatch_events_total", {"topic": topic, "outcome": outcome})
        or 0
    )


async def test_every_input_is_applied_duplicate_or_dead_lettered(env):
    processor, broker, _store, registry = env
    inputs = [
        message(order(24)),
        message(scan("exception", 5, "e1", reason="damaged")),
        message(scan("exception", 5, "e1", reason="damaged")),
        message(None, topic=TOPICS.carrier_scans, value=b"{broken"),
        message(scan("in_transit", 30, "e2")),
        message(scan("in_transit", 31, "e3"), key=b"WRONG-KEY"),
    ]
    outcomes = [await processor.process(item) for item in inputs]
    applied, duplicate, dead = (
        MessageOutcome.APPLIED, MessageOutcome.DUPLICATE, MessageOutcome.DEAD_LETTERED
    )  # fmt: skip
    assert outcomes == [applied, applied, duplicate, dead, applied, dead]
    total = sum(
        count(registry, topic, outcome.value)
        for topic in TOPICS.inputs
        for outcome in MessageOutcome
    )
    assert total == len(inputs)
    assert [alert["kind"] for alert in broker.on(TOPICS.shipment_alerts)] == [
        "carrier_exception", "missed_promise"
    ]  # fmt: skip
    assert [letter["reason"] for letter in broker.on(TOPICS.dead_letter)] == [
        "malformed_json", "key_mismatch"
    ]  # fmt: skip
    assert registry.get_sample_value("parcelwatch_dead_letters_total", {"reason": "key_mismatch"})


async def test_alert_is_published_before_the_state_that_records_it(env):
    processor, broker, store, _ = env
    await processor.process(message(scan("exception", 5, "e1", reason="lost")))
    (_, key, alert, state_then) = broker.sent[0]
    assert key == KEY
    assert state_then is None  # the table had not been written yet
    assert readable_stored(store[TRACKING])["outputs"]["open_episodes"] == [[alert["kind"], "e1"]]


async def test_unexpected_error_is_dead_lettered_not_raised(env):
    processor, broker, store, _registry = env
    store[TRACKING] = {"state_version": 999}  # e.g. written by a newer parcelwatch
    result = await processor.process(message(scan("in_transit", 1)))
    assert result is MessageOutcome.DEAD_LETTERED
    (letter,) = broker.on(TOPICS.dead_letter)
    assert letter["reason"] == "processing_error"
    assert "UnsupportedStateVersion" in letter["error"]


async def test_unknown_topic_is_dead_lettered(env):
    processor, broker, _, _ = env
    assert await processor.process(message(scan("in_transit", 1), topic="elsewhere")) is (
        MessageOutcome.DEAD_LETTERED
    )
    assert broker.on(TOPICS.dead_letter)[0]["reason"] == "unknown_topic"


async def test_deliveries_are_counted_once_by_promise_outcome(env):
    processor, _, _, registry = env
    await processor.process(message(order(24)))
    await processor.process(message(scan("delivered", 30, "d1")))
    await processor.process(message(scan("delivered", 30.5, "d2")))  # carrier repeats itself
    assert registry.get_sample_value("parcelwatch_deliveries_total", {"on_time": "false"}) == 1


async def test_logs_never_contain_payload_or_key(env, caplog):
    processor, _, _, _ = env
    secret = b'{"customer": {"id": "jane.doe@example.com"}}'
    await processor.process(message(None, topic=TOPICS.orders, key=b"jane", value=secret))
    assert "jane" not in caplog.text
    assert "dead-lettered" in caplog.text


class FakeScorer:
    """Risk = 0.9 for shipments in exception, else 0.1; records each call's batch size."""

    version = "v-test"
    threshold = 0.5

    def __init__(self) -> None:
        self.calls: list[int] = []

    def score(self, rows, as_of):
        from datetime import timedelta

        from parcelwatch.models.scoring import RiskEstimate

        self.calls.append(len(rows))
        return [
            RiskEstimate(
                risk=0.9 if row["status"] == "exception" else 0.1,
                expected_delivery=moment + timedelta(hours=30),
                earliest_delivery=moment + timedelta(hours=20),
                latest_delivery=moment + timedelta(hours=50),
            )
            for row, moment in zip(rows, as_of, strict=True)
        ]


def scoring_env(scorer, store: dict | None = None):
    store = {} if store is None else store
    broker = FakeBroker(store)
    processor = ShipmentProcessor(
        topics=TOPICS, limits=Limits(), store=store, publish=broker.publish,
        clock=lambda: at(500), metrics=WorkerMetrics(CollectorRegistry()), scorer=lambda: scorer,
    )  # fmt: skip
    return processor, broker, store


async def test_a_batch_is_scored_in_one_call_and_raises_delay_risk_once():
    scorer = FakeScorer()
    processor, broker, store = scoring_env(scorer)
    other = "OTHER0001"
    batch = [
        message(order(72)),
        message(scan("in_transit", 1, "a1")),
        message(scan("exception", 5, "a2", reason="weather_delay")),
        message(scan("exception", 6, "a3", reason="weather_delay")),
        message(scan("in_transit", 2, "b1", tracking_number=other), key=other.encode()),
        message(scan("delivered", 9, "b2", tracking_number=other), key=other.encode()),
    ]
    focused: list[int] = []
    results = await processor.process_batch(batch, focused.append)
    assert results == [MessageOutcome.APPLIED] * 6
    assert scorer.calls == [4]  # a1, a2, a3, b1: delivered shipments are not scored
    kinds = [(a["kind"], a["source_event_id"]) for a in broker.on(TOPICS.shipment_alerts)]
    assert kinds == [("carrier_exception", "a2"), ("delay_risk", "a2")]
    risk_alert = broker.on(TOPICS.shipment_alerts)[1]
    assert risk_alert["model_version"] == "v-test" and risk_alert["risk"] == 0.9
    assert readable_stored(store[TRACKING])["risk"]["score"] == 0.9
    assert readable_stored(store[TRACKING])["risk"]["model_version"] == "v-test"
    # each message is focused while applied, then each shipment's last message for its write
    assert focused == [0, 1, 2, 3, 4, 5, 3, 5]


async def test_without_a_model_the_rules_still_run():
    processor, broker, store = scoring_env(None)
    await processor.process_batch([message(scan("exception", 5, "a2", reason="lost"))])
    assert [a["kind"] for a in broker.on(TOPICS.shipment_alerts)] == ["carrier_exception"]
    assert readable_stored(store[TRACKING])["risk"]["score"] is None


async def test_batch_outcome_equals_one_message_at_a_time():
    other = "OTHER0001"
    events = [
        message(order(24)),
        message(scan("in_transit", 1, "a1")),
        message(scan("exception", 5, "a2", reason="weather_delay")),
        message(scan("in_transit", 8, "a3")),
        message(scan("exception", 30, "a4", reason="missorted")),
        # risky, then delivered in the same batch: the risky scan still raises its alert
        message(scan("exception", 3, "b1", reason="damaged", tracking_number=other),
                key=other.encode()),
        message(scan("delivered", 9, "b2", tracking_number=other), key=other.encode()),
    ]  # fmt: skip
    one, one_broker, one_store = scoring_env(FakeScorer())
    for item in events:
        await one.process(item)
    many, many_broker, many_store = scoring_env(FakeScorer())
    await many.process_batch(events)
    one_alerts = [a["alert_id"] for a in one_broker.on(TOPICS.shipment_alerts)]
    assert one_alerts == [a["alert_id"] for a in many_broker.on(TOPICS.shipment_alerts)]
    assert ("delay_risk", "b1") in [
        (a["kind"], a["source_event_id"]) for a in many_broker.on(TOPICS.shipment_alerts)
    ]
    assert one_store == many_store


# -- timers' checks and notifications ---------------------------------------------------------


def check_message(tracking=TRACKING, offset=0, partition=0, requested_hours=500):
    from parcelwatch.schemas.types import ShipmentCheck

    value = encode(ShipmentCheck(tracking_number=tracking, requested_at=at(requested_hours)))
    return InputMessage(TOPICS.shipment_checks, partition, offset, tracking.encode(), value)


def customer():
    from parcelwatch.schemas.types import Customer, NotificationChannel

    return Customer("c-1", "en-US", "America/Chicago", (NotificationChannel.SMS,))


def make_processor(store, broker, clock_hours, metrics=None, **policy_changes):
    from parcelwatch.streams.core.follow_up import FollowUpPolicy
    from parcelwatch.streams.core.notifications import NotificationPolicy

    return ShipmentProcessor(
        topics=TOPICS, limits=Limits(), store=store, publish=broker.publish,
        clock=lambda: at(clock_hours), metrics=metrics or WorkerMetrics(CollectorRegistry()),
        follow_up_policy=FollowUpPolicy(
            notifications=NotificationPolicy(quiet_hours=None, **policy_changes)
        ),
    )  # fmt: skip


async def test_a_check_raises_a_silence_once_and_a_second_check_changes_nothing():
    store: dict = {}
    broker = FakeBroker(store)
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry)
    early = make_processor(store, broker, 1, metrics)
    await early.process_batch(
        [message(order(500, customer=customer())), message(scan("picked_up", 0))]
    )
    # "ground" stalls after 48 h
    assert readable_stored(store[TRACKING])["timer"]["next_check_at"] == at(48).isoformat()

    late = make_processor(store, broker, 49, metrics)
    assert await late.process(check_message(requested_hours=49)) == MessageOutcome.APPLIED
    assert (
        await late.process(check_message(offset=1, requested_hours=49)) == MessageOutcome.UNCHANGED
    )
    assert [alert["kind"] for alert in broker.on(TOPICS.shipment_alerts)] == ["stalled"]
    kinds = [n["kind"] for n in broker.on(TOPICS.customer_notifications)]
    assert kinds == ["order_confirmed", "shipped", "delayed"]
    assert count(registry, TOPICS.shipment_checks, "unchanged") == 1


async def test_a_check_for_an_unknown_shipment_is_unchanged_and_writes_nothing(env):
    processor, broker, store, _ = env
    assert await processor.process(check_message()) == MessageOutcome.UNCHANGED
    assert store == {} and broker.sent == []


async def test_a_malformed_check_is_dead_lettered(env):
    processor, broker, _, _ = env
    bad = InputMessage(TOPICS.shipment_checks, 0, 0, KEY, b'{"schema_version": 1}')
    assert await processor.process(bad) == MessageOutcome.DEAD_LETTERED
    assert broker.on(TOPICS.dead_letter)[0]["reason"] == "missing_field"


async def test_notifications_of_one_batch_keep_the_order_of_their_scans():
    store: dict = {}
    broker = FakeBroker(store)
    processor = make_processor(store, broker, 30)
    batch = [
        message(order(72, customer=customer())),
        message(scan("picked_up", 1)),
        message(scan("out_for_delivery", 20)),
        message(scan("delivered", 22)),
        message(scan("out_for_delivery", 21, "late")),  # reported after delivery: no effect
    ]
    await processor.process_batch(batch)
    notifications = broker.on(TOPICS.customer_notifications)
    assert [n["kind"] for n in notifications] == [
        "order_confirmed", "shipped", "out_for_delivery", "delivered"
    ]  # fmt: skip
    assert readable_stored(store[TRACKING])["outputs"]["notified"] == [
        "order_confirmed", "shipped", "out_for_delivery", "delivered"
    ]  # fmt: skip
    # The same batch again (a redelivery after a crash) sends nothing more.
    await processor.process_batch(batch)
    assert len(broker.on(TOPICS.customer_notifications)) == 4


async def test_state_remembers_its_partition_so_checks_find_it():
    store: dict = {}
    broker = FakeBroker(store)
    processor = make_processor(store, broker, 1)
    scan_on_partition_2 = InputMessage(
        TOPICS.carrier_scans, 2, 0, KEY, encode(scan("picked_up", 0))
    )
    await processor.process(scan_on_partition_2)
    assert readable_stored(store[TRACKING])["timer"]["home_partition"] == 2


# -- publish, then store ----------------------------------------------------------------------


class BatchBroker:
    """``publish_many``: records each call's topics and what the table held when it was made."""

    def __init__(self, store: dict, fail: bool = False) -> None:
        self.store = store
        self.fail = fail
        self.calls: list[tuple[list[str], dict]] = []

    async def publish_many(self, outputs) -> None:
        self.calls.append(([output.topic for output in outputs], dict(self.store)))
        if self.fail:
            raise ConnectionError("the broker refused the batch")

    async def publish(self, topic: str, key: bytes, value: bytes) -> None:
        raise AssertionError("a batch is published with publish_many")


def batch_env(fail: bool = False):
    store: dict = {}
    broker = BatchBroker(store, fail)
    registry = CollectorRegistry()
    processor = ShipmentProcessor(
        topics=TOPICS, limits=Limits(), store=store, publish=broker.publish,
        publish_many=broker.publish_many, clock=lambda: at(30),
        metrics=WorkerMetrics(registry), follow_up_policy=make_policy(),
    )  # fmt: skip
    return processor, broker, store, registry


def make_policy():
    from parcelwatch.streams.core.follow_up import FollowUpPolicy
    from parcelwatch.streams.core.notifications import NotificationPolicy

    return FollowUpPolicy(notifications=NotificationPolicy(quiet_hours=None))


SENT_TOGETHER = [
    message(order(72, customer=customer())),
    message(None, topic=TOPICS.carrier_scans, value=b"{broken", offset=1),
    message(scan("exception", 5, "e1", reason="lost"), offset=2),
]


async def test_a_batch_sends_its_outputs_in_one_call_before_any_state_is_written():
    processor, broker, store, _ = batch_env()
    await processor.process_batch(SENT_TOGETHER)
    ((topics, store_then),) = broker.calls
    assert store_then == {}
    # dead letters first, then alerts, then notifications, then the order's shipment link, then
    # the support case (the parcel is lost)
    order_of = [
        TOPICS.dead_letter, TOPICS.shipment_alerts, TOPICS.customer_notifications,
        TOPICS.order_shipments, TOPICS.support_escalations,
    ]  # fmt: skip
    assert set(topics) == set(order_of)
    assert topics == sorted(topics, key=order_of.index)
    assert readable_stored(store[TRACKING])["outputs"][
        "open_episodes"
    ]  # the alert's episode is recorded


async def test_when_publishing_fails_nothing_is_stored_or_counted():
    processor, broker, store, registry = batch_env(fail=True)
    with pytest.raises(ConnectionError):
        await processor.process_batch(SENT_TOGETHER)
    assert len(broker.calls) == 1
    assert store == {}
    alerts_counted = [
        sample
        for family in registry.collect()
        for sample in family.samples
        if sample.name == "parcelwatch_alerts_total"
    ]
    assert alerts_counted == []
    assert registry.get_sample_value("parcelwatch_processing_seconds_count") == 0


async def test_processing_time_and_batch_size_are_observed_once_per_batch():
    processor, _, _, registry = batch_env()
    await processor.process_batch(SENT_TOGETHER)
    await processor.process_batch([message(scan("in_transit", 8, "e2"), offset=3)])
    await processor.process_batch([])  # every message skipped by the input ledger: no work
    assert registry.get_sample_value("parcelwatch_processing_seconds_count") == 2
    assert registry.get_sample_value("parcelwatch_batch_size_count") == 2
    assert registry.get_sample_value("parcelwatch_batch_size_sum") == len(SENT_TOGETHER) + 1
    assert registry.get_sample_value("parcelwatch_batch_size_bucket", {"le": "2.0"}) == 1
    assert registry.get_sample_value("parcelwatch_batch_size_bucket", {"le": "4.0"}) == 2


async def test_a_redelivered_or_replayed_input_logs_no_alert_or_notification_twice(env):
    processor, broker, store, _ = env
    customer = Customer("c-1", "en-GB", "UTC", (NotificationChannel.EMAIL,))
    inputs = [
        message(order(600, customer=customer)),
        message(scan("exception", 499, "x1", reason="damaged"), offset=1),
    ]
    await processor.process_batch(inputs)
    logged = readable_stored(store[TRACKING])["outputs"]
    assert [entry["kind"] for entry in logged["alert_log"]] == ["carrier_exception"]
    assert logged["notification_log"]  # order confirmed, the exception (urgent)

    # Redelivered after the state was stored: duplicates. Replayed on a state stored before the
    # batch (a crash between publishing and storing): the same ids, logged once.
    assert await processor.process_batch(inputs) == [MessageOutcome.DUPLICATE] * 2
    del store[TRACKING]
    await processor.process_batch(inputs)
    assert readable_stored(store[TRACKING])["outputs"]["alert_log"] == logged["alert_log"]
    assert (
        readable_stored(store[TRACKING])["outputs"]["notification_log"]
        == logged["notification_log"]
    )
    published = [a["alert_id"] for a in broker.on(TOPICS.shipment_alerts)]
    assert len(published) == 2 and len(set(published)) == 1  # the replay republished the same id
