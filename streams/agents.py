"""Faust agents: thin adapters that feed messages to the processing pipeline."""

from __future__ import annotations

import asyncio
import itertools
import logging
import weakref
from collections.abc import Iterator, Sequence

import faust
from aiokafka.errors import KafkaError
from faust.streams import _current_event

from schemas.timestamps import utc_now
from schemas.types import Limits
from streams.message_templates import load_templates
from streams.metrics import WorkerMetrics
from streams.model_holder import ModelHolder, watch_model_updates
from streams.processing import InputMessage, ShipmentProcessor
from streams.settings import Settings
from streams.timers import CheckSweeper

log = logging.getLogger(__name__)

# Raw bytes in and out: decoding is ours, so a bad payload becomes a dead letter, not a crash.
RAW = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}


def register_tracking(app: faust.App, settings: Settings, metrics: WorkerMetrics) -> None:
    topics = settings.topics
    # Inputs and checks share one table keyed by tracking number, so they must be co-partitioned.
    consumed = app.topic(*topics.consumed, **RAW)
    outputs = {name: app.topic(name, **RAW) for name in (*topics.outputs, topics.shipment_checks)}
    shipments = app.Table(
        "shipments",
        key_type=str,  # values: the JSON object of schemas.state, stored by Faust's json codec
        partitions=settings.partitions,
        help="Per-shipment state (schemas.state.ShipmentState), keyed by tracking number.",
    )

    async def publish(topic: str, key: bytes, value: bytes, partition: int | None = None) -> None:
        # Wait for the broker's ack before the state change is written. While the broker cannot
        # take it, keep retrying: an exception here would make Faust ack (and lose) the input.
        for backoff in _backoff_seconds():
            try:
                delivery = await outputs[topic].send(key=key, value=value, partition=partition)
                await delivery
                return
            except KafkaError as error:
                log.warning(
                    "publishing to %s failed (%s); retrying in %.0f s", topic, error, backoff
                )
                await asyncio.sleep(backoff)

    models = ModelHolder(settings.model_dir, metrics, settings.risk_threshold)
    models.load_initial()
    processor = ShipmentProcessor(
        topics=topics,
        limits=Limits(
            max_payload_bytes=settings.max_payload_bytes,
            max_clock_skew_hours=settings.max_clock_skew_hours,
        ),
        store=shipments,
        publish=publish,
        clock=utc_now,
        metrics=metrics,
        scorer=models.current,
        risk_hysteresis=settings.risk_hysteresis,
        templates=load_templates(settings.template_dir),
        policy=settings.policy,
    )
    sweeper = CheckSweeper(
        table=shipments,
        send_check=lambda key, value, partition: publish(
            topics.shipment_checks, key.encode(), value, partition
        ),
        clock=utc_now,
        metrics=metrics,
        interval_seconds=settings.check_interval_seconds,
    )

    # Every worker sweeps its own active partitions (the RocksDB store iterates only those; were
    # a standby swept too, its checks would still reach the owner, and a check is idempotent).
    @app.timer(interval=settings.check_interval_seconds)
    async def request_checks() -> None:
        blocker = await _sweep_blocker(app, settings)
        if blocker is not None:
            metrics.timer_sweeps.labels(blocker).inc()
            return
        try:
            await sweeper.sweep(interrupted=lambda: bool(app.rebalancing))
        except Exception:  # a failed sweep must not stop the timer: the next one starts over
            log.exception("timer sweep failed")
            metrics.timer_sweeps.labels("failed").inc()

    @app.task
    async def follow_model_updates() -> None:
        await watch_model_updates(settings, models)

    # concurrency=1 (the default) keeps per-partition order and avoids faust issue #606, where an
    # offset can be committed past a message another actor is still processing. take_events acks
    # a batch only after the loop body has processed it.
    @app.agent(consumed, name="track_shipments", concurrency=1)
    async def track_shipments(stream: faust.StreamT) -> None:
        async for events in stream.take_events(settings.batch_size, within=settings.batch_seconds):
            messages = [
                InputMessage(
                    topic=event.message.topic,
                    partition=event.message.partition,
                    offset=event.message.offset,
                    key=event.message.key,
                    value=event.message.value,
                )
                for event in events
            ]

            def focus(index: int, events: Sequence[faust.EventT] = events) -> None:
                # Faust routes a table read or write to the partition of the *current* event
                # (a context variable). Inside a batch we say which event it belongs to. Only the
                # context variable: Stream.current_event is what take_events' buffer reads.
                _current_event.set(weakref.ref(events[index]))

            await processor.process_batch(messages, focus)


async def _sweep_blocker(app: faust.App, settings: Settings) -> str | None:
    """Why a sweep must wait, or None. While inputs lag, a silence may only be a backlog: the
    parcel's next scan is already in the topic, not yet read."""
    if app.rebalancing or app.in_recovery:
        return "skipped_rebalancing"
    consumer = app.consumer
    inputs = [tp for tp in consumer.assignment() if tp.topic in settings.topics.inputs]
    if not inputs:
        return "skipped_unassigned"
    for tp in inputs:
        highwater = consumer.highwater(tp)
        position = await consumer.position(tp)
        if highwater is None or position is None or highwater - position > settings.timer_max_lag:
            return "skipped_lagging"
    return None


def _backoff_seconds() -> Iterator[float]:
    """1, 2, 4 ... 30, 30, 30 ... seconds: forever, because giving up would lose the input."""
    return (min(30.0, 2.0**attempt) for attempt in itertools.count())
