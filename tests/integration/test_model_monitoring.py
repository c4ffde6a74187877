"""Live model monitoring end to end on the real broker: scans scored by a trained model ->
delivered -> outcome records on model-outcomes -> a summary per moment on model-monitoring and
the live quality gauges on /metrics."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from prometheus_client import CollectorRegistry

from parcelwatch.models.registry import ModelRegistry
from parcelwatch.models.scoring import DelayRiskModel
from parcelwatch.schemas.codec import decode_model_outcome, encode
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.schemas.types import Limits
from parcelwatch.streams.core.model_watch import ModelWatch, record_outcome, summaries
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.processing import InputMessage, ShipmentProcessor
from parcelwatch.streams.simulation import SimulationConfig, generate_journeys
from tests.integration.conftest import collect, orders_then_scans, produce_orders_then_scans
from tests.model_fixtures import process_in_rounds


def traffic(topics, *, seed, shipments=60):
    config = SimulationConfig(shipments=shipments, seed=seed, window_days=6)
    events = generate_journeys(config, now=utc_now())
    return [
        (topics.orders if e.topic_kind == "order" else topics.carrier_scans, e.key, encode(e.event))
        for e in events
    ]


async def expected_outcomes(messages, model, topics) -> list[dict]:
    """What the worker must send: the same messages through the processor, offline."""
    sent: list[dict] = []

    async def publish(topic, key, value):
        if topic == topics.model_outcomes:
            sent.append(orjson.loads(value))

    processor = ShipmentProcessor(
        topics=topics, limits=Limits(), store={}, publish=publish, clock=utc_now,
        metrics=WorkerMetrics(CollectorRegistry()), scorer=lambda: model,
    )  # fmt: skip
    for part in orders_then_scans(messages):  # the order the worker is fed them in
        await process_in_rounds(
            processor, [InputMessage(topic, 0, 0, key, value) for topic, key, value in part]
        )
    return sent


def _judged(record: dict) -> tuple:
    """What a summary is computed from."""
    return tuple(record[name] for name in ("moment", "risk", "late", "alerted", "decided_at"))


async def test_outcomes_of_scored_shipments_become_live_quality_summaries_and_gauges(
    deployment, workers, trained
):
    topics = deployment.topics
    model = DelayRiskModel(ModelRegistry(trained.model_dir).load())
    messages = traffic(topics, seed=1212)
    expected = await expected_outcomes(messages, model, topics)
    assert {record["moment"] for record in expected} == {"pickup", "promise_minus_24h"}
    assert {record["late"] for record in expected} == {True, False}  # both classes

    worker = deployment.start_worker(
        extra_env={
            "PARCELWATCH_MODEL_DIR": str(trained.model_dir),
            "PARCELWATCH_MODEL_MONITORING_INTERVAL_SECONDS": "1",
        }
    )
    workers.append(worker)
    await produce_orders_then_scans(deployment, messages)

    expected_ids = {record["outcome_id"] for record in expected}
    # Generous waits: a loaded two-core CI machine scores slowly. They end as soon as all is there.
    outcomes = await collect(
        topics.model_outcomes, lambda v: {r["outcome_id"] for r in v} >= expected_ids, timeout=150
    )
    got = sorted(r["outcome_id"] for r in outcomes)
    assert got == sorted(expected_ids), f"{len(got)} of {len(expected_ids)}\n{worker.log_tail()}"
    assert {r["model_version"] for r in outcomes} == {trained.version}
    # Each record as the offline replay made it: a difference names the outcome, not a summary.
    live = {r["outcome_id"]: _judged(r) for r in outcomes}
    offline = {r["outcome_id"]: _judged(r) for r in expected}
    differing = {i: (offline[i], live[i]) for i in offline if live[i] != offline[i]}
    assert not differing, f"offline vs live: {differing}\n{worker.log_tail()}"

    # What the summaries must say: the expected outcomes through the monitoring core.
    watch = ModelWatch(trained.version)
    for record in expected:
        outcome = decode_model_outcome(
            orjson.dumps(record), key=trained.version.encode(), now=utc_now(), limits=Limits()
        )
        record_outcome(watch, outcome, 7)
    wanted = {s.moment.value: s for s in summaries(watch, 7, utc_now())}

    def complete(values: list[dict]) -> bool:
        latest = {v["moment"]: v for v in values}  # in publication order: the newest wins
        return set(latest) == set(wanted) and all(
            latest[moment]["outcomes"] == wanted[moment].outcomes for moment in wanted
        )

    published = await collect(topics.model_monitoring, complete, timeout=60, settle=0)
    latest = {v["moment"]: v for v in published}
    for moment, summary in wanted.items():
        got = latest[moment]
        assert got["model_version"] == trained.version
        assert got["summary_id"] == summary.summary_id
        # Float sums in another order: equal but for the last bits.
        assert got["roc_auc"] == pytest.approx(summary.roc_auc)
        assert got["brier"] == pytest.approx(summary.brier)
        assert got["late_rate"] == pytest.approx(summary.late_rate)
        assert sum(band["count"] for band in got["calibration"]) == summary.outcomes

    labels = f'model_version="{trained.version}",moment="pickup"'
    deadline = asyncio.get_running_loop().time() + 30
    while (metrics := worker.metrics()).get(f"parcelwatch_model_live_outcomes{{{labels}}}") != (
        wanted["pickup"].outcomes
    ):
        assert asyncio.get_running_loop().time() < deadline, worker.log_tail()
        await asyncio.sleep(0.5)
    roc_auc = metrics[f"parcelwatch_model_live_roc_auc{{{labels}}}"]
    assert roc_auc == pytest.approx(wanted["pickup"].roc_auc)
    brier = metrics[f"parcelwatch_model_live_brier{{{labels}}}"]
    assert brier == pytest.approx(wanted["pickup"].brier)
    assert metrics["parcelwatch_model_outcomes_total"] == len(expected)
    assert any(name.startswith("parcelwatch_model_live_calibration_observed{") for name in metrics)
