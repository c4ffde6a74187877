"""``parcelwatch feedback train | evaluate | promote``: the feedback analyzer's learned part.

``train`` fits the polarity model on labelled feedback (plus, when present, the English sentence
corpora) and stores it in the feedback registry (``<model_dir>/feedback``), or, with
``--builtin``, as the model shipped in the package; ``evaluate`` reads labelled feedback with the
analyzer as the worker runs it (in batches) and reports per language; ``promote`` makes a version
the one every worker runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from parcelwatch.models.feedback.analyzer import FeedbackAnalyzer, FeedbackText
from parcelwatch.models.feedback.evaluation import evaluate_feedback
from parcelwatch.models.feedback.evaluation_result import FeedbackEvaluation
from parcelwatch.models.feedback.labelled import read_labelled
from parcelwatch.models.feedback.model_store import (
    BUILTIN_DIR,
    analyzer_from_artifact,
    feedback_registry,
    load_builtin_analyzer,
    packed,
    write_builtin,
)
from parcelwatch.models.feedback.polarity import fit_polarity
from parcelwatch.models.feedback.training_set import TrainingSet, build_training_set
from parcelwatch.schemas.model_update import ModelUpdate
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.streams.offline.ml_commands import announce_promotion
from parcelwatch.streams.runtime.settings import Settings

EVALUATION_BATCH = 256  # the batch size the benchmark measures


def train_feedback_command(
    labelled: Sequence[Path],
    english_corpora: Path | None,
    model_dir: Path,
    *,
    signing_key: bytes | None = None,
) -> tuple[str, TrainingSet]:
    """Fit and store a new version in ``<model_dir>/feedback``; returns it and its data."""
    training = build_training_set(labelled, english_corpora)
    estimator = fit_polarity(training.texts, training.labels, training.languages, training.weights)
    version = feedback_registry(model_dir, signing_key).save_artifact(
        packed(estimator),
        metadata={"training_data": training.provenance()},
        created_at=utc_now(),
    )
    return version, training


def train_builtin_command(
    labelled: Sequence[Path], english_corpora: Path | None, directory: Path = BUILTIN_DIR
) -> tuple[str, TrainingSet]:
    """Regenerate the model shipped in the package: the same data gives the same bytes."""
    training = build_training_set(labelled, english_corpora)
    estimator = fit_polarity(training.texts, training.labels, training.languages, training.weights)
    version = write_builtin(estimator, {"training_data": training.provenance()}, directory)
    return version, training


def evaluate_feedback_command(
    labelled: Sequence[Path],
    *,
    model_dir: Path | None = None,
    version: str | None = None,
    with_ratings: bool = True,
) -> FeedbackEvaluation:
    """The analyzer with registry ``version`` (else the built-in model) on ``labelled``.

    The labelled language is not given as a hint: detecting it is part of what is measured.
    """
    analyzer = _analyzer(model_dir, version)
    rows = read_labelled(labelled)
    items = [FeedbackText(row.text, row.rating if with_ratings else None) for row in rows]
    analyses = []
    for start in range(0, len(items), EVALUATION_BATCH):
        analyses.extend(analyzer.analyze(items[start : start + EVALUATION_BATCH]))
    files = [
        {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        for path in labelled
    ]
    return evaluate_feedback(
        rows,
        analyses,
        analyzer_version=analyzer.version,
        data={"files": files, "with_ratings": with_ratings},
    )


def _analyzer(model_dir: Path | None, version: str | None) -> FeedbackAnalyzer:
    if version is None:
        return load_builtin_analyzer()
    if model_dir is None:
        raise ValueError("evaluating a registry version needs --model-dir")
    return analyzer_from_artifact(feedback_registry(model_dir).load_artifact(version))


async def promote_feedback_command(
    settings: Settings, model_dir: Path, version: str
) -> ModelUpdate:
    """Mark ``version`` promoted in ``<model_dir>/feedback`` and announce it (model "feedback")."""
    registry = feedback_registry(model_dir, settings.model_signing_key)
    return await announce_promotion(settings, registry, version)
