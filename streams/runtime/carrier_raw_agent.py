"""The raw-payload agent: Faust wiring around ``pipeline.carrier_raw``.

Agent ``normalize_carrier_raw`` (concurrency 1, raw bytes) on ``carrier-raw``: each batch's
payloads become canonical scans on ``carrier-scans`` (keyed by tracking number), or dead letters.
It keeps no table. Outputs are acknowledged before the batch is: at-least-once, and a batch read
again publishes the same scan ids, which the tracking agent counts as duplicates.
"""

from __future__ import annotations

import logging

import faust

from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.streams.pipeline.carrier_raw import CarrierRawProcessor
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.runtime.agents import RAW
from parcelwatch.streams.runtime.batch_agents import add_batch_agent
from parcelwatch.streams.runtime.faust_events import input_messages
from parcelwatch.streams.runtime.publishing import app_publisher
from parcelwatch.streams.runtime.settings import Settings

log = logging.getLogger(__name__)
AGENT_NAME = "normalize_carrier_raw"


def register_carrier_raw(app: faust.App, settings: Settings, metrics: WorkerMetrics) -> None:
    """Add the raw-payload agent to ``app``."""
    topics = settings.topics
    source = app.topic(topics.carrier_raw, **RAW)
    processor = CarrierRawProcessor(
        topics=topics,
        limits=settings.limits,
        publish_many=app_publisher(app, (topics.carrier_scans, topics.dead_letter), metrics),
        clock=utc_now,
        metrics=metrics,
    )

    # A parcel's payloads are keyed by its number: one agent per partition keeps their order.
    add_batch_agent(
        app,
        source,
        name=AGENT_NAME,
        settings=settings,
        process=lambda events: processor.process_batch(input_messages(events)),
    )
