"""The worker's feedback analyzer: the promoted feedback model, else the one built into the package.

Announcements for the model ``feedback`` on ``model-updates`` swap the analyzer between two
batches, with the same checks as the delay-risk model (signature, newer than the one in force,
checksum, trusted types); the delay-risk announcements are left to its own holder.
"""

from __future__ import annotations

import logging
from pathlib import Path

from parcelwatch.models.feedback.analyzer import FeedbackAnalyzer
from parcelwatch.models.feedback.model_store import (
    BUILTIN_DIR,
    analyzer_from_artifact,
    feedback_registry,
    load_builtin_analyzer,
)
from parcelwatch.schemas.model_update import FEEDBACK_MODEL, ModelUpdate
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.runtime.model_holder import AnnouncedModelHolder, ModelGauges

log = logging.getLogger(__name__)


class FeedbackModelHolder(AnnouncedModelHolder[FeedbackAnalyzer]):
    model_name = FEEDBACK_MODEL

    def __init__(
        self,
        model_dir: Path | None,
        metrics: WorkerMetrics,
        *,
        signing_key: bytes | None = None,
        builtin: Path = BUILTIN_DIR,  # the folder of the built-in model
    ) -> None:
        registry = feedback_registry(model_dir, signing_key) if model_dir is not None else None
        gauges = ModelGauges(
            metrics.feedback_model_loaded,
            metrics.feedback_model_info,
            metrics.feedback_model_updates_rejected,
        )
        super().__init__(registry, gauges)
        self._builtin = builtin

    def current(self) -> FeedbackAnalyzer:
        if self._model is None:
            raise RuntimeError("FeedbackModelHolder.load_initial() has not run")
        return self._model

    def _start_model(self, promoted: ModelUpdate | None) -> FeedbackAnalyzer:
        if promoted is not None:
            return self._load(None)  # the promoted version, checked against PROMOTED's checksum
        analyzer = load_builtin_analyzer(self._builtin)
        if analyzer.polarity is None:
            log.warning("no feedback model is built in: the feedback analyzer runs rules only")
        return analyzer

    def _load(self, version: str | None) -> FeedbackAnalyzer:
        assert self._registry is not None
        return analyzer_from_artifact(self._registry.load_artifact(version))

    def _version(self, model: FeedbackAnalyzer) -> str:
        return model.version

    def _is_learned(self, model: FeedbackAnalyzer) -> bool:
        return model.polarity is not None
