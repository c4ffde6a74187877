"""The worker's feedback analyzer: built-in model at start, promoted versions, hot swaps.

A real feedback registry on disk holds small polarity models; the delay-risk holder reads the same
announcements and each keeps to its own model.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from parcelwatch.models.feedback.model_store import feedback_registry, packed, write_builtin
from parcelwatch.models.feedback.polarity import fit_polarity
from parcelwatch.models.registry import ModelRegistry
from parcelwatch.models.signing import sign_update
from parcelwatch.schemas.model_update import DELAY_RISK_MODEL, ModelUpdate, encode_model_update
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.runtime.feedback_model_holder import FeedbackModelHolder
from parcelwatch.streams.runtime.model_holder import ModelHolder, Refusal
from tests.streams.runtime.test_model_holder import save_version

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
T0 = datetime(2026, 12, 1, 3, 45, tzinfo=UTC)
TEXTS = ["lovely, thank you", "broken and late", "ótimo produto", "nunca chegou", "great", "awful"]


@pytest.fixture(scope="module")
def estimator():
    return fit_polarity(TEXTS, [1, 0, 1, 0, 1, 0], ["en", "en", "pt", "pt", "en", "en"])


class Worker:
    """Both model holders as the worker builds them, on one metrics registry."""

    def __init__(self, model_dir: Path | None, builtin: Path, *, key: bytes | None = None):
        self.key = key
        self.registry = CollectorRegistry()
        metrics = WorkerMetrics(self.registry)
        self.feedback = FeedbackModelHolder(model_dir, metrics, signing_key=key, builtin=builtin)
        self.delay = ModelHolder(model_dir, metrics, signing_key=key)
        self.feedback.load_initial()
        self.delay.load_initial()

    @property
    def version(self) -> str:
        return self.feedback.current().version

    async def receive(self, announcement: ModelUpdate) -> None:
        for holder in (self.feedback, self.delay):
            await holder.receive(encode_model_update(announcement), 0, self.key)

    def sample(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)

    def rejected(self, reason: Refusal, model: str = "feedback") -> float:
        prefix = "parcelwatch_feedback" if model == "feedback" else "parcelwatch"
        return self.sample(f"{prefix}_model_updates_rejected_total", reason=reason.value) or 0


def test_without_a_promotion_the_builtin_model_runs(tmp_path: Path, estimator) -> None:
    builtin = write_builtin(estimator, {}, tmp_path / "builtin")
    worker = Worker(tmp_path / "models", tmp_path / "builtin")
    assert worker.version == builtin
    assert worker.feedback.current().polarity is not None
    assert worker.sample("parcelwatch_feedback_model_loaded") == 1
    assert worker.sample("parcelwatch_feedback_model_info", version=builtin) == 1


def test_without_any_model_the_analyzer_runs_its_rules(tmp_path: Path) -> None:
    worker = Worker(None, tmp_path / "no-builtin")
    assert worker.feedback.current().polarity is None
    assert worker.sample("parcelwatch_feedback_model_loaded") == 0


def test_the_promoted_version_is_loaded_at_start(tmp_path: Path, estimator) -> None:
    write_builtin(estimator, {}, tmp_path / "builtin")
    registry = feedback_registry(tmp_path)
    promoted = registry.save_artifact(packed(estimator), metadata={}, created_at=T0)
    registry.save_artifact(
        packed(estimator), metadata={"newer": True}, created_at=T0 + timedelta(1)
    )
    registry.promote(promoted, promoted_at=T0)
    assert Worker(tmp_path, tmp_path / "builtin").version == promoted


@pytest.fixture
def running(tmp_path: Path, estimator):
    """A keyed deployment: the feedback analyzer runs the built-in model; v1 and a delay-risk
    model are stored, the delay-risk one promoted."""
    write_builtin(estimator, {}, tmp_path / "builtin")
    feedback = feedback_registry(tmp_path, signing_key=KEY)
    v1 = feedback.save_artifact(packed(estimator), metadata={}, created_at=T0)
    delay = ModelRegistry(tmp_path, signing_key=KEY)
    delay_version = save_version(delay, T0)
    delay.promote(delay_version, promoted_at=T0)
    worker = Worker(tmp_path, tmp_path / "builtin", key=KEY)
    assert worker.delay.current().version == delay_version
    return worker, feedback, delay, v1, delay_version


async def test_a_feedback_promotion_swaps_the_analyzer_and_not_the_delay_model(running) -> None:
    worker, feedback, _, v1, delay_version = running
    before = worker.feedback.current()
    await worker.receive(feedback.promote(v1, promoted_at=T0 + timedelta(hours=1)))
    assert worker.version == v1
    assert worker.feedback.current() is not before
    assert worker.delay.current().version == delay_version
    assert worker.sample("parcelwatch_feedback_model_info", version=v1) == 1
    assert worker.rejected(Refusal.NOT_LOADABLE, "delay-risk") == 0  # not even tried


async def test_a_delay_risk_promotion_leaves_the_analyzer_alone(running) -> None:
    worker, _, delay, _, _ = running
    analyzer = worker.feedback.current()
    newer = save_version(delay, T0 + timedelta(hours=1))
    await worker.receive(delay.promote(newer, promoted_at=T0 + timedelta(hours=2)))
    assert worker.delay.current().version == newer
    assert worker.feedback.current() is analyzer
    assert sum(worker.rejected(reason) for reason in Refusal) == 0


async def test_a_delay_risk_signature_does_not_promote_a_feedback_model(running) -> None:
    worker, feedback, _, v1, _ = running
    digest = feedback.metadata(v1)["artifact_sha256"]
    as_delay = sign_update(KEY, ModelUpdate(v1, digest, T0 + timedelta(hours=1)))
    replayed = ModelUpdate(
        v1, digest, as_delay.promoted_at, as_delay.signature, model=feedback.kind.name
    )
    before = worker.version
    await worker.receive(replayed)
    assert worker.rejected(Refusal.BAD_SIGNATURE) == 1
    assert worker.version == before


async def test_a_feedback_announcement_signed_with_another_key_is_refused(running) -> None:
    worker, feedback, _, v1, _ = running
    genuine = feedback.promote(v1, promoted_at=T0 + timedelta(hours=1))
    await worker.receive(sign_update(OTHER_KEY, genuine))
    assert worker.rejected(Refusal.BAD_SIGNATURE) == 1
    assert worker.version != v1
    assert worker.rejected(Refusal.BAD_SIGNATURE, DELAY_RISK_MODEL) == 0


async def test_an_older_feedback_announcement_is_stale(running) -> None:
    worker, feedback, _, v1, _ = running
    await worker.receive(feedback.promote(v1, promoted_at=T0 + timedelta(hours=2)))
    v2 = feedback.save_artifact(
        packed(worker.feedback.current().polarity.estimator), metadata={"v": 2}, created_at=T0
    )
    digest = feedback.metadata(v2)["artifact_sha256"]
    older = sign_update(KEY, ModelUpdate(v2, digest, T0 + timedelta(hours=1), model="feedback"))
    await worker.receive(older)
    assert worker.rejected(Refusal.STALE) == 1
    assert worker.version == v1


async def test_an_unknown_feedback_version_is_not_loadable(running) -> None:
    worker, _, _, _, _ = running
    unknown = ModelUpdate(
        "v20261201T000000Z-00000000", "0" * 64, T0 + timedelta(1), model="feedback"
    )
    await worker.receive(sign_update(KEY, unknown))
    assert worker.rejected(Refusal.NOT_LOADABLE) == 1
    assert worker.sample("parcelwatch_feedback_model_loaded") == 1  # the built-in one still runs
