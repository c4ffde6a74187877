"""Train -> score -> evaluate on simulated history, through the commands users run."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest
from prometheus_client import CollectorRegistry

from parcelwatch.models.features import FEATURE_NAMES, feature_row
from parcelwatch.models.registry import ModelRegistry
from parcelwatch.models.scoring import DelayRiskModel
from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.state import state_from_json
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import Limits, Scan
from parcelwatch.streams.offline.ml_commands import evaluate_command, score_command
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.processing import InputMessage, ShipmentProcessor
from tests.model_fixtures import DATA_END, process_in_rounds


def test_training_registers_a_version_with_its_lineage(trained):
    registry = ModelRegistry(trained.model_dir)
    assert registry.versions() == [trained.version]
    meta = registry.metadata(trained.version)
    assert meta["feature_names"] == list(FEATURE_NAMES)
    assert len(meta["training_data"]["fingerprint"]) == 64
    assert meta["training_data"]["train_rows"] > 1000
    assert set(meta["library_versions"]) >= {"scikit-learn", "numpy", "skops"}
    assert meta["metrics"]["roc_auc"] == trained.metrics.model.roc_auc
    assert meta["metrics"]["model_beats_all_baselines"] is True


def test_model_beats_every_baseline_on_held_out_data(trained):
    metrics = trained.metrics
    model_auc = metrics.model.roc_auc
    for name, baseline in metrics.baselines.items():
        assert model_auc > baseline.roc_auc, name
    assert metrics.comparison.model_beats_all_baselines is True
    assert 0.6 <= metrics.interval.coverage <= 0.95  # an 80% interval, roughly honest


def test_score_is_exactly_what_the_worker_computes(trained, tmp_path):
    out = tmp_path / "scores.jsonl"
    scored = score_command(trained.files, trained.model_dir, out, version=None)
    lines = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(lines) == scored > 1000
    offline = {line["event_id"]: line["risk"] for line in lines}

    # The worker: the same events, one at a time, through ShipmentProcessor with the model.
    model = DelayRiskModel(ModelRegistry(trained.model_dir).load())
    topics = TopicNames()
    store: dict = {}

    async def publish(topic, key, value):
        return None

    processor = ShipmentProcessor(
        topics=topics, limits=Limits(max_payload_bytes=1 << 20), store=store, publish=publish,
        clock=lambda: DATA_END, metrics=WorkerMetrics(CollectorRegistry()), scorer=lambda: model,
    )  # fmt: skip
    import asyncio

    from parcelwatch.streams.offline.replay import read_jsonl

    orders = read_jsonl(trained.files.orders, "order", now=DATA_END)
    scans = read_jsonl(trained.files.scans, "scan", now=DATA_END)
    sample = set(sorted({scan.tracking_number for scan in scans})[:200])
    # The replay's order per shipment: its orders first, then its scans in file order.
    ordered = [e for e in [*orders, *scans] if e.tracking_number in sample]
    messages = [
        InputMessage(
            topics.carrier_scans if isinstance(e, Scan) else topics.orders,
            0, 0, e.tracking_number.encode(), encode(e),
        )
        for e in ordered
    ]  # fmt: skip
    by_message = {id(m): e for m, e in zip(messages, ordered, strict=True)}
    online = {}

    def record(batch):
        for message in batch:
            event = by_message[id(message)]
            if isinstance(event, Scan) and event.event_id in offline:
                stored = state_from_json(store[event.tracking_number])
                online.setdefault(event.event_id, stored.risk.score)

    asyncio.run(process_in_rounds(processor, messages, record))
    assert len(online) > 300
    for event_id, risk in online.items():
        assert risk == pytest.approx(offline[event_id], abs=1e-6), event_id


def test_risk_rises_as_the_promise_gets_closer(trained):
    model = DelayRiskModel(ModelRegistry(trained.model_dir).load())
    from parcelwatch.streams.offline.ml_commands import mature_examples

    history = trained.files.load()
    rows = [r for r in mature_examples(history, 14).rows if r["status"] == "in_transit"][:500]
    relaxed = [{**row, "hours_to_promise": 96.0} for row in rows]
    tight = [{**row, "hours_to_promise": 2.0} for row in rows]
    risk_relaxed, _ = model.predict(relaxed)
    risk_tight, _ = model.predict(tight)
    assert risk_tight.mean() > risk_relaxed.mean() + 0.05


def test_unseen_categories_are_scored_not_errors(trained):
    model = DelayRiskModel(ModelRegistry(trained.model_dir).load())
    history = trained.files.load()
    snapshot = history.snapshots[10]
    row = feature_row(snapshot.state, snapshot.scan.occurred_at)
    row |= {"carrier": "pigeon-post", "service_level": "teleport", "destination_region": "MARS-1",
            "destination_country": "ZZ"}  # fmt: skip
    (estimate,) = model.score([row], [snapshot.scan.occurred_at])
    assert 0 <= estimate.risk <= 1 and not math.isnan(estimate.risk)
    assert estimate.earliest_delivery <= estimate.expected_delivery <= estimate.latest_delivery


def test_evaluate_writes_the_report(trained, tmp_path):
    report = tmp_path / "report"
    metrics = evaluate_command(
        trained.files, trained.model_dir, report, version=trained.version, maturity_days=14,
        test_fraction=0.25,
    )  # fmt: skip
    assert {p.name for p in report.iterdir()} >= {
        "metrics.json", "model_card.md", "calibration.png", "roc.png", "lead_time.png"
    }  # fmt: skip
    assert metrics.model.roc_auc == pytest.approx(trained.metrics.model.roc_auc)
    card = (report / "model_card.md").read_text()
    assert trained.version in card and "slack_to_promise" in card


def test_a_model_for_other_features_is_refused(trained):
    from dataclasses import replace

    bundle = ModelRegistry(trained.model_dir).load()
    stale = replace(bundle, metadata={**bundle.metadata, "feature_names": ["old"]})
    with pytest.raises(ValueError, match="retrain"):
        DelayRiskModel(stale)


def test_scoring_is_batched_not_per_row(trained):
    model = DelayRiskModel(ModelRegistry(trained.model_dir).load())
    calls = []

    def counting(name, score):
        def counted(features):
            calls.append((name, len(features)))
            return score(features)

        return counted

    model._risk = counting("risk", model._risk)
    model._hours = {q: counting(q, score) for q, score in model._hours.items()}
    history = trained.files.load()
    rows = [feature_row(s.state, s.scan.occurred_at) for s in history.snapshots[:256]]
    risk, hours = model.predict(rows)
    assert calls == [("risk", 256), ("p10", 256), ("p50", 256), ("p90", 256)]
    assert np.isfinite(risk).all() and np.isfinite(hours).all()
