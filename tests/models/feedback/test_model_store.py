"""Storing the polarity model: packed vocabularies, same bytes, registry and built-in copy."""

from __future__ import annotations

import json
import shutil
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from parcelwatch.models.feedback.model_store import (
    BUILTIN_ARTIFACT,
    BUILTIN_DIR,
    BUILTIN_METADATA,
    FEEDBACK_TRUSTED_TYPES,
    analyzer_from_artifact,
    builtin_metadata,
    deterministic_skops,
    feedback_registry,
    load_builtin_analyzer,
    packed,
    unpacked,
    write_builtin,
)
from parcelwatch.models.feedback.polarity import TEXT_PREPARATION, fit_polarity
from parcelwatch.models.feedback.training_set import build_training_set
from parcelwatch.models.registry import ModelRegistry, ModelRegistryError, sha256_hex
from tests.models.feedback.lifecycle_data import write_corpora, write_labelled

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PROBE = ["arrived broken, awful", "lovely, thank you", "Chegou rápido, ótimo"]
PROBE_LANGUAGES = ["en", "en", "pt"]


@pytest.fixture(scope="module")
def estimator(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("data")
    training = build_training_set(
        [write_labelled(folder / "labelled.jsonl")], write_corpora(folder / "sentiment")
    )
    return fit_polarity(training.texts, training.labels, training.languages)


def probabilities(estimator) -> np.ndarray:
    from parcelwatch.models.feedback.polarity import PolarityModel

    return PolarityModel(estimator).positive_probability(PROBE, PROBE_LANGUAGES)


def test_a_packed_estimator_reads_as_the_fitted_one_after_skops(estimator) -> None:
    data = deterministic_skops(packed(estimator))
    assert sio.get_untrusted_types(data=data) == list(FEEDBACK_TRUSTED_TYPES)
    restored = unpacked(sio.loads(data, trusted=list(FEEDBACK_TRUSTED_TYPES)))
    np.testing.assert_array_equal(probabilities(restored), probabilities(estimator))
    assert estimator.named_steps["features"].transformer_list[0][1].vocabulary_  # untouched


def test_the_same_estimator_gives_the_same_bytes(estimator) -> None:
    assert deterministic_skops(packed(estimator)) == deterministic_skops(packed(estimator))


def test_a_registry_version_becomes_an_analyzer_named_by_it(tmp_path: Path, estimator) -> None:
    registry = feedback_registry(tmp_path)
    version = registry.save_artifact(packed(estimator), metadata={}, created_at=T0)
    analyzer = analyzer_from_artifact(registry.load_artifact(version))
    assert analyzer.version == version
    np.testing.assert_array_equal(
        analyzer.polarity.positive_probability(PROBE, PROBE_LANGUAGES), probabilities(estimator)
    )


def test_feedback_versions_live_beside_the_delay_risk_ones_without_mixing(
    tmp_path: Path, estimator
) -> None:
    registry = feedback_registry(tmp_path)
    version = registry.save_artifact(packed(estimator), metadata={}, created_at=T0)
    registry.promote(version, promoted_at=T0)
    assert registry.root == tmp_path / "feedback"
    assert ModelRegistry(tmp_path).versions() == []
    # A feedback PROMOTED file in a delay-risk registry is refused, not loaded as delay-risk.
    shutil.copy(registry.root / "PROMOTED", tmp_path / "PROMOTED")
    with pytest.raises(ModelRegistryError, match="promotes a feedback model"):
        ModelRegistry(tmp_path).promoted_update()


def test_a_payload_with_a_function_is_refused_when_saved(tmp_path: Path) -> None:
    unsafe = make_pipeline(FunctionTransformer(textwrap.dedent))  # any function: code to call
    with pytest.raises(ModelRegistryError, match="untrusted types"):
        feedback_registry(tmp_path).save_artifact(
            {"polarity": unsafe, "vocabularies": {}, "text_preparation": TEXT_PREPARATION},
            metadata={},
            created_at=T0,
        )


def test_a_model_trained_on_another_text_preparation_is_refused(estimator) -> None:
    payload = {**packed(estimator), "text_preparation": "folded-0"}
    with pytest.raises(ModelRegistryError, match=r"prepared as 'folded-0'.*retrain"):
        unpacked(payload)


def test_the_builtin_model_round_trips_and_is_checked(tmp_path: Path, estimator) -> None:
    version = write_builtin(estimator, {"training_data": {"rows": 13}}, tmp_path)
    metadata = json.loads((tmp_path / BUILTIN_METADATA).read_text())
    artifact = (tmp_path / BUILTIN_ARTIFACT).read_bytes()
    assert metadata["artifact_sha256"] == sha256_hex(artifact)
    assert version == metadata["version"] == f"builtin-{sha256_hex(artifact)[:8]}"
    analyzer = load_builtin_analyzer(tmp_path)
    assert analyzer.version == version
    np.testing.assert_array_equal(
        analyzer.polarity.positive_probability(PROBE, PROBE_LANGUAGES), probabilities(estimator)
    )

    (tmp_path / BUILTIN_ARTIFACT).write_bytes(artifact + b"tampered")
    with pytest.raises(ModelRegistryError, match="checksum mismatch"):
        load_builtin_analyzer(tmp_path)


def test_without_a_builtin_model_the_analyzer_runs_rules_only(tmp_path: Path) -> None:
    analyzer = load_builtin_analyzer(tmp_path)
    assert analyzer.polarity is None
    assert analyzer.version.startswith("rules-")


def test_the_shipped_builtin_model_loads_and_records_its_provenance() -> None:
    if not (BUILTIN_DIR / BUILTIN_ARTIFACT).is_file():
        pytest.skip("no built-in feedback model in this checkout")
    metadata = builtin_metadata()
    assert load_builtin_analyzer().version == metadata["version"]
    sources = metadata["training_data"]["sources"]
    assert {source["licence"].split(" (")[0] for source in sources} <= {"Apache-2.0", "CC BY 4.0"}
    assert all("amazon" not in source["file"].lower() for source in sources)
    assert all(len(source["sha256"]) == 64 for source in sources)
