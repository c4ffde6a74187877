"""The model monitoring agent's pipeline with fakes: a dict as the table, a list as the topics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from prometheus_client import CollectorRegistry

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.model_monitoring import ModelOutcome, RiskMoment
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import Limits
from parcelwatch.streams.pipeline.messages import InputMessage
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.model_monitoring import (
    ModelMonitoringProcessor,
    ModelMonitoringPublisher,
    QualityGauges,
)

TOPICS = TopicNames.with_prefix("t.")
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Broker:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, dict]] = []

    async def publish_many(self, outputs) -> None:
        self.sent += [(o.topic, o.key, orjson.loads(o.value)) for o in outputs]

    def on(self, topic: str) -> list[dict]:
        return [value for name, _, value in self.sent if name == topic]


class Worker:
    """One worker's processor and timer over a shared table (``store``)."""

    def __init__(self, store: dict) -> None:
        self.store, self.broker, self.registry = store, Broker(), CollectorRegistry()
        metrics = WorkerMetrics(self.registry)
        gauges = QualityGauges(metrics)
        common = dict(publish_many=self.broker.publish_many, clock=lambda: NOW, window_days=7,
                      gauges=gauges, topics=TOPICS)  # fmt: skip
        self.processor = ModelMonitoringProcessor(
            limits=Limits(), store=store, metrics=metrics, **common
        )
        self.publisher = ModelMonitoringPublisher(table=store, **common)

    def sample(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)


def outcome(number, risk, late, *, version="v1", moment=RiskMoment.PICKUP, alerted=False):
    return ModelOutcome(
        f"o-{number}", version, moment, risk, late, alerted, NOW - timedelta(hours=number),
        "ups", "ground",
    )  # fmt: skip


def messages(outcomes, offset=0):
    return [
        InputMessage(TOPICS.model_outcomes, 0, offset + n, o.model_version.encode(), encode(o))
        for n, o in enumerate(outcomes)
    ]


OUTCOMES = [
    outcome(1, 0.9, True, alerted=True),
    outcome(2, 0.8, False, alerted=True),
    outcome(3, 0.2, False),
    outcome(4, 0.15, True),
    outcome(5, 0.05, False),
]


async def test_outcomes_set_the_gauges_of_their_version():
    worker = Worker({})
    await worker.processor.process_batch(messages(OUTCOMES))

    labels = {"model_version": "v1", "moment": "pickup"}
    assert worker.sample("parcelwatch_model_live_outcomes", **labels) == 5
    assert worker.sample("parcelwatch_model_live_late_rate", **labels) == pytest.approx(0.4)
    # late outcomes above on-time ones in 4 of the 6 pairs
    assert worker.sample("parcelwatch_model_live_roc_auc", **labels) == pytest.approx(4 / 6)
    assert worker.sample("parcelwatch_model_live_alert_precision", model_version="v1") == 0.5
    band = {**labels, "risk_band": "0.1-0.2"}
    assert worker.sample("parcelwatch_model_live_calibration_predicted", **band) == 0.15
    assert worker.sample("parcelwatch_model_live_calibration_observed", **band) == 1.0
    assert worker.sample("parcelwatch_model_live_roc_auc", model_version="v1",
                         moment="promise_minus_24h") is None  # fmt: skip


async def test_a_redelivered_batch_counts_nothing_twice_and_survives_a_restart():
    store: dict = {}
    await Worker(store).processor.process_batch(messages(OUTCOMES))
    restarted = Worker(store)  # a new worker reads the table (its changelog) as stored
    await restarted.processor.process_batch(messages(OUTCOMES))  # e.g. offsets not committed
    await restarted.processor.process_batch(messages([outcome(6, 0.7, True)], offset=5))

    assert restarted.sample("parcelwatch_model_live_outcomes", model_version="v1",
                            moment="pickup") == 6  # fmt: skip
    assert restarted.sample("parcelwatch_model_outcomes_counted_total", outcome="duplicate") == 5


async def test_an_invalid_outcome_is_dead_lettered_and_the_rest_counted():
    worker = Worker({})
    bad = InputMessage(TOPICS.model_outcomes, 0, 9, b"v1", b'{"schema_version": 1}')
    wrong_key = InputMessage(TOPICS.model_outcomes, 0, 10, b"v2", encode(outcome(7, 0.5, True)))
    await worker.processor.process_batch([bad, wrong_key, *messages(OUTCOMES[:2], offset=11)])

    letters = worker.broker.on(TOPICS.dead_letter)
    assert [letter["reason"] for letter in letters] == ["missing_field", "key_mismatch"]
    assert worker.sample("parcelwatch_model_live_outcomes", model_version="v1",
                         moment="pickup") == 2  # fmt: skip


async def test_an_outcome_that_fails_after_its_window_was_read_is_dead_lettered_alone(
    monkeypatch,
):
    """Its version read from the table, then the count failed: the batch still completes (no
    crash loop on the same batch), and nothing is written for a version no message changed."""
    from parcelwatch.streams.pipeline import model_monitoring

    real = model_monitoring.record_outcome

    def failing_for_v2(watch, outcome, window_days):
        if outcome.model_version == "v2":
            raise RuntimeError("cannot count it")
        return real(watch, outcome, window_days)

    monkeypatch.setattr(model_monitoring, "record_outcome", failing_for_v2)
    worker = Worker({})
    poison = messages([outcome(8, 0.5, True, version="v2")], offset=20)
    await worker.processor.process_batch([*poison, *messages(OUTCOMES[:2], offset=21)])
    assert [letter["reason"] for letter in worker.broker.on(TOPICS.dead_letter)] == [
        "processing_error"
    ]
    assert set(worker.store) == {"v1"}


async def test_the_timer_publishes_a_summary_per_version_and_moment():
    worker = Worker({})
    before = outcome(8, 0.6, True, moment=RiskMoment.PROMISE_MINUS_24H)
    await worker.processor.process_batch(
        messages([*OUTCOMES, before, outcome(9, 0.3, False, version="v2")])
    )

    assert await worker.publisher.publish() == 3
    published = worker.broker.on(TOPICS.model_monitoring)
    assert {(s["model_version"], s["moment"]) for s in published} == {
        ("v1", "pickup"), ("v1", "promise_minus_24h"), ("v2", "pickup"),
    }  # fmt: skip
    keys = {key for topic, key, _ in worker.broker.sent if topic == TOPICS.model_monitoring}
    assert keys == {b"v1", b"v2"}
    (v1_pickup,) = [s for s in published if s["model_version"] == "v1" and s["moment"] == "pickup"]
    assert v1_pickup["outcomes"] == 5 and v1_pickup["alert_precision"] == 0.5


async def test_the_timer_drops_the_gauges_of_versions_no_longer_held():
    store: dict = {}
    worker = Worker(store)
    await worker.processor.process_batch(messages(OUTCOMES))
    store.clear()  # the partition moved to another worker

    assert await worker.publisher.publish() == 0
    assert worker.sample("parcelwatch_model_live_outcomes", model_version="v1",
                         moment="pickup") is None  # fmt: skip
    assert worker.sample("parcelwatch_model_live_alert_precision", model_version="v1") is None


async def test_an_unreadable_row_is_logged_and_skipped(caplog):
    store = {"broken": {"model_version": "broken"}}
    worker = Worker(store)
    await worker.processor.process_batch(messages(OUTCOMES))
    assert await worker.publisher.publish() == 1
    assert "unreadable model monitoring windows of broken" in caplog.text
