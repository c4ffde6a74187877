"""The worker's model holder without Kafka: a real registry on disk holding tiny stand-in models.

Loading at start-up, hot swaps on ``model-updates`` announcements, and refusals (bad signature,
checksum mismatch, unloadable version) that keep the model in force. Authentication of the
announcement itself is covered in tests/models/test_model_signing.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from prometheus_client import CollectorRegistry
from sklearn.dummy import DummyClassifier, DummyRegressor

from parcelwatch.models.baselines import fit_baselines
from parcelwatch.models.fallback import BaselineScorer
from parcelwatch.models.features import CATEGORICAL_FEATURES, FEATURE_NAMES
from parcelwatch.models.registry import ARTIFACT_FILE, ModelRegistry, NotPromotable
from parcelwatch.models.signing import sign_update
from parcelwatch.schemas.model_update import ModelUpdate, encode_model_update
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.runtime.model_holder import ModelHolder, Refusal
from tests.models.test_evaluate import Ship, make_examples

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
T0 = datetime(2026, 11, 28, 3, 45, tzinfo=UTC)


def save_version(
    registry: ModelRegistry,
    created_at: datetime,
    feature_names: list[str] | None = None,
    *,
    verdict: dict | None = None,
) -> str:
    """A loadable version: constant estimators (fast to fit) with the metadata a worker needs;
    ``verdict``: the promotion gate's metadata (none: a version from before the gate)."""
    x = np.zeros((4, len(FEATURE_NAMES)))
    return registry.save(
        classifier=DummyClassifier(strategy="prior").fit(x, [0, 1, 0, 1]),
        quantile_models={
            name: DummyRegressor().fit(x, [1.0, 2, 3, 4]) for name in ("p10", "p50", "p90")
        },
        metadata={
            "feature_names": feature_names if feature_names is not None else list(FEATURE_NAMES),
            "alert_threshold": 0.6,
            "feature_vocabularies": {name: [] for name in CATEGORICAL_FEATURES},
            **(verdict or {}),
        },
        created_at=created_at,
    )


def losing_verdict() -> dict:
    """What ``train`` records for a model that lost to slack-to-promise on held-out data."""
    ships = [
        Ship(f"S{i}", scans=[2.0], promised=24.0 + (i % 10) * 10, delivered=70.0) for i in range(40)
    ]
    return {
        "promotable": False,
        "not_promotable_reasons": ["held-out PR-AUC 0.31 < slack_to_promise 0.55"],
        "heldout": {
            "roc_auc": 0.81,
            "best_baseline": "slack_to_promise",
            "baselines": {"slack_to_promise": {"roc_auc": 0.87}},
        },
        "baselines_fitted": fit_baselines(make_examples(ships)).to_json(),
    }


class Worker:
    """A model holder as the worker builds it, with its metrics."""

    def __init__(
        self, model_dir: Path | None, *, key: bytes | None = None, threshold: float | None = None
    ) -> None:
        self.model_dir = model_dir
        self.key = key
        self.registry = CollectorRegistry()
        self.holder = ModelHolder(
            model_dir, WorkerMetrics(self.registry), threshold, signing_key=key
        )

    @property
    def version(self) -> str | None:
        model = self.holder.current()
        return None if model is None else model.version

    async def receive(self, announcement: ModelUpdate, offset: int = 0) -> None:
        await self.holder.receive(encode_model_update(announcement), offset, self.key)

    def rejected(self, reason: Refusal) -> float:
        labels = {"reason": reason.value}
        return (
            self.registry.get_sample_value("parcelwatch_model_updates_rejected_total", labels) or 0
        )

    def rejections(self) -> float:
        return sum(self.rejected(reason) for reason in Refusal)

    def loaded(self) -> float | None:
        return self.registry.get_sample_value("parcelwatch_model_loaded")

    def heldout_roc_auc(self, version: str) -> float | None:
        return self.registry.get_sample_value(
            "parcelwatch_model_heldout_roc_auc", {"model_version": version}
        )

    def info_version(self) -> str | None:
        for family in self.registry.collect():
            for sample in family.samples:
                if sample.name == "parcelwatch_model_info":
                    return sample.labels["version"]
        return None


# -- loading at start-up ----------------------------------------------------------------------


