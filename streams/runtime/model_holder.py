"""The worker's current models, and hot swaps announced on ``model-updates``.

:class:`AnnouncedModelHolder` follows one model's announcements (its ``model`` name; the others
are not its business); :class:`ModelHolder` holds the delay-risk model, and
``feedback_model_holder.FeedbackModelHolder`` the feedback analyzer.

``parcelwatch promote`` writes the registry's PROMOTED file and publishes an announcement
(schemas/model_update.py) to the compacted ``model-updates`` topic. Every worker reads that topic
from the start without a consumer group (each worker must see every announcement), admits an
announcement only if it is authentic (signed with PARCELWATCH_MODEL_SIGNING_KEY, when one is
set) and newer than the one in force, loads the version from its model directory off the event
loop, checks that the artifact is the one announced, and swaps it in between two batches: no
restart, no lost event. Refused announcements are counted by reason and logged without their
content: whoever wrote them may not be who they claim to be.

A delay-risk version that ``train`` registered as not promotable (it lost to its own baseline on
held-out data) runs only when its announcement is forced (``promote --force``). At start-up the
worker otherwise scores with that version's best baseline (``models.fallback``, model version
``baseline:<name>``); an unforced announcement of such a version is refused
(``not_promotable``) and the scorer in force stays.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Generic, TypeVar

from aiokafka import AIOKafkaConsumer
from prometheus_client import Counter, Gauge, Info

from parcelwatch.models.fallback import BaselineScorer, is_promotable
from parcelwatch.models.registry import (
    ModelBundle,
    ModelRegistry,
    ModelRegistryError,
    NotPromotable,
)
from parcelwatch.models.scoring import DelayRiskModel
from parcelwatch.models.signing import update_is_authentic
from parcelwatch.schemas.model_update import (
    DELAY_RISK_MODEL,
    InvalidModelUpdate,
    ModelUpdate,
    decode_model_update,
)
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
    NOT_PROMOTABLE = "not_promotable"  # lost to its baseline, and the announcement is not forced


class UpdateRefused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


def admit(payload: bytes, signing_key: bytes | None) -> ModelUpdate:
    """The announcement in ``payload`` if it is well-formed and, with a key, authentic."""
    return authenticated(decoded(payload), signing_key)


def decoded(payload: bytes) -> ModelUpdate:
    try:
        return decode_model_update(payload)
    except InvalidModelUpdate:
        raise UpdateRefused(Refusal.MALFORMED) from None


def authenticated(update: ModelUpdate, signing_key: bytes | None) -> ModelUpdate:
    if signing_key is not None:
        if update.signature is None:
            raise UpdateRefused(Refusal.UNSIGNED)
        if not update_is_authentic(signing_key, update):
            raise UpdateRefused(Refusal.BAD_SIGNATURE)
    return update


@dataclass(frozen=True)
class ModelGauges:
    """One model's series: loaded (1/0), the version in use, announcements refused by reason."""

    loaded: Gauge
    info: Info
    rejected: Counter


M = TypeVar("M")


