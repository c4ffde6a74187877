"""The model monitoring agent and its timer: Faust wiring around ``pipeline.model_monitoring``.

* Agent ``watch_model_quality`` (concurrency 1, raw bytes) on ``model-outcomes``, keyed by model
  version: counts each outcome once into the ``model_quality_windows`` table (keyed by model
  version; changelog-backed, so the windows survive a restart) and sets the
  ``parcelwatch_model_live_*`` gauges of the versions it updated.
* Timer ``publish_model_quality``: every ``PARCELWATCH_MODEL_MONITORING_INTERVAL_SECONDS`` each
  worker reads its own partitions of the table, publishes a summary per version and moment on
  ``model-monitoring`` and sets the gauges to them (dropping those of versions it no longer owns).
"""

from __future__ import annotations

import logging

import faust

from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.model_monitoring import (
    ModelMonitoringProcessor,
    ModelMonitoringPublisher,
    QualityGauges,
)
from parcelwatch.streams.runtime.agents import RAW
from parcelwatch.streams.runtime.batch_agents import add_batch_agent, add_table_timer
from parcelwatch.streams.runtime.faust_events import focuser, input_messages
from parcelwatch.streams.runtime.publishing import app_publisher
from parcelwatch.streams.runtime.settings import Settings
from parcelwatch.streams.runtime.tables import add_keyed_table

log = logging.getLogger(__name__)
TABLE_NAME = "model_quality_windows"
# Each batch rewrites its model version's whole value (up to ~200 KB with the outcome ids it
# keeps): on a live stream, where batches go once caught up, that was a rewrite per outcome or
# two, ~10% of a worker's CPU at 600 inputs/s. Nobody waits on these counts (the summaries go out
# on a timer), so a batch gathers outcomes for this long (or until it is full).
GATHER_SECONDS = 1.0


def register_model_monitoring(app: faust.App, settings: Settings, metrics: WorkerMetrics) -> None:
    """Add the model monitoring agent, its table and its timer to ``app``."""
    topics = settings.topics
    source = app.topic(topics.model_outcomes, **RAW)
    windows = add_keyed_table(  # values: the JSON object of core.model_watch.watch_to_json
        app,
        settings,
        TABLE_NAME,
        help_text="Live model quality windows (ModelWatch), keyed by model version.",
    )
    publish_many = app_publisher(app, (topics.model_monitoring, topics.dead_letter), metrics)
    gauges = QualityGauges(metrics)
    window_days = settings.model_monitoring_window_days

    processor = ModelMonitoringProcessor(
        topics=topics,
        limits=settings.limits,
        store=windows,
        publish_many=publish_many,
        clock=utc_now,
        metrics=metrics,
        window_days=window_days,
        gauges=gauges,
    )
    publisher = ModelMonitoringPublisher(
        topics=topics,
        table=windows,
        publish_many=publish_many,
        clock=utc_now,
        window_days=window_days,
        gauges=gauges,
    )

    add_table_timer(
        app,
        name="publish_model_quality",
        interval=settings.model_monitoring_interval_seconds,
        read=lambda interrupted: publisher.publish(interrupted=interrupted),
        failure="model monitoring summary",
        log=log,
    )
    add_batch_agent(
        app,
        source,
        name="watch_model_quality",
        settings=settings,
        process=lambda events: processor.process_batch(input_messages(events), focuser(events)),
        gather=GATHER_SECONDS,
    )
