"""``parcelwatch train | score | evaluate | promote``: the model lifecycle from event histories.

Every command replays the history through the worker's own core (``offline.replay``) and computes
features with the worker's own feature function (``models.features``), so offline numbers are the
numbers the worker would have produced.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from parcelwatch.models.baselines import Baselines, fit_baselines
from parcelwatch.models.dataset import Examples, build_examples, is_scorable, time_split
from parcelwatch.models.evaluate import evaluate
from parcelwatch.models.evaluation_result import EvaluationResult
from parcelwatch.models.features import feature_row
from parcelwatch.models.model_card import MODEL_CARD_FILE, render_model_card
from parcelwatch.models.registry import ModelBundle, ModelRegistry
from parcelwatch.models.scoring import DelayRiskModel
from parcelwatch.models.train import (
    DEFAULT_HALF_LIFE_DAYS,
    DEFAULT_THRESHOLD,
    TrainingDataError,
    fit_models,
    model_metadata,
)
from parcelwatch.models.verdict import heldout_figures, promotion_verdict
from parcelwatch.schemas.model_update import ModelUpdate, encode_model_update, model_update_key
from parcelwatch.schemas.timestamps import format_rfc3339, utc_now
from parcelwatch.schemas.types import Order, Scan
from parcelwatch.streams.offline.replay import (
    EventsRead,
    History,
    HistoryError,
    read_events,
    replay,
)
from parcelwatch.streams.runtime.kafka_admin import aiokafka_options, ensure_topics
from parcelwatch.streams.runtime.settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_MAX_INVALID_FRACTION = 0.01
SHOWN_INVALID_LINES = 5


@dataclass(frozen=True)
class HistoryFiles:
    """JSONL history files and how to read them.

    Lines that fail the contract are skipped and counted (``notify`` gets a summary with the
    first reasons as ``file:line: reason``) unless they exceed ``max_invalid_fraction`` of all
    lines, which stops with a :class:`HistoryError`; ``strict`` stops at the first one.
    """

    orders: Sequence[Path]
    scans: Sequence[Path]
    strict: bool = False
    max_invalid_fraction: float = DEFAULT_MAX_INVALID_FRACTION
    notify: Callable[[str], None] | None = None

    def load(self) -> History:
        now = utc_now()
        read = [
            read_events(self.orders, "order", now=now, strict=self.strict),
            read_events(self.scans, "scan", now=now, strict=self.strict),
        ]
        self._check_invalid(read)
        orders = [e for e in read[0].events if isinstance(e, Order)]
        scans = [e for e in read[1].events if isinstance(e, Scan)]
        return replay(orders, scans, now=now)

    def _check_invalid(self, read: list[EventsRead]) -> None:
        invalid = [line for part in read for line in part.invalid]
        if not invalid:
            return
        lines = sum(part.lines for part in read)
        shown = "\n".join(f"  {line}" for line in invalid[:SHOWN_INVALID_LINES])
        summary = (
            f"{len(invalid)} of {lines} history lines fail the contract "
            f"({len(invalid) / lines:.2%}); the first ones:\n{shown}"
        )
        if len(invalid) > self.max_invalid_fraction * lines:
            raise HistoryError(
                f"{summary}\nstopping: more than the {self.max_invalid_fraction:.2%} tolerated "
                "(--max-invalid-fraction)"
            )
        if self.notify is not None:  # the user's terminal: the reasons may quote their data
            self.notify(f"skipped {summary}")
        else:  # logs carry no event content: counts only
            logger.warning("skipped %d of %d invalid history lines", len(invalid), lines)

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for path in [*self.orders, *self.scans]:
            digest.update(path.name.encode() + b"\0")
            with path.open("rb") as data:
                for chunk in iter(lambda: data.read(1 << 20), b""):
                    digest.update(chunk)
        return digest.hexdigest()


def mature_examples(history: History, maturity_days: float) -> Examples:
    """Examples from shipments old enough for their outcome to be known.

    Recent shipments are censored: the quick ones are already delivered (on time) and the slow
    ones are not yet, so keeping them would teach the model that recent parcels are never late.
    """
    data_end = max(snapshot.scan.occurred_at for snapshot in history.snapshots)
    cutoff = data_end - timedelta(days=maturity_days)
    mature = {
        number
        for number, state in history.final_states.items()
        if state.order.ordered_at is not None and state.order.ordered_at <= cutoff
    }
    return build_examples(
        ((s.state, s.scan) for s in history.snapshots if s.state.tracking_number in mature),
        history.final_states,
    )


def _split(history: History, maturity_days: float, test_fraction: float) -> tuple[Examples, ...]:
    if not history.snapshots:
        raise TrainingDataError("the history holds no scans")
    examples = mature_examples(history, maturity_days)
    train, test = time_split(examples, test_fraction)
    if len(test) == 0 or len(train) == 0:
        raise TrainingDataError(
            f"{len(examples)} labelled rows are too few for a train/test split; "
            "provide more history or lower --maturity-days"
        )
    return train, test


def _evaluate(
    model: DelayRiskModel, train: Examples, test: Examples, baselines: Baselines | None = None
) -> EvaluationResult:
    risk, hours = model.predict(test.rows)
    baselines = baselines or fit_baselines(train)
    return evaluate(
        test,
        risk=risk,
        quantile_hours={"p10": hours[:, 0], "p50": hours[:, 1], "p90": hours[:, 2]},
        baseline_scores=baselines.scores(test),
        threshold=model.threshold,
    )


def train_command(
    files: HistoryFiles,
    model_dir: Path,
    *,
    maturity_days: float,
    test_fraction: float,
    threshold: float = DEFAULT_THRESHOLD,
    signing_key: bytes | None = None,
    half_life_days: float | None = DEFAULT_HALF_LIFE_DAYS,
    card: Path | None = None,
) -> tuple[str, EvaluationResult]:
    """Fit on the earlier shipments, evaluate on the latest, and register the version with its
    held-out figures and promotion verdict (a version that loses to its best baseline is still
    registered, as not promotable). Its model card goes beside it, and to ``card`` if given."""
    history = files.load()
    train, test = _split(history, maturity_days, test_fraction)
    fitted = fit_models(train, half_life_days=half_life_days)
    registry = ModelRegistry(model_dir, signing_key=signing_key)  # with a key: signed metadata
    metadata = model_metadata(fitted, threshold=threshold)
    # Evaluate before saving, so the registered version carries its held-out metrics.
    candidate = ModelBundle("candidate", fitted.classifier, fitted.quantile_models, metadata)
    baselines = fit_baselines(train)
    result = _evaluate(DelayRiskModel(candidate), train, test, baselines)
    heldout = heldout_figures(result, train, test)
    verdict = promotion_verdict(heldout)
    metadata = {
        **metadata,
        "promotable": verdict.promotable,
        "not_promotable_reasons": list(verdict.reasons),
        "heldout": heldout,
        "baselines_fitted": baselines.to_json(),  # what the worker falls back on
        "metrics": headline_metrics(result),
        "training_data": {
            "fingerprint": files.fingerprint(),
            "files": [str(p) for p in [*files.orders, *files.scans]],
            "train_rows": len(train),
            "train_shipments": len(set(train.tracking_numbers)),
            "test_rows": len(test),
            "first_ordered_at": format_rfc3339(min(train.ordered_at)),
            "last_ordered_at": format_rfc3339(max(test.ordered_at)),
            "maturity_days": maturity_days,
            "test_fraction": test_fraction,
        },
    }
    version = registry.save(
        classifier=fitted.classifier,
        quantile_models=fitted.quantile_models,
        metadata=metadata,
        created_at=utc_now(),
    )
    text = render_model_card(registry.metadata(version), version)
    # The card renders the stored (possibly signed) metadata and nothing else, and the registry
    # neither checksums nor reads it, so adding it beside the published version is safe.
    _write_atomically(model_dir / version / MODEL_CARD_FILE, text)
    if card is not None:
        _write_atomically(card, text)
    return version, result


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def headline_metrics(result: EvaluationResult) -> dict[str, Any]:
    """The numbers worth keeping beside a model version (the full report is `evaluate`'s job).

    A JSON document inside the version's (possibly signed) metadata, read back as a dict.
    """
    model, alerts = result.model, result.model.at_threshold
    return {
        "test_rows": result.data.rows,
        "test_shipments": result.data.shipments,
        "roc_auc": model.roc_auc,
        "pr_auc": model.pr_auc,
        "brier": model.brier,
        "precision": alerts.precision,
        "recall": alerts.recall,
        "false_alerts_per_1000_on_time": alerts.false_alerts_per_1000_on_time,
        "median_lead_time_hours": alerts.lead_time_hours.median,
        "interval_coverage": None if result.interval is None else result.interval.coverage,
        "baseline_roc_auc": {name: b.roc_auc for name, b in result.baselines.items()},
        "model_beats_all_baselines": result.comparison.model_beats_all_baselines,
    }


def evaluate_command(
    files: HistoryFiles,
    model_dir: Path,
    report_dir: Path,
    *,
    version: str | None,
    maturity_days: float,
    test_fraction: float,
) -> EvaluationResult:
    bundle = ModelRegistry(model_dir).load(version)
    train, test = _split(files.load(), maturity_days, test_fraction)
    result = _evaluate(DelayRiskModel(bundle), train, test)
    try:  # the plots need matplotlib, which only the report extra installs
        from parcelwatch.models.report import write_report
    except ModuleNotFoundError as missing:
        raise SystemExit(
            f"parcelwatch evaluate draws its report with {missing.name}: "
            "pip install 'parcelwatch[report]'"
        ) from missing
    write_report(result, report_dir, model_version=bundle.version, metadata=bundle.metadata)
    return result


def score_command(
    files: HistoryFiles, model_dir: Path, out: Path, *, version: str | None, batch_size: int = 4096
) -> int:
    """One JSONL line per scan of a not-yet-settled shipment: what the worker computed then."""
    model = DelayRiskModel(ModelRegistry(model_dir).load(version))
    snapshots = [s for s in files.load().snapshots if is_scorable(s.state)]
    with out.open("wb") as sink:
        for start in range(0, len(snapshots), batch_size):
            chunk = snapshots[start : start + batch_size]
            rows = [feature_row(s.state, s.scan.occurred_at) for s in chunk]
            estimates = model.score(rows, [s.scan.occurred_at for s in chunk])
            for snapshot, estimate in zip(chunk, estimates, strict=True):
                status = snapshot.state.tracking.status
                line = {
                    "event_id": snapshot.scan.event_id,
                    "tracking_number": snapshot.state.tracking_number,
                    "status": status.value if status else None,
                    "occurred_at": format_rfc3339(snapshot.scan.occurred_at),
                    "risk": round(estimate.risk, 6),
                    "predicted_delivery": format_rfc3339(estimate.expected_delivery),
                    "predicted_delivery_earliest": format_rfc3339(estimate.earliest_delivery),
                    "predicted_delivery_latest": format_rfc3339(estimate.latest_delivery),
                    "promised_by": _maybe_time(snapshot.state.order.promised_by),
                    "model_version": model.version,
                }
                sink.write(orjson.dumps(line) + b"\n")
    return len(snapshots)


def _maybe_time(moment: datetime | None) -> str | None:
    return None if moment is None else format_rfc3339(moment)


async def promote_command(
    settings: Settings, model_dir: Path, version: str, *, force: bool = False
) -> ModelUpdate:
    """Mark ``version`` promoted and announce it; running workers swap it in.

    With PARCELWATCH_MODEL_SIGNING_KEY the version must carry metadata signed with that key
    (written by ``train`` with it), and the announcement is signed for the workers to verify.
    A version ``train`` registered as not promotable is refused unless ``force``.
    """
    registry = ModelRegistry(model_dir, signing_key=settings.model_signing_key)
    return await announce_promotion(settings, registry, version, force=force)


async def announce_promotion(
    settings: Settings, registry: ModelRegistry, version: str, *, force: bool = False
) -> ModelUpdate:
    """Promote ``version`` in ``registry`` (PROMOTED) and publish the announcement under the
    registry's model name on ``model-updates``."""
    announcement = registry.promote(version, force=force)
    await ensure_topics(settings)
    producer = AIOKafkaProducer(**aiokafka_options(settings), acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            settings.topics.model_updates,
            key=model_update_key(announcement),
            value=encode_model_update(announcement),
        )
    finally:
        await producer.stop()
    return announcement
