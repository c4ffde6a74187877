"""The worker's current delay-risk model, and hot swaps announced on ``model-updates``.

``parcelwatch promote`` writes the registry's PROMOTED file and publishes an announcement
(schemas/model_update.py) to the compacted ``model-updates`` topic. Every worker reads that topic
from the start without a consumer group (each worker must see every announcement), admits an
announcement only if it is authentic (signed with PARCELWATCH_MODEL_SIGNING_KEY, when one is
set) and newer than the one in force, loads the version from its model directory off the event
loop, checks that the artifact is the one announced, and swaps it in between two batches: no
restart, no lost event. Refused announcements are counted by reason and logged without their
content: whoever wrote them may not be who they claim to be.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from parcelwatch.models.registry import ModelRegistry, ModelRegistryError
from parcelwatch.models.scoring import DelayRiskModel
from parcelwatch.models.signing import update_is_authentic
from parcelwatch.schemas.model_update import InvalidModelUpdate, ModelUpdate, decode_model_update
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.runtime.kafka_admin import aiokafka_options
from parcelwatch.streams.runtime.settings import Settings

log = logging.getLogger(__name__)


class Refusal(StrEnum):
    """Why an announcement did not switch the model (the ``reason`` label of the metric)."""

    MALFORMED = "malformed"  # not a model-update.v1 announcement
    UNSIGNED = "unsigned"  # this worker has a signing key; the announcement has no signature
    BAD_SIGNATURE = "bad_signature"  # signed with another key, or altered after signing
    STALE = "stale"  # not newer than the announcement in force: a replay, or old history
    NOT_LOADABLE = "not_loadable"  # unknown version, checksum mismatch, refused by the registry


class UpdateRefused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


def admit(payload: bytes, signing_key: bytes | None) -> ModelUpdate:
    """The announcement in ``payload`` if it is well-formed and, with a key, authentic."""
    try:
        update = decode_model_update(payload)
    except InvalidModelUpdate:
        raise UpdateRefused(Refusal.MALFORMED) from None
    if signing_key is not None:
        if update.signature is None:
            raise UpdateRefused(Refusal.UNSIGNED)
        if not update_is_authentic(signing_key, update):
            raise UpdateRefused(Refusal.BAD_SIGNATURE)
    return update


class ModelHolder:
    def __init__(
        self,
        model_dir: Path | None,
        metrics: WorkerMetrics,
        threshold: float | None = None,
        *,
        signing_key: bytes | None = None,
    ) -> None:
        # With a key, the registry also refuses versions and PROMOTED files not signed with it.
        self._registry = (
            ModelRegistry(model_dir, signing_key=signing_key) if model_dir is not None else None
        )
        self.metrics = metrics
        self._threshold = threshold
        self._model: DelayRiskModel | None = None
        self._in_force_since: datetime | None = None  # promoted_at of the announcement applied

    @property
    def has_model_dir(self) -> bool:
        return self._registry is not None

    def current(self) -> DelayRiskModel | None:
        return self._model

    def load_initial(self) -> None:
        """The promoted (else newest) version, if any; a worker without one runs its rules."""
        if self._registry is None:
            log.warning("no model directory (PARCELWATCH_MODEL_DIR): running rules only")
        elif not self._registry.versions():
            log.warning("no model in %s yet: running rules only", self._registry.root)
        else:
            promoted = self._registry.promoted_update()
            self._install(self._load(None, None))
            if promoted is not None:
                self._in_force_since = promoted.promoted_at
        self.metrics.model_loaded.set(1 if self._model else 0)

    async def receive(self, payload: bytes, offset: int, signing_key: bytes | None) -> None:
        """One message of ``model-updates``: switch models, or count and log why not."""
        if self._registry is None:
            log.warning("a model was announced, but this worker has no model directory")
            return
        try:
            update = admit(payload, signing_key)
            await self._apply(update)
        except UpdateRefused as refusal:
            self.metrics.model_updates_rejected.labels(refusal.reason.value).inc()
            level = logging.INFO if refusal.reason is Refusal.STALE else logging.WARNING
            log.log(level, "model announcement at offset %d refused: %s", offset, refusal.reason)

    async def _apply(self, update: ModelUpdate) -> None:
        if self._in_force_since is not None and update.promoted_at <= self._in_force_since:
            if self._model is not None and update.version == self._model.version:
                return  # the announcement in force, read again at start-up
            raise UpdateRefused(Refusal.STALE)
        if self._model is None or self._model.version != update.version:
            loop = asyncio.get_running_loop()
            try:
                model = await loop.run_in_executor(
                    None, self._load, update.version, update.artifact_sha256
                )
            except (ModelRegistryError, ValueError) as error:
                # The version passed the contract's pattern, so the message is safe to log.
                log.error("not switching to model %s: %s", update.version, error)
                raise UpdateRefused(Refusal.NOT_LOADABLE) from None
            self._install(model)
            self.metrics.model_loaded.set(1)
        self._in_force_since = update.promoted_at

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
        self.metrics.model_info.info({"version": model.version})
        log.info("delay-risk model %s in use (was %s)", model.version, previous or "none")


async def watch_model_updates(settings: Settings, holder: ModelHolder) -> None:
    """Follow ``model-updates`` for as long as the worker runs."""
    signing_key = settings.model_signing_key
    if signing_key is None and holder.has_model_dir:
        log.warning(
            "PARCELWATCH_MODEL_SIGNING_KEY is not set: model promotions are NOT authenticated; "
            "anyone who can write to %s can switch this worker to any stored model version",
            settings.topics.model_updates,
        )
    consumer = AIOKafkaConsumer(
        settings.topics.model_updates,
        **aiokafka_options(settings),
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        async for record in consumer:
            await holder.receive(record.value or b"", record.offset, signing_key)
    finally:
        await consumer.stop()
