"""The worker's current delay-risk model, and hot swaps announced on ``model-updates``.

``parcelwatch promote`` writes the registry's PROMOTED file and publishes an announcement
``{"version", "artifact_sha256", "promoted_at"}`` to the compacted ``model-updates`` topic. Every
worker reads that topic from the start without a consumer group (each worker must see every
announcement), loads the version from its model directory off the event loop, checks that the
artifact is the one announced, and swaps it in between two batches: no restart, no lost event.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

from models.registry import ModelRegistry, ModelRegistryError
from models.scoring import DelayRiskModel
from streams.kafka_admin import aiokafka_options
from streams.metrics import WorkerMetrics
from streams.settings import Settings

log = logging.getLogger(__name__)


class ModelHolder:
    def __init__(
        self, model_dir: Path | None, metrics: WorkerMetrics, threshold: float | None = None
    ) -> None:
        self._registry = ModelRegistry(model_dir) if model_dir is not None else None
        self._metrics = metrics
        self._threshold = threshold
        self._model: DelayRiskModel | None = None

    def current(self) -> DelayRiskModel | None:
        return self._model

    def load_initial(self) -> None:
        """The promoted (else newest) version, if any; a worker without one runs its rules."""
        if self._registry is None:
            log.warning("no model directory (PARCELWATCH_MODEL_DIR): running rules only")
        elif not self._registry.versions():
            log.warning("no model in %s yet: running rules only", self._registry.root)
        else:
            self._install(self._load(None, None))
        self._metrics.model_loaded.set(1 if self._model else 0)

    async def apply_announcement(self, announcement: dict[str, Any]) -> None:
        if self._registry is None:
            log.warning("model %s announced, but this worker has no model directory", announcement)
            return
        version = announcement.get("version")
        if not isinstance(version, str) or (self._model and self._model.version == version):
            return
        expected_sha = announcement.get("artifact_sha256")
        loop = asyncio.get_running_loop()
        try:
            model = await loop.run_in_executor(None, self._load, version, expected_sha)
        except (ModelRegistryError, ValueError) as error:
            log.error("not switching to model %s: %s", version, error)
            return
        self._install(model)
        self._metrics.model_loaded.set(1)

    def _load(self, version: str | None, expected_sha: str | None) -> DelayRiskModel:
        assert self._registry is not None
        bundle = self._registry.load(version)
        if expected_sha is not None and bundle.metadata.get("artifact_sha256") != expected_sha:
            raise ModelRegistryError(f"model {version} does not match its announcement's checksum")
        if self._threshold is not None:
            bundle = replace(
                bundle, metadata={**bundle.metadata, "alert_threshold": self._threshold}
            )
        return DelayRiskModel(bundle)

    def _install(self, model: DelayRiskModel) -> None:
        previous = self._model.version if self._model else None
        self._model = model  # one assignment: a batch sees the old model or the new, never a mix
        self._metrics.model_info.info({"version": model.version})
        log.info("delay-risk model %s in use (was %s)", model.version, previous or "none")


async def watch_model_updates(settings: Settings, holder: ModelHolder) -> None:
    """Follow ``model-updates`` for as long as the worker runs."""
    consumer = AIOKafkaConsumer(
        settings.topics.model_updates,
        **aiokafka_options(settings),
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        async for record in consumer:
            try:
                announcement = orjson.loads(record.value)
            except orjson.JSONDecodeError:
                log.error("ignoring a malformed announcement at offset %d", record.offset)
                continue
            if isinstance(announcement, dict):
                await holder.apply_announcement(announcement)
    finally:
        await consumer.stop()
