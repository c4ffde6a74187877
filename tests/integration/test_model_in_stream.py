"""The worker scores scans with a trained model, and swaps models on `promote` while running."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta

from prometheus_client import CollectorRegistry

from parcelwatch.models.registry import ModelRegistry
from parcelwatch.models.scoring import DelayRiskModel
from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.schemas.types import Limits
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.processing import InputMessage, ShipmentProcessor
from parcelwatch.streams.simulation import SimulationConfig, generate_journeys
from tests.integration.conftest import (
    REPO,
    collect,
    free_port,
    orders_then_scans,
    produce,
    produce_orders_then_scans,
)
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

    for part in orders_then_scans(messages):  # the order the worker is fed them in
        await process_in_rounds(
            processor, [InputMessage(topic, 0, 0, key, value) for topic, key, value in part]
        )
    return {a["alert_id"] for a in sent if a.get("kind") == "delay_risk"}


def _topics_of(messages):
    from parcelwatch.schemas.topics import TopicNames

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


async def run_until_alerted(deployment, workers, model_dir, messages, expected: set[str]):
    """A worker scoring with ``model_dir``, fed ``messages``; it and its delay-risk alerts,
    which must be exactly the ``expected`` ones."""
    worker = worker_with_model(deployment, model_dir)
    workers.append(worker)
    await produce_orders_then_scans(deployment, messages)
    alerts = await collect(
        deployment.topics.shipment_alerts,
        lambda v: {a["alert_id"] for a in v if a["kind"] == "delay_risk"} >= expected,
        timeout=90,
    )
    risk_alerts = [a for a in alerts if a["kind"] == "delay_risk"]
    assert {a["alert_id"] for a in risk_alerts} == expected
    return worker, risk_alerts


async def test_worker_raises_delay_risk_alerts_with_the_trained_model(deployment, workers, trained):
    topics = deployment.topics
    model = DelayRiskModel(ModelRegistry(trained.model_dir).load())
    _, messages = traffic(topics, seed=99)
    expected = await expected_risk_alerts(messages, model)
    assert len(expected) >= 3

    worker, risk_alerts = await run_until_alerted(
        deployment, workers, trained.model_dir, messages, expected
    )
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
        [sys.executable, "-m", "parcelwatch.streams.cli", "promote", second,
         "--model-dir", str(model_dir)],
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
    produced = len(before) + len(after)
    # The fresh alerts can arrive before the worker has got through every input (a busy machine
    # showed 1013 of 1266), so wait for the count rather than read it once.
    deadline = asyncio.get_running_loop().time() + 60
    while (counted := _counted(worker)) < produced:
        assert asyncio.get_running_loop().time() < deadline, f"{counted} of {produced} counted"
        await asyncio.sleep(0.5)
    assert counted == produced  # no event lost across the swap


def _counted(worker) -> float:
    return sum(worker.events_total(o) for o in ("applied", "duplicate", "dead_lettered"))


_REGISTRY_KEYS = {
    "version", "created_at", "artifact_sha256", "library_versions", "format", "signature",
}  # fmt: skip


SIGNING_KEY = "integration-test-signing-key-0123456789abcdef"


def _signed_copy(registry: ModelRegistry, bundle, created_at, **metadata) -> str:
    return registry.save(
        classifier=bundle.classifier, quantile_models=bundle.quantile_models,
        metadata={k: v for k, v in bundle.metadata.items() if k not in _REGISTRY_KEYS} | metadata,
        created_at=created_at,
    )  # fmt: skip


async def test_only_signed_promotions_switch_a_worker_with_a_key(
    deployment, workers, trained, tmp_path
):
    from parcelwatch.models.signing import sign_update
    from parcelwatch.schemas.model_update import encode_model_update, model_update_key

    model_dir = tmp_path / "models"
    registry = ModelRegistry(model_dir, signing_key=SIGNING_KEY.encode())
    bundle = ModelRegistry(trained.model_dir).load(trained.version)
    first = _signed_copy(registry, bundle, utc_now())
    second = _signed_copy(registry, bundle, utc_now() + timedelta(seconds=5), alert_threshold=0.3)
    registry.promote(first)
    key_env = {
        "PARCELWATCH_MODEL_DIR": str(model_dir),
        "PARCELWATCH_MODEL_SIGNING_KEY": SIGNING_KEY,
    }
    worker = deployment.start_worker(extra_env=key_env)
    workers.append(worker)
    assert worker.metrics()[f'parcelwatch_model_info{{version="{first}"}}'] == 1.0

    # Whoever can write to the topic, without the key: a plain announcement of a real version
    # with its real checksum, and one signed with some other key.
    newer = registry.promote(second)
    unsigned = encode_model_update(replace(newer, signature=None))
    forged = encode_model_update(sign_update(b"not-the-deployment-key-0123456789", newer))
    topic = deployment.topics.model_updates
    key = model_update_key(newer)
    await produce([(topic, key, unsigned), (topic, key, forged)])
    await _wait_for(worker, 'parcelwatch_model_updates_rejected_total{reason="bad_signature"}')
    metrics = worker.metrics()
    assert metrics['parcelwatch_model_updates_rejected_total{reason="unsigned"}'] == 1.0
    assert metrics[f'parcelwatch_model_info{{version="{first}"}}'] == 1.0  # not switched
    log = worker.log_path.read_text()
    assert "refused: unsigned" in log  # the next, same template, is collapsed (log_throttle)
    assert newer.artifact_sha256 not in log  # refused announcements are not echoed

    promoted = subprocess.run(
        [sys.executable, "-m", "parcelwatch.streams.cli", "promote", second,
         "--model-dir", str(model_dir)],
        env={**deployment.env(tmp_path / "unused", free_port()), **key_env},
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert promoted.returncode == 0, promoted.stderr
    assert "signed" in promoted.stdout
    await _wait_for(worker, f'parcelwatch_model_info{{version="{second}"}}')


async def _wait_for(worker, sample: str, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while worker.metrics().get(sample) != 1.0:
        assert asyncio.get_running_loop().time() < deadline, worker.log_tail()
        await asyncio.sleep(0.5)


async def test_a_worker_scores_with_the_baseline_when_the_model_lost_to_it(
    deployment, workers, trained, tmp_path
):
    """The newest version lost to slack-to-promise on held-out data: the worker does not run it,
    it scores with that baseline, and its alerts say so in model_version."""
    from parcelwatch.models.fallback import BaselineScorer
    from tests.streams.runtime.test_model_holder import losing_verdict

    model_dir = tmp_path / "models"
    registry = ModelRegistry(model_dir)
    bundle = ModelRegistry(trained.model_dir).load(trained.version)
    losing = _signed_copy(registry, bundle, utc_now(), **losing_verdict())
    metadata = registry.metadata(losing)
    scorer = BaselineScorer.from_metadata(metadata, float(metadata["alert_threshold"]))
    topics = deployment.topics
    _, messages = traffic(topics, seed=7, shipments=80)
    expected = await expected_risk_alerts(messages, scorer)
    assert expected

    worker, risk_alerts = await run_until_alerted(
        deployment, workers, model_dir, messages, expected
    )
    assert {a["model_version"] for a in risk_alerts} == {"baseline:slack_to_promise"}
    metrics = worker.metrics()
    assert metrics["parcelwatch_model_loaded"] == 0.0  # no learned model runs
    assert metrics['parcelwatch_model_info{version="baseline:slack_to_promise"}'] == 1.0