class AnnouncedModelHolder(ABC, Generic[M]):
    """One model in force, swapped between two batches when a newer version is announced.

    Subclasses say which model they hold (``model_name``), what runs at start-up, how a stored
    version becomes the model object, and what version a model object is.
    """

    model_name: str

    def __init__(self, registry: ModelRegistry | None, gauges: ModelGauges) -> None:
        self._registry = registry
        self._gauges = gauges
        self._model: M | None = None
        self._in_force_since: datetime | None = None  # promoted_at of the announcement applied

    @property
    def has_model_dir(self) -> bool:
        return self._registry is not None

    @abstractmethod
    def _start_model(self, promoted: ModelUpdate | None) -> M | None:
        """The model to run at start-up, given the registry's promoted announcement if any."""

    @abstractmethod
    def _load(self, version: str | None) -> M:
        """Verify and load a stored version (None: the promoted one, else the newest)."""

    @abstractmethod
    def _version(self, model: M) -> str: ...

    @abstractmethod
    def _is_learned(self, model: M) -> bool:
        """Whether the loaded gauge counts this model (a rules-only fallback does not)."""

    def load_initial(self) -> None:
        promoted = self._registry.promoted_update() if self._registry is not None else None
        model = self._start_model(promoted)
        if model is not None:
            self._install(model)
            if promoted is not None:
                self._in_force_since = promoted.promoted_at
        self._gauges.loaded.set(1 if model is not None and self._is_learned(model) else 0)

    async def receive(self, payload: bytes, offset: int, signing_key: bytes | None) -> None:
        """One message of ``model-updates``: switch models, or count and log why not."""
        try:
            update = decoded(payload)
            if update.model != self.model_name:
                return  # another model's announcement: its own holder reads it
            if self._registry is None:
                log.warning(
                    "a %s model was announced, but there is no model directory", update.model
                )
                return
            await self._apply(authenticated(update, signing_key))
        except UpdateRefused as refusal:
            self._gauges.rejected.labels(refusal.reason.value).inc()
            level = logging.INFO if refusal.reason is Refusal.STALE else logging.WARNING
            log.log(
                level,
                "%s model announcement at offset %d refused: %s",
                self.model_name,
                offset,
                refusal.reason,
            )

    async def _apply(self, update: ModelUpdate) -> None:
        current = None if self._model is None else self._version(self._model)
        if self._in_force_since is not None and update.promoted_at <= self._in_force_since:
            if update.version == current:
                return  # the announcement in force, read again at start-up
            raise UpdateRefused(Refusal.STALE)
        if update.version != current:
            loop = asyncio.get_running_loop()
            try:
                model = await loop.run_in_executor(None, self._load_announced, update)
            except NotPromotable as error:
                log.error(
                    "not switching to %s model %s: %s", self.model_name, update.version, error
                )
                raise UpdateRefused(Refusal.NOT_PROMOTABLE) from None
            except (ModelRegistryError, ValueError) as error:
                # The version passed the contract's pattern, so the message is safe to log.
                log.error(
                    "not switching to %s model %s: %s", self.model_name, update.version, error
                )
                raise UpdateRefused(Refusal.NOT_LOADABLE) from None
            self._install(model)
            self._gauges.loaded.set(1 if self._is_learned(model) else 0)
        self._in_force_since = update.promoted_at

    def _load_announced(self, update: ModelUpdate) -> M:
        assert self._registry is not None
        if self._registry.metadata(update.version).get("artifact_sha256") != (
            update.artifact_sha256
        ):
            raise ModelRegistryError(
                f"model {update.version} does not match its announcement's checksum"
            )
        return self._load_update(update)

    def _load_update(self, update: ModelUpdate) -> M:
        """The model an authentic, newer announcement asks for; subclasses may refuse it by
        raising ``NotPromotable``."""
        return self._load(update.version)

    def _install(self, model: M) -> None:
        previous = None if self._model is None else self._version(self._model)
        self._model = model  # one assignment: a batch sees the old model or the new, never a mix
        version = self._version(model)
        self._gauges.info.info({"version": version})
        log.info("%s model %s in use (was %s)", self.model_name, version, previous or "none")


Scorer = DelayRiskModel | BaselineScorer


