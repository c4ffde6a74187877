"""Live model monitoring, batch by batch: outcomes counted into their model version's windows
(``streams.core.model_watch``), the windows stored, the gauges set; and, on the timer, a summary
per version and moment published on ``model-monitoring``.

Delivery is at-least-once. Dead letters are acknowledged before the windows are written; a crash
in between re-reads the batch, and the windows, as stored before it, count each outcome once (by
``outcome_id``). Summaries are read-only views of the windows: a timer may send them (only the
agent writes the table), and the same window with the same outcomes has the same ``summary_id``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from datetime import datetime
from typing import Any

from parcelwatch.schemas.codec import decode_model_outcome, encode
from parcelwatch.schemas.model_monitoring import ModelMonitoringSummary, RiskMoment
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import Limits
from parcelwatch.streams.core.model_watch import (
    ModelWatch,
    record_outcome,
    summaries,
    watch_from_json,
    watch_to_json,
)
from parcelwatch.streams.pipeline.error_text import describe
from parcelwatch.streams.pipeline.keyed_table import KeyedBatch, KeyedTableProcessor
from parcelwatch.streams.pipeline.messages import InputMessage, OutputMessage
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.processing import PublishMany
from parcelwatch.streams.pipeline.table_walk import TableWalk

log = logging.getLogger(__name__)
_YIELD_EVERY = 100  # table rows between yields to the event loop


class QualityGauges:
    """The ``parcelwatch_model_live_*`` gauges of the versions this worker's partitions hold.

    ``show`` sets a version's series; ``show_only`` also removes the series of versions (and
    bands, moments) no longer shown, e.g. after their partition moved to another worker.
    """

    def __init__(self, metrics: WorkerMetrics) -> None:
        self._metrics = metrics
        self._shown: dict[Any, set[tuple[str, ...]]] = {}

    def show(self, shown: Iterable[ModelMonitoringSummary]) -> set[tuple[Any, tuple[str, ...]]]:
        """Set the series of ``shown``; return the (gauge, labels) set."""
        metrics, touched = self._metrics, set()
        for summary in shown:
            labels = (summary.model_version, summary.moment.value)
            values: list[tuple[Any, tuple[str, ...], float | None]] = [
                (metrics.model_live_roc_auc, labels, summary.roc_auc),
                (metrics.model_live_brier, labels, summary.brier),
                (metrics.model_live_late_rate, labels, summary.late_rate),
                (metrics.model_live_outcomes, labels, float(summary.outcomes)),
            ]
            if summary.moment is RiskMoment.PICKUP:  # each alerted shipment once
                precision = summary.alert_precision
                values.append((metrics.model_live_alert_precision, labels[:1], precision))
            for band in summary.calibration:
                band_labels = (*labels, band.risk_band)
                values += [
                    (metrics.model_live_calibration_predicted, band_labels, band.mean_predicted),
                    (metrics.model_live_calibration_observed, band_labels, band.observed_late_rate),
                ]
            for gauge, gauge_labels, value in values:
                if value is None:
                    self._remove(gauge, gauge_labels)
                else:
                    gauge.labels(*gauge_labels).set(value)
                    self._shown.setdefault(gauge, set()).add(gauge_labels)
                    touched.add((gauge, gauge_labels))
        return touched

    def show_only(self, shown: Iterable[ModelMonitoringSummary]) -> None:
        touched = self.show(shown)
        for gauge, labels in list(self._each_shown()):
            if (gauge, labels) not in touched:
                self._remove(gauge, labels)

    def show_version(self, version: str, shown: Sequence[ModelMonitoringSummary]) -> None:
        """Set ``version``'s series and drop its bands and moments that ``shown`` lacks."""
        touched = self.show(shown)
        for gauge, labels in list(self._each_shown()):
            if labels[0] == version and (gauge, labels) not in touched:
                self._remove(gauge, labels)

    def _each_shown(self) -> Iterable[tuple[Any, tuple[str, ...]]]:
        for gauge, labelled in self._shown.items():
            for labels in labelled:
                yield gauge, labels

    def _remove(self, gauge: Any, labels: tuple[str, ...]) -> None:
        if labels in self._shown.get(gauge, set()):
            gauge.remove(*labels)
            self._shown[gauge].discard(labels)


class ModelMonitoringProcessor(KeyedTableProcessor[ModelWatch, KeyedBatch[ModelWatch]]):
    """Counts outcomes into their model version's windows (the table's key is the version)."""

    def __init__(
        self,
        *,
        topics: TopicNames,
        limits: Limits,
        store: MutableMapping[str, dict[str, Any]],  # model version -> stored ModelWatch
        publish_many: PublishMany,
        clock: Callable[[], datetime],
        metrics: WorkerMetrics,
        window_days: int,
        gauges: QualityGauges,
    ) -> None:
        super().__init__(
            topics=topics,
            limits=limits,
            store=store,
            publish_many=publish_many,
            clock=clock,
            metrics=metrics,
        )
        self._window_days = window_days
        self._gauges = gauges

    def _new_batch(self) -> KeyedBatch[ModelWatch]:
        return KeyedBatch()

    def _apply(self, message: InputMessage, now: datetime, batch: KeyedBatch[ModelWatch]) -> str:
        outcome = decode_model_outcome(
            message.payload, key=message.key, now=now, limits=self._limits
        )
        watch = self._state(outcome.model_version, batch)
        counted = record_outcome(watch, outcome, self._window_days)
        self._metrics.model_outcomes_counted.labels(counted.value).inc()
        return outcome.model_version

    def _new_state(self, key: str) -> ModelWatch:
        return ModelWatch(key)

    def _state_from_json(self, stored: dict[str, Any]) -> ModelWatch:
        return watch_from_json(stored)

    def _state_to_json(self, state: ModelWatch) -> dict[str, Any]:
        return watch_to_json(state)

    def _stored(self, key: str, state: ModelWatch, now: datetime) -> None:
        self._gauges.show_version(key, summaries(state, self._window_days, now))


class ModelMonitoringPublisher:
    """The timer's side: a summary per version and moment of this worker's partitions, published
    on ``model-monitoring``, and the gauges set to them. It only reads the table."""

    def __init__(
        self,
        *,
        topics: TopicNames,
        table: Any,  # the Faust table (a mapping of this worker's active partitions)
        publish_many: PublishMany,
        clock: Callable[[], datetime],
        window_days: int,
        gauges: QualityGauges,
        rows_between_yields: int = _YIELD_EVERY,
    ) -> None:
        self._topics = topics
        self._table = table
        self._publish_many = publish_many
        self._clock = clock
        self._window_days = window_days
        self._gauges = gauges
        self._rows_between_yields = rows_between_yields

    async def publish(self, interrupted: Callable[[], bool] = lambda: False) -> int | None:
        """How many summaries were published; None when ``interrupted()`` (a rebalance)."""
        now = self._clock()
        found: list[ModelMonitoringSummary] = []
        walk = TableWalk(self._table, self._rows_between_yields, interrupted)
        async for version, stored in walk:
            try:
                found += summaries(watch_from_json(stored), self._window_days, now)
            except (KeyError, TypeError, ValueError) as error:
                log.error("unreadable model monitoring windows of %s: %s", version, describe(error))
        if walk.interrupted:
            return None
        topic = self._topics.model_monitoring
        outputs = [
            OutputMessage(topic, summary.model_version.encode(), encode(summary))
            for summary in found
        ]
        if outputs:
            await self._publish_many(outputs)
        self._gauges.show_only(found)
        return len(found)