@pytest.mark.parametrize("has_dir", [False, True])
def test_without_a_model_the_worker_runs_its_rules(tmp_path: Path, has_dir: bool) -> None:
    worker = Worker(tmp_path / "models" if has_dir else None)
    worker.holder.load_initial()
    assert worker.version is None
    assert worker.loaded() == 0


def test_the_promoted_version_is_loaded_even_when_a_newer_one_exists(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    promoted = save_version(registry, T0)
    save_version(registry, T0 + timedelta(hours=1))
    registry.promote(promoted, promoted_at=T0)
    worker = Worker(tmp_path)
    worker.holder.load_initial()
    assert worker.version == promoted
    assert worker.loaded() == 1
    assert worker.info_version() == promoted


def test_without_a_promotion_the_newest_version_is_loaded(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    save_version(registry, T0)
    newest = save_version(registry, T0 + timedelta(hours=1))
    worker = Worker(tmp_path)
    worker.holder.load_initial()
    assert worker.version == newest


def test_the_configured_threshold_overrides_the_models(tmp_path: Path) -> None:
    save_version(ModelRegistry(tmp_path), T0)
    worker = Worker(tmp_path, threshold=0.35)
    worker.holder.load_initial()
    model = worker.holder.current()
    assert model is not None and model.threshold == 0.35


# -- the promotion gate ----------------------------------------------------------------------


def test_a_version_that_lost_to_its_baseline_is_not_loaded_its_baseline_scores(
    tmp_path: Path,
) -> None:
    registry = ModelRegistry(tmp_path)
    save_version(registry, T0)
    losing = save_version(registry, T0 + timedelta(hours=1), verdict=losing_verdict())
    with pytest.raises(NotPromotable, match=r"PR-AUC 0\.31 < slack_to_promise 0\.55"):
        registry.promote(losing)
    worker = Worker(tmp_path, threshold=0.3)
    worker.holder.load_initial()
    scorer = worker.holder.current()
    assert isinstance(scorer, BaselineScorer)
    assert scorer.version == worker.info_version() == "baseline:slack_to_promise"
    assert scorer.trained_with == losing and scorer.threshold == 0.3
    assert worker.loaded() == 0  # no learned model is running
    # live quality of the fallback is judged against the baseline's own held-out figure
    assert worker.heldout_roc_auc("baseline:slack_to_promise") == 0.87


def test_a_forced_promotion_runs_the_version_that_lost(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path, signing_key=KEY)
    losing = save_version(registry, T0, verdict=losing_verdict())
    announcement = registry.promote(losing, promoted_at=T0, force=True)
    assert announcement.forced
    worker = Worker(tmp_path, key=KEY)
    worker.holder.load_initial()
    assert worker.version == losing and worker.loaded() == 1
    assert worker.heldout_roc_auc(losing) == 0.81


def test_a_losing_version_without_fitted_baselines_leaves_the_rules(tmp_path: Path) -> None:
    verdict = {**losing_verdict(), "baselines_fitted": None}
    save_version(ModelRegistry(tmp_path), T0, verdict=verdict)
    worker = Worker(tmp_path)
    worker.holder.load_initial()
    assert worker.version is None and worker.loaded() == 0


async def test_an_unforced_announcement_of_a_losing_version_is_refused(running) -> None:
    worker, registry, v1, _ = running
    losing = save_version(registry, T0 + timedelta(hours=3), verdict=losing_verdict())
    forged = sign_update(
        KEY,
        ModelUpdate(losing, registry.metadata(losing)["artifact_sha256"], T0 + timedelta(hours=4)),
    )
    await worker.receive(forged)
    assert worker.version == v1
    assert worker.rejected(Refusal.NOT_PROMOTABLE) == 1
    await worker.receive(registry.promote(losing, promoted_at=T0 + timedelta(hours=5), force=True))
    assert worker.version == losing
    assert worker.loaded() == 1


# -- hot swaps --------------------------------------------------------------------------------


@pytest.fixture
def running(tmp_path: Path) -> tuple[Worker, ModelRegistry, str, str]:
    """A keyed deployment whose worker runs the promoted v1; v2 is stored, not yet promoted."""
    registry = ModelRegistry(tmp_path, signing_key=KEY)
    v1 = save_version(registry, T0)
    v2 = save_version(registry, T0 + timedelta(hours=1))
    registry.promote(v1, promoted_at=T0)
    worker = Worker(tmp_path, key=KEY)
    worker.holder.load_initial()
    assert worker.version == v1
    return worker, registry, v1, v2


async def test_a_promotion_swaps_the_model_without_a_restart(running) -> None:
    worker, registry, v1, v2 = running
    before = worker.holder.current()
    await worker.receive(registry.promote(v2, promoted_at=T0 + timedelta(hours=2)))
    assert worker.version == v2
    assert worker.info_version() == v2
    assert worker.rejections() == 0
    assert before is not None and before.version == v1  # a batch holding it keeps it whole


async def test_the_announcement_in_force_read_again_at_start_up_changes_nothing(running) -> None:
    worker, registry, v1, _ = running
    in_force = worker.holder.current()
    announcement = registry.promoted_update()
    assert announcement is not None and announcement.version == v1
    await worker.receive(announcement)
    assert worker.holder.current() is in_force  # not even reloaded
    assert worker.rejections() == 0


async def test_an_older_announcement_is_stale_and_keeps_the_model(running) -> None:
    worker, registry, v1, v2 = running
    digest = registry.metadata(v2)["artifact_sha256"]
    older = sign_update(KEY, ModelUpdate(v2, digest, T0 - timedelta(days=1)))
    await worker.receive(older)
    assert worker.rejected(Refusal.STALE) == 1
    assert worker.version == v1


async def test_a_bad_signature_is_refused_and_keeps_the_model(running) -> None:
    worker, registry, v1, v2 = running
    genuine = registry.promote(v2, promoted_at=T0 + timedelta(hours=2))
    forged = sign_update(OTHER_KEY, genuine)
    await worker.receive(forged)
    assert worker.rejected(Refusal.BAD_SIGNATURE) == 1
    assert worker.version == v1
    assert worker.loaded() == 1


async def test_a_checksum_other_than_the_announced_one_is_refused_and_keeps_the_model(
    running,
) -> None:
    worker, registry, v1, v2 = running
    genuine = registry.promote(v2, promoted_at=T0 + timedelta(hours=2))
    wrong = sign_update(KEY, replace(genuine, artifact_sha256="0" * 64, signature=None))
    await worker.receive(wrong)
    assert worker.rejected(Refusal.NOT_LOADABLE) == 1
    assert worker.version == v1
    # The refusal did not move the announcement in force: the genuine one still applies.
    await worker.receive(genuine)
    assert worker.version == v2


async def test_a_corrupted_artifact_is_refused_and_keeps_the_model(running) -> None:
    worker, registry, v1, v2 = running
    artifact = worker.model_dir / v2 / ARTIFACT_FILE
    artifact.write_bytes(artifact.read_bytes() + b"tampered")
    digest = registry.metadata(v2)["artifact_sha256"]
    await worker.receive(sign_update(KEY, ModelUpdate(v2, digest, T0 + timedelta(hours=2))))
    assert worker.rejected(Refusal.NOT_LOADABLE) == 1
    assert worker.version == v1


async def test_a_model_for_other_features_is_refused_and_keeps_the_model(running) -> None:
    worker, registry, v1, _ = running
    other = save_version(registry, T0 + timedelta(hours=3), feature_names=["something_else"])
    await worker.receive(registry.promote(other, promoted_at=T0 + timedelta(hours=3)))
    assert worker.rejected(Refusal.NOT_LOADABLE) == 1
    assert worker.version == v1


async def test_a_version_saved_without_the_key_is_refused_by_a_keyed_worker(running) -> None:
    worker, _, v1, _ = running
    unkeyed = ModelRegistry(worker.model_dir)
    version = save_version(unkeyed, T0 + timedelta(hours=4))
    digest = unkeyed.metadata(version)["artifact_sha256"]
    await worker.receive(sign_update(KEY, ModelUpdate(version, digest, T0 + timedelta(hours=4))))
    assert worker.rejected(Refusal.NOT_LOADABLE) == 1
    assert worker.version == v1


def test_promote_refuses_a_losing_version_in_plain_words_before_touching_kafka(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from parcelwatch.streams.cli import main

    losing = save_version(ModelRegistry(tmp_path), T0, verdict=losing_verdict())
    assert main(["promote", losing, "--model-dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert f"version {losing} is not promotable: held-out PR-AUC 0.31" in error
    assert "--force" in error and "Traceback" not in error
    assert ModelRegistry(tmp_path).promoted() is None
