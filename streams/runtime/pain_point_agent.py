"""The pain-point agent and its timer: Faust wiring around ``pipeline.pain_points``.

* Agent ``count_pain_points`` (concurrency 1, raw bytes) on ``feedback-tallies``, keyed by
  carrier: counts tallies into the ``pain_point_windows`` table (keyed by carrier) and, on a
  close request, closes the due windows and publishes their summaries (``pain-points``) and
  spikes (``pain-point-spikes``). Outputs are acknowledged before the table write: at-least-once,
  with deterministic ids (see ``pipeline.pain_points``).
* Timer ``request_pain_point_closes``: every ``PARCELWATCH_PAIN_POINT_INTERVAL_SECONDS`` each
  worker reads its own partitions of the table and sends a close request for every carrier with
  a window past its end plus ``PARCELWATCH_PAIN_POINT_GRACE_MINUTES``. The request goes behind
  the tallies already in the partition, and the agent applies it (a timer may not write a table).
"""

from __future__ import annotations

import logging

import faust

from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.pain_points import PainPointProcessor, PainPointSweeper
from parcelwatch.streams.pipeline.processing import OutputMessage
from parcelwatch.streams.runtime.agents import RAW
from parcelwatch.streams.runtime.batch_agents import add_batch_agent, add_table_timer
from parcelwatch.streams.runtime.faust_events import focuser, input_messages
from parcelwatch.streams.runtime.publishing import app_publisher
from parcelwatch.streams.runtime.settings import Settings
from parcelwatch.streams.runtime.tables import add_keyed_table

log = logging.getLogger(__name__)
TABLE_NAME = "pain_point_windows"


def register_pain_points(app: faust.App, settings: Settings, metrics: WorkerMetrics) -> None:
    """Add the pain-point agent, its table and its timer to ``app``."""
    topics = settings.topics
    source = app.topic(topics.feedback_tallies, **RAW)
    publish_many = app_publisher(
        app,
        (
            topics.pain_points,
            topics.pain_point_spikes,
            topics.dead_letter,
            topics.feedback_tallies,
        ),
        metrics,
    )
    windows = add_keyed_table(  # values: the JSON object of core.pain_points.state_to_json
        app,
        settings,
        TABLE_NAME,
        help_text="Pain-point windows (PainPointWindows), keyed by carrier.",
    )

    processor = PainPointProcessor(
        topics=topics,
        limits=settings.limits,
        store=windows,
        publish_many=publish_many,
        clock=utc_now,
        metrics=metrics,
        grace=settings.pain_point_grace,
        policy=settings.pain_point_spikes,
    )

    async def send_close(carrier: str, value: bytes, partition: int | None) -> None:
        await publish_many(
            [OutputMessage(topics.feedback_tallies, carrier.encode(), value, partition)]
        )

    sweeper = PainPointSweeper(
        table=windows, send_close=send_close, clock=utc_now, grace=settings.pain_point_grace
    )

    add_table_timer(
        app,
        name="request_pain_point_closes",
        interval=settings.pain_point_interval_seconds,
        read=lambda interrupted: sweeper.sweep(interrupted=interrupted),
        failure="pain-point sweep",
        log=log,
    )
    # One agent per partition keeps its order: a close request after the tallies before it.
    add_batch_agent(
        app,
        source,
        name="count_pain_points",
        settings=settings,
        process=lambda events: processor.process_batch(input_messages(events), focuser(events)),
    )