class ModelHolder(AnnouncedModelHolder[Scorer]):
    """The delay-risk scorer: the promoted (else newest) version, or that version's best baseline
    when it is not promotable and not forced; without any version, rules only."""

    model_name = DELAY_RISK_MODEL

    def __init__(
        self,
        model_dir: Path | None,
        metrics: WorkerMetrics,
        threshold: float | None = None,
        *,
        signing_key: bytes | None = None,
    ) -> None:
        # With a key, the registry also refuses versions and PROMOTED files not signed with it.
        registry = (
            ModelRegistry(model_dir, signing_key=signing_key) if model_dir is not None else None
        )
        gauges = ModelGauges(
            metrics.model_loaded, metrics.model_info, metrics.model_updates_rejected
        )
        super().__init__(registry, gauges)
        self._threshold = threshold
        self._heldout_roc_auc = metrics.model_heldout_roc_auc
        self._heldout: dict[str, float] = {}  # scorer version -> its model card's ROC-AUC

    def current(self) -> Scorer | None:
        return self._model

    def _start_model(self, promoted: ModelUpdate | None) -> Scorer | None:
        if self._registry is None:
            log.warning("no model directory (PARCELWATCH_MODEL_DIR): running rules only")
            return None
        if not self._registry.versions():
            log.warning("no model in %s yet: running rules only", self._registry.root)
            return None
        bundle = self._bundle(None)
        if is_promotable(bundle.metadata) or (
            promoted is not None and promoted.version == bundle.version and promoted.forced
        ):
            self._remember_heldout(bundle.version, bundle.metadata)
            return DelayRiskModel(bundle)
        try:
            fallback = BaselineScorer.from_metadata(
                bundle.metadata, float(bundle.metadata["alert_threshold"])
            )
            self._remember_heldout(fallback.version, bundle.metadata, fallback.name)
        except (KeyError, ValueError) as error:
            log.error(
                "model %s is not promotable and %s: running rules only", bundle.version, error
            )
            return None
        log.warning(
            "model %s lost to its baseline on held-out data (not promotable): scoring with %s; "
            "promote a better version, or this one with --force",
            bundle.version,
            fallback.version,
        )
        return fallback

    def _load(self, version: str | None) -> DelayRiskModel:
        bundle = self._bundle(version)
        self._remember_heldout(bundle.version, bundle.metadata)
        return DelayRiskModel(bundle)

    def _load_update(self, update: ModelUpdate) -> DelayRiskModel:
        bundle = self._bundle(update.version)
        if not is_promotable(bundle.metadata) and not update.forced:
            raise NotPromotable(
                f"version {update.version} was registered as not promotable and the "
                "announcement is not forced"
            )
        self._remember_heldout(bundle.version, bundle.metadata)
        return DelayRiskModel(bundle)

    def _bundle(self, version: str | None) -> ModelBundle:
        assert self._registry is not None
        bundle = self._registry.load(version)
        if self._threshold is not None:
            bundle = replace(
                bundle, metadata={**bundle.metadata, "alert_threshold": self._threshold}
            )
        return bundle

    def _remember_heldout(self, version: str, metadata: dict, baseline: str | None = None) -> None:
        """The held-out ROC-AUC ``train`` measured for the model (or for ``baseline``), which
        live quality is compared with (``ModelLiveQualityBelowHeldOut``)."""
        heldout = metadata.get("heldout")
        if not isinstance(heldout, dict):
            return  # trained before the model card recorded it
        source = heldout if baseline is None else heldout.get("baselines", {}).get(baseline, {})
        figure = source.get("roc_auc") if isinstance(source, dict) else None
        if isinstance(figure, int | float):
            self._heldout[version] = float(figure)

    def _install(self, model: Scorer) -> None:
        super()._install(model)
        figure = self._heldout.get(model.version)
        if figure is not None:
            self._heldout_roc_auc.labels(model.version).set(figure)

    def _version(self, model: Scorer) -> str:
        return model.version

    def _is_learned(self, model: Scorer) -> bool:
        return isinstance(model, DelayRiskModel)


async def watch_model_updates(settings: Settings, *holders: AnnouncedModelHolder) -> None:
    """Follow ``model-updates`` for as long as the worker runs; every holder reads every message
    (each keeps the announcements for its own model)."""
    signing_key = settings.model_signing_key
    if signing_key is None and any(holder.has_model_dir for holder in holders):
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
            for holder in holders:
                await holder.receive(record.value or b"", record.offset, signing_key)
    finally:
        await consumer.stop()
