"""The pain-point pipeline with fakes: a dict as the table, a list as the topics, a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from prometheus_client import CollectorRegistry

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.feedback import FeedbackTally, FeedbackTopic, FlagReason
from parcelwatch.schemas.pain_points import PainPointClose
from parcelwatch.schemas.timestamps import parse_rfc3339
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import Limits
from parcelwatch.streams.core.pain_points import SpikePolicy, state_from_json
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.pain_points import PainPointProcessor, PainPointSweeper
from parcelwatch.streams.pipeline.processing import InputMessage

TOPICS = TopicNames.with_prefix("t.")
DAY0 = datetime(2026, 11, 20, tzinfo=UTC)
GRACE = timedelta(minutes=30)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class FakeBroker:
    """Records what was published, and whether the table already held it then."""

    def __init__(self, store: dict, fail: bool = False) -> None:
        self.store = store
        self.fail = fail
        self.sent: list[tuple[str, bytes, dict]] = []
        self.store_when_published: list[dict] = []

    async def publish_many(self, messages) -> None:
        if self.fail:
            raise ConnectionError("broker away")
        self.store_when_published.append(dict(self.store))
        self.sent += [(m.topic, m.key, orjson.loads(m.value)) for m in messages]

    def on(self, topic: str) -> list[dict]:
        return [value for name, _, value in self.sent if name == topic]


@pytest.fixture
def env():
    store: dict = {}
    broker = FakeBroker(store)
    registry = CollectorRegistry()
    clock = Clock(DAY0 + timedelta(days=10))
    processor = PainPointProcessor(
        topics=TOPICS, limits=Limits(), store=store, publish_many=broker.publish_many,
        clock=clock, metrics=WorkerMetrics(registry), grace=GRACE, policy=SpikePolicy(),
    )  # fmt: skip
    return processor, broker, store, registry, clock


_offsets = iter(range(1_000_000))


def tally_message(day: int, feedback_id: str, carrier: str = "acme", **kwargs) -> InputMessage:
    tally = FeedbackTally(
        feedback_id=feedback_id,
        carrier=carrier,
        region=kwargs.get("region", "SP"),
        reason=kwargs.get("reason", FlagReason.LOGISTICS_PAIN),
        topics=kwargs.get("topics", (FeedbackTopic.DAMAGED,)),
        received_at=DAY0 + timedelta(days=day, hours=12),
    )
    return InputMessage(TOPICS.feedback_tallies, 1, next(_offsets), carrier.encode(), encode(tally))


def close_message(at: datetime, carrier: str = "acme") -> InputMessage:
    close = PainPointClose(carrier=carrier, requested_at=at)
    return InputMessage(TOPICS.feedback_tallies, 1, next(_offsets), carrier.encode(), encode(close))


def sample(registry, name, labels=None) -> float:
    return registry.get_sample_value(name, labels or {}) or 0


async def test_tallies_are_stored_and_nothing_closes_without_a_request(env):
    processor, broker, store, _, _ = env
    await processor.process_batch([tally_message(0, "a"), tally_message(0, "b")])
    assert broker.on(TOPICS.pain_points) == []
    state = state_from_json(store["acme"])
    assert state.home_partition == 1
    assert sum(window.total for window in state.daily.open.values()) == 2


async def test_a_close_request_publishes_summaries_before_the_table_write(env):
    processor, broker, store, registry, _ = env
    await processor.process_batch([tally_message(0, "a"), tally_message(0, "b")])
    stored_before = dict(store)
    await processor.process_batch([close_message(DAY0 + timedelta(days=1, hours=1))])
    summaries = broker.on(TOPICS.pain_points)
    assert sorted(s["window"]["size"] for s in summaries) == ["day", "hour"]
    assert {s["total"] for s in summaries} == {2}
    assert {key for topic, key, _ in broker.sent if topic == TOPICS.pain_points} == {b"acme"}
    assert broker.store_when_published[-1] == stored_before  # acknowledged first
    assert not state_from_json(store["acme"]).daily.open
    for size in ("hour", "day"):
        assert sample(registry, "parcelwatch_pain_point_windows_closed_total", {"size": size}) == 1


async def test_a_close_request_uses_its_own_time_not_the_clock(env):
    processor, broker, _, _, clock = env
    await processor.process_batch([tally_message(0, "a")])
    clock.now = DAY0 + timedelta(days=30)
    await processor.process_batch([close_message(DAY0 + timedelta(hours=13, minutes=31))])
    assert [s["window"]["size"] for s in broker.on(TOPICS.pain_points)] == ["hour"]


async def test_tallies_behind_a_close_request_in_one_batch_count_after_it(env):
    processor, broker, _, registry, _ = env
    batch = [
        tally_message(0, "a"),
        close_message(DAY0 + timedelta(days=1, hours=1)),
        tally_message(0, "late"),
        tally_message(1, "next"),
    ]
    await processor.process_batch(batch)
    assert {s["total"] for s in broker.on(TOPICS.pain_points)} == {1}
    assert sample(registry, "parcelwatch_pain_point_late_tallies_total") == 1


async def test_a_redelivered_batch_publishes_the_same_ids_and_counts_once(env):
    processor, broker, store, _, _ = env
    await processor.process_batch(
        [tally_message(n, f"fb-{n}-{i}") for n in range(3) for i in range(2)]
    )
    before = dict(store)
    spike_day = [tally_message(3, f"spike-{i}") for i in range(12)]
    close = close_message(DAY0 + timedelta(days=4, hours=1))
    await processor.process_batch([*spike_day, close])
    first = list(broker.sent)
    store.clear()
    store.update(before)  # the crash lost the table write; the batch is read again
    await processor.process_batch([*spike_day, *spike_day[:3], close])
    again = broker.sent[len(first) :]
    assert [value for _, _, value in again] == [value for _, _, value in first]
    spikes = [value for topic, _, value in first if topic == TOPICS.pain_point_spikes]
    assert {(s["region"], s["count"], s["window"]["size"]) for s in spikes} >= {
        ("SP", 12, "day"),
        ("all", 12, "day"),
    }


async def test_spikes_are_published_and_counted_by_topic(env):
    processor, broker, _, registry, _ = env
    for n in range(3):
        await processor.process_batch(
            [tally_message(n, f"{n}-{i}") for i in range(2)]
            + [close_message(DAY0 + timedelta(days=n + 1, hours=1))]
        )
    await processor.process_batch(
        [tally_message(3, f"3-{i}") for i in range(12)]
        + [close_message(DAY0 + timedelta(days=4, hours=1))]
    )
    spikes = broker.on(TOPICS.pain_point_spikes)
    daily = [s for s in spikes if s["window"]["size"] == "day"]
    assert {s["region"] for s in daily} == {"SP", "all"}
    assert all("Damage complaints about carrier acme" in s["message"] for s in daily)
    counted = sample(registry, "parcelwatch_pain_point_spikes_total", {"topic": "damaged"})
    assert counted == len(spikes)


async def test_bad_messages_are_dead_lettered_with_their_reason(env):
    processor, broker, store, registry, _ = env
    wrong_key = tally_message(0, "a")
    wrong_key = InputMessage(wrong_key.topic, 1, 99, b"other", wrong_key.value)
    broken = InputMessage(TOPICS.feedback_tallies, 1, 100, b"acme", b"{broken")
    await processor.process_batch([wrong_key, broken, tally_message(0, "ok")])
    letters = broker.on(TOPICS.dead_letter)
    assert [letter["reason"] for letter in letters] == ["key_mismatch", "malformed_json"]
    assert sample(registry, "parcelwatch_dead_letters_total", {"reason": "key_mismatch"}) == 1
    assert "acme" in store


async def test_an_unreadable_stored_state_dead_letters_as_a_processing_error(env):
    processor, broker, store, _, _ = env
    store["acme"] = {"state_version": 99}
    await processor.process_batch([tally_message(0, "a")])
    assert [letter["reason"] for letter in broker.on(TOPICS.dead_letter)] == ["processing_error"]
    assert store["acme"] == {"state_version": 99}


async def test_a_failed_publish_leaves_the_table_as_it_was(env):
    processor, broker, store, _, _ = env
    await processor.process_batch([tally_message(0, "a")])
    before = dict(store)
    broker.fail = True
    with pytest.raises(ConnectionError):
        await processor.process_batch([close_message(DAY0 + timedelta(days=2))])
    assert store == before


async def test_the_sweeper_asks_only_for_due_carriers_at_their_home_partition(env):
    processor, _, store, _, _ = env
    await processor.process_batch(
        [tally_message(0, "a", carrier="acme"), tally_message(5, "b", carrier="zoom")]
    )
    store["broken"] = {"state_version": 1}
    sent: list[tuple[str, dict, int | None]] = []

    async def send_close(carrier: str, value: bytes, partition: int | None) -> None:
        sent.append((carrier, orjson.loads(value), partition))

    now = DAY0 + timedelta(days=3)
    sweeper = PainPointSweeper(table=store, send_close=send_close, clock=lambda: now, grace=GRACE)
    assert await sweeper.sweep() == 1
    ((carrier, request, partition),) = sent
    assert (carrier, partition) == ("acme", 1)
    assert request["carrier"] == "acme"
    assert parse_rfc3339(request["requested_at"]) == now


async def test_the_sweeper_stops_at_a_rebalance(env):
    processor, _, store, _, _ = env
    await processor.process_batch([tally_message(0, f"a{i}", carrier=f"c{i}") for i in range(5)])

    async def send_close(carrier: str, value: bytes, partition: int | None) -> None:
        raise AssertionError("nothing is sent by an interrupted sweep")

    sweeper = PainPointSweeper(
        table=store, send_close=send_close, clock=lambda: DAY0 + timedelta(days=3), grace=GRACE,
        rows_between_yields=2,
    )  # fmt: skip
    assert await sweeper.sweep(interrupted=lambda: True) is None


def test_pain_point_and_feedback_metrics_have_bounded_labels_only():
    metrics = WorkerMetrics(CollectorRegistry())
    labels = {
        name: set(metric._labelnames)
        for name, metric in vars(metrics).items()
        if name.startswith(("pain_point", "feedback"))
    }
    assert len(labels) == 10  # pain points 3, feedback 4, the feedback model 3
    # Fixed enumerations only; never a carrier or a region.
    assert set().union(*labels.values()) <= {"topic", "size", "reason"}
