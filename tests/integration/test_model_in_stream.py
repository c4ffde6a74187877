"""The worker scores scans with a trained model, and swaps models on `promote` while running."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from datetime import timedelta

from prometheus_client import CollectorRegistry

from models.registry import ModelRegistry
from models.scoring import DelayRiskModel
from schemas.codec import encode
from schemas.timestamps import utc_now
from schemas.types import Limits
from streams.metrics import WorkerMetrics
from streams.processing import InputMessage, ShipmentProcessor
from streams.simulate import SimulationConfig, generate_journeys
from tests.integration.conftest import REPO, collect, free_port, produce
from tests.model_fixtures import process_in_rounds


def traffic(topics, *, seed, shipments=150):
    events = generate_journeys(SimulationConfig(shipments=shipments, seed=seed), now=utc_now())
    return events, [
        (topics.orders if e.topic_kind == "order" else topics.carrier_scans, e.key, encode(e.event))
        for e in events
    ]


async def expected_risk_alerts(messages, model) -> set[str]:
    """What the worker must raise: the same messages through the processor, offline."""
    sent: list[dict] = []

    async def publish(topic, key, value):
        import orjson

        sent.append(orjson.loads(value))

    processor = ShipmentProcessor(
        topics=_topics_of(messages), limits=Limits(), store={}, publish=publish, clock=utc_now,
        metrics=WorkerMetrics(CollectorRegistry()), scorer=lambda: model,
    )  # fmt: skip

    await process_in_rounds(
        processor, [InputMessage(topic, 0, 0, key, value) for topic, key, value in messages]
    )
    return {a["alert_id"] for a in sent if a.get("kind") == "delay_risk"}


def _topics_of(messages):
    from schemas.topics import TopicNames

    scan_topic = next(t for t, _, _ in messages if t.endswith("carrier-scans"))
    return TopicNames.with_prefix(scan_topic.removesuffix("carrier-scans"))


def worker_with_model(deployment, model_dir, name="worker"):
    deployment_env = deployment.env
    deployment.env = lambda data_dir, port: {  # type: ignore[method-assign]
        **deployment_env(data_dir, port),
        "PARCELWATCH_MODEL_DIR": str(model_dir),
    }
    try:
        return deployment.start_worker(name)
    finally:
        deployment.env = deployment_env  # type: ignore[method-assign]


async def test_worker_raises_delay_risk_alerts_with_the_trained_model(deployment, workers, trained):
    topics = deployment.topics
    model = DelayRiskModel(ModelRegistry(trained.model_dir).load())
    _, messages = traffic(topics, seed=99)
    expected = await expected_risk_alerts(messages, model)
    assert len(expected) >= 3

    worker = worker_with_model(deployment, trained.model_dir)
    workers.append(worker)
    await produce(messages)
    alerts = await collect(
        topics.shipment_alerts,
        lambda v: {a["alert_id"] for a in v if a["kind"] == "delay_risk"} >= expected,
        timeout=90,
    )
    risk_alerts = [a for a in alerts if a["kind"] == "delay_risk"]
    assert {a["alert_id"] for a in risk_alerts} == expected
    for alert in risk_alerts:
        assert alert["model_version"] == trained.version
        assert alert["risk"] >= model.threshold
        assert alert["predicted_delivery"]["earliest"] <= alert["predicted_delivery"]["latest"]
        assert alert["reasons"]
    assert worker.metrics()["parcelwatch_model_loaded"] == 1.0
    assert worker.metrics()["parcelwatch_scored_total"] > 0


async def test_promote_swaps_the_model_in_a_running_worker(deployment, workers, trained, tmp_path):
    model_dir = tmp_path / "models"
    shutil.copytree(trained.model_dir, model_dir)
    registry = ModelRegistry(model_dir)
    first = registry.versions()[-1]
    registry.promote(first)
    bundle = registry.load(first)
    # A second version: same estimators, a lower alert threshold, so its alerts are easy to tell.
    second = registry.save(
        classifier=bundle.classifier, quantile_models=bundle.quantile_models,
        metadata={k: v for k, v in bundle.metadata.items() if k not in _REGISTRY_KEYS}
        | {"alert_threshold": 0.3},
        created_at=utc_now() + timedelta(seconds=5),
    )  # fmt: skip
    topics = deployment.topics
    worker = worker_with_model(deployment, model_dir)
    workers.append(worker)

    _, before = traffic(topics, seed=41, shipments=80)
    await produce(before)
    await collect(topics.shipment_alerts, lambda v: any(a["kind"] == "delay_risk" for a in v))

    env = deployment.env(tmp_path / "unused", free_port())
    promoted = subprocess.run(
        [sys.executable, "-m", "streams.cli", "promote", second, "--model-dir", str(model_dir)],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert promoted.returncode == 0, promoted.stderr
    deadline = asyncio.get_running_loop().time() + 30
    while worker.metrics().get(f'parcelwatch_model_info{{version="{second}"}}') != 1.0:
        assert asyncio.get_running_loop().time() < deadline, worker.log_tail()
        await asyncio.sleep(0.5)

    events, after = traffic(topics, seed=42, shipments=80)
    new_shipments = {e.event.tracking_number for e in events}
    await produce(after)
    alerts = await collect(
        topics.shipment_alerts,
        lambda v: any(a["kind"] == "delay_risk" and a["tracking_number"] in new_shipments
                      for a in v),
        timeout=60,
    )  # fmt: skip
    fresh = [
        a for a in alerts if a["kind"] == "delay_risk" and a["tracking_number"] in new_shipments
    ]
    assert fresh and {a["model_version"] for a in fresh} == {second}
    assert all(a["risk"] >= 0.3 for a in fresh)
    # No event lost across the swap. The first fresh alert can come while later events are still
    # being processed (a loaded machine), so wait for the count rather than read it once.
    produced = len(before) + len(after)
    deadline = asyncio.get_running_loop().time() + 60
    while (
        counted := sum(worker.events_total(o) for o in ("applied", "duplicate", "dead_lettered"))
    ) < produced:
        assert asyncio.get_running_loop().time() < deadline, (counted, produced)
        await asyncio.sleep(0.5)
    assert counted == produced


_REGISTRY_KEYS = {"version", "created_at", "artifact_sha256", "library_versions", "format"}
