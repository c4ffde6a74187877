"""Faust agents: thin adapters that feed messages to the processing pipeline.

Every batch passes the input ledger first (``pipeline.input_ledger``): only the messages that are
next in their partition are processed; re-reads of applied ones are counted as duplicates, and a
partition whose offsets were skipped is rewound. After the batch the ledger records what was
applied, in the same table (and changelog) as the states.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn

import faust
from faust.types import TP

from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.streams.core.answers import AnswerTemplates
from parcelwatch.streams.message_templates import load_templates
from parcelwatch.streams.message_templates.answer_files import (
    answers_folder,
    load_answer_templates,
)
from parcelwatch.streams.pipeline.error_text import describe, stack
from parcelwatch.streams.pipeline.input_ledger import (
    SKIPPED,
    Admission,
    InputLedger,
    Probe,
    Rewind,
    Verdict,
    ledger_key,
)
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.processing import InputMessage, OutputMessage, ShipmentProcessor
from parcelwatch.streams.pipeline.state_cache import StateCache
from parcelwatch.streams.runtime.batch_take import take_app_batches
from parcelwatch.streams.runtime.faust_events import focuser, input_messages
from parcelwatch.streams.runtime.feedback_model_holder import FeedbackModelHolder
from parcelwatch.streams.runtime.group_commits import CommitRepair
from parcelwatch.streams.runtime.health import HealthReport, WorkerHealth
from parcelwatch.streams.runtime.log_bounds import LogBounds
from parcelwatch.streams.runtime.log_probe import first_offsets_in_log
from parcelwatch.streams.runtime.model_holder import ModelHolder, watch_model_updates
from parcelwatch.streams.runtime.publishing import app_publisher
from parcelwatch.streams.runtime.read_offsets import fenced_read_offsets
from parcelwatch.streams.runtime.settings import Settings
from parcelwatch.streams.runtime.stall_report import describe_partition
from parcelwatch.streams.runtime.tables import add_keyed_table
from parcelwatch.streams.runtime.timers import CheckSweeper, sweep_blocker

log = logging.getLogger(__name__)

# Raw bytes in and out: decoding is ours, so a bad payload becomes a dead letter, not a crash.
RAW = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
EXIT_AGENT_DIED = 70  # EX_SOFTWARE: the orchestrator should restart the worker
WATCHDOG_SECONDS = 5.0
LEDGER_RETRY_SECONDS = 1.0  # the ledger itself paces its asks (rewind_retry_seconds)
FATAL_GRACE_SECONDS = 3.0  # /healthz answers 503 this long before a fatal exit
REWIND_TIMEOUT_SECONDS = 10.0  # a seek not done by then is given up; the ledger asks again
# A fenced seek whose record has not come yet is not repeated for this long: the records queued
# ahead of the re-fetched ones took 2-8 s to pass on a 12,000-event backlog, idle machine.
SEEK_TRUSTED_SECONDS = 30.0


@dataclass
class Tracking:
    """What the rest of the worker (web views, worker start-up) needs from the agent side."""

    health: WorkerHealth
    report: Any  # async () -> HealthReport
    shipments: Any  # the shipments table (states, order indexes): read by the lookup API
    answer_templates: AnswerTemplates  # the lookup API's wording, shared with support cases


def register_tracking(app: faust.App, settings: Settings, metrics: WorkerMetrics) -> Tracking:
    topics = settings.topics
    # Inputs and checks share one table keyed by tracking number, so they must be co-partitioned.
    consumed = app.topic(*topics.consumed, **RAW)
    shipments = add_keyed_table(  # values: the JSON object of schemas.state
        app,
        settings,
        "shipments",
        help_text="Per-shipment state (ShipmentState), keyed by tracking number.",
    )

    publish_many = app_publisher(app, (*topics.outputs, *topics.internal), metrics)

    async def publish(topic: str, key: bytes, value: bytes, partition: int | None = None) -> None:
        await publish_many([OutputMessage(topic, key, value, partition)])

    models = ModelHolder(
        settings.model_dir, metrics, settings.risk_threshold, signing_key=settings.model_signing_key
    )
    models.load_initial()
    feedback_models = FeedbackModelHolder(
        settings.model_dir, metrics, signing_key=settings.model_signing_key
    )
    feedback_models.load_initial()
    # Loaded once: the lookup API answers with them and support cases attach the same answer.
    answer_templates = load_answer_templates(answers_folder(settings.template_dir))
    state_cache = StateCache(settings.state_cache_size)
    sweeper = CheckSweeper(
        table=shipments,
        send_check=lambda key, value, partition: publish(
            topics.shipment_checks, key.encode(), value, partition
        ),
        clock=utc_now,
        metrics=metrics,
        interval_seconds=settings.check_interval_seconds,
        full_walk_seconds=settings.timer_full_walk_seconds,
        assignment=lambda: app.consumer.assignment(),
    )
    processor = ShipmentProcessor(
        topics=topics,
        limits=settings.limits,
        store=sweeper.indexed_table(),  # the due index sees every write
        publish=publish,
        publish_many=publish_many,
        clock=utc_now,
        metrics=metrics,
        scorer=models.current,
        risk_hysteresis=settings.risk_hysteresis,
        templates=load_templates(settings.template_dir),
        answer_templates=answer_templates,
        escalation_policy=settings.escalation_policy,
        follow_up_policy=settings.follow_up_policy,
        analyzer=feedback_models.current,
        feedback_wait=timedelta(hours=settings.feedback_wait_hours),
        return_policy=settings.return_policy,
        retention=settings.retention_policy,
        state_cache=state_cache,
    )
    processor.warm_up()  # before the agent runs: nothing may stall the event loop later
    table_view = _LedgerTable(shipments)
    cached_generation: list[int | None] = [None]  # the group generation the state cache is of
    ledger = InputLedger(table_view, clock=time.monotonic)
    health = WorkerHealth(
        clock=time.monotonic,
        stuck_after_seconds=settings.stuck_after_seconds,
        recovery_timeout_seconds=settings.recovery_timeout_seconds,
    )

    def settled() -> bool:
        return not (app.rebalancing or app.in_recovery)

    def inputs_assigned() -> set[tuple[str, int]]:
        consumer = app.consumer
        return {
            (tp.topic, tp.partition) for tp in consumer.assignment() if tp.topic in topics.consumed
        }

    async def rewind(rewinds: Sequence[Rewind]) -> None:
        read_offsets = fenced_read_offsets(app.consumer)
        rewinds = [  # not again a seek that still stands
            item
            for item in rewinds
            if not (
                item.again
                and read_offsets.seeking(
                    TP(item.topic, item.partition), item.offset, SEEK_TRUSTED_SECONDS
                )
            )
        ]
        if rewinds:
            await _rewind(app, rewinds)
        for item in rewinds:
            metrics.input_rewinds.labels(item.topic).inc()

    async def answer(probes: Sequence[Probe]) -> list[Rewind]:
        """Ask the log what the ledger's probes want to know; the rewinds that follow."""
        rewinds: list[Rewind] = []
        found = await first_offsets_in_log(settings, [probe.position for probe in probes])
        for probe in probes:
            more, absent = ledger.probed(probe, found[probe.position])
            rewinds += more
            metrics.input_offsets_absent.labels(probe.topic).inc(absent)
        return rewinds

    log_bounds = LogBounds()
    commit_repair = CommitRepair(app, metrics.commit_repairs)

    async def report() -> HealthReport:
        consumer = app.consumer
        assigned = inputs_assigned() if consumer is not None else set()
        # Plain reads, no broker round trip: a probe must answer during a broker outage too.
        # The committed offset (else the log's start) stands in for partitions that have
        # applied nothing yet.
        committed = consumer._committed_offset if consumer is not None else {}
        end_offsets = {tp: log_bounds.end(tp, consumer.highwater(TP(*tp))) for tp in assigned}
        positions = {
            tp: _first_known(committed.get(TP(*tp)), log_bounds.start(tp)) for tp in assigned
        }
        result = health.judge(
            assigned=assigned,
            end_offsets=end_offsets,
            positions=positions,
            settled=settled(),
            rewinding=bool(ledger.rewinding()),
        )
        metrics.worker_alive.set(int(result.alive))
        metrics.worker_ready.set(int(result.ready))
        metrics.input_lag.set(result.lag)
        return result

    # Every worker sweeps its own active partitions (the RocksDB store iterates only those; were
    # a standby swept too, its checks would still reach the owner, and a check is idempotent).
    @app.timer(interval=settings.check_interval_seconds)
    async def request_checks() -> None:
        await sweeper.tick(
            lambda: sweep_blocker(
                app, inputs=(topics.carrier_scans, topics.orders), max_lag=settings.timer_max_lag
            ),
            interrupted=lambda: bool(app.rebalancing),
        )

    @app.timer(interval=LEDGER_RETRY_SECONDS)
    async def ledger_retries() -> None:
        # Offsets committed but not applied, on a partition where no later message comes to
        # reveal it; rewinds whose re-fetched messages never came; start probes never answered.
        # Every second, not with the watchdog: once a partition's skipped messages were all
        # fetched nothing else wakes it (a bad-input chaos run waited 4.5 s for the watchdog).
        if settled() and app.consumer is not None:
            committed = app.consumer._committed_offset  # faust-streaming 0.15 internals (pinned)
            rewinds = ledger.verify(
                {tp: committed.get(TP(*tp)) for tp in inputs_assigned()},
                generation=app.consumer_generation_id,
            )
            health.known(ledger.next_offsets())  # verify read the stored ones
            await rewind([*rewinds, *await answer(ledger.unanswered_starts())])

    @app.timer(interval=WATCHDOG_SECONDS)
    async def watchdog() -> None:
        # The log's bounds for the health verdict, and applied offsets Faust never committed.
        if settled() and app.consumer is not None:
            assigned = inputs_assigned()
            await log_bounds.refresh(app.consumer, assigned)
            await commit_repair.tick(
                {tp: offset for tp, offset in ledger.next_offsets().items() if tp in assigned},
                generation=app.consumer_generation_id,
            )
        result = await report()
        if not result.alive and not health.fatal:
            log.error("worker unhealthy: %s", "; ".join(result.problems))
            report_stall(result.stuck_partitions)
            if settings.exit_when_stuck:
                await _exit_worker(health, "unhealthy: " + "; ".join(result.problems))

    def report_stall(stuck: Sequence[str]) -> None:
        """Where each stuck partition's messages stand (``stall_report``), before the exit."""
        consumer = app.consumer
        try:
            for tp in sorted(inputs_assigned() if consumer is not None else ()):
                if f"{tp[0]}[{tp[1]}]" in stuck:
                    log.error(
                        "stuck %s[%d]: ledger: %s; %s",
                        tp[0], tp[1], ledger.explain(tp), describe_partition(consumer, TP(*tp)),
                    )  # fmt: skip
        except Exception as error:  # never in the way of the exit it explains
            log.error("no stall report: %s", describe(error))

    @app.task
    async def follow_model_updates() -> None:
        await watch_model_updates(settings, models, feedback_models)

    async def on_agent_error(error: BaseException) -> None:
        ledger.reset()
        log.critical(
            "agent track_shipments died (%s); nothing is lost: the failed batch was not recorded "
            "as applied and is read again after the restart\n%s",
            describe(error),
            stack(error),
        )
        await _exit_worker(health, f"agent died: {describe(error)}")

    # concurrency=1 (the default) keeps per-partition order and avoids faust issue #606, where an
    # offset can be committed past a message another actor is still processing. take_batches acks
    # a batch only once the loop body asks for the next one (never a batch that failed).
    @app.agent(consumed, name="track_shipments", concurrency=1)
    async def track_shipments(stream: faust.StreamT) -> None:
        async for events in take_app_batches(app, stream, settings):
            try:
                await track(events)
            except Exception as error:
                await on_agent_error(error)
                raise

    async def track(events: Sequence[faust.EventT]) -> None:
        messages = input_messages(events)
        focus = focuser(events)

        table_view.focus = focus
        if app.consumer_generation_id != cached_generation[0]:
            # A rebalance: partitions this worker held may have been written by another since.
            state_cache.clear()
            cached_generation[0] = app.consumer_generation_id
        assigned = inputs_assigned()
        is_settled = settled()
        health.settled(is_settled)
        generation = app.consumer_generation_id
        # Partitions nothing was applied from yet: where the log starts, before judging.
        starts = ledger.starts_to_ask(
            messages, generation=generation, settled=is_settled, assigned=assigned.__contains__
        )
        await answer(starts)
        admission = ledger.admit(
            messages, generation=generation, settled=is_settled, assigned=assigned.__contains__
        )
        await rewind([*admission.rewinds, *await answer(admission.probes)])
        chosen = admission.indexes(Verdict.APPLY)
        await processor.process_batch(
            [messages[i] for i in chosen], lambda i, chosen=chosen: focus(chosen[i])
        )
        ledger.record(messages, admission)
        fenced_read_offsets(app.consumer).lift_fences_except(TP(*tp) for tp in ledger.rewinding())
        _count(metrics, messages, admission)
        health.applied(ledger.next_offsets())

    return Tracking(
        health=health, report=report, shipments=shipments, answer_templates=answer_templates
    )


class _LedgerTable:
    """The shipments table as the ledger sees it: one key per partition, focused by the agent."""

    def __init__(self, table: Any) -> None:
        self._table = table
        self.focus: Any = lambda index: None

    def read(self, partition: int, index: int | None) -> dict[str, Any] | None:
        if index is not None:  # outside a batch: the key names its partition, Faust finds it
            self.focus(index)
        return self._table.get(ledger_key(partition))

    def write(self, partition: int, index: int, value: dict[str, Any]) -> None:
        self.focus(index)
        self._table[ledger_key(partition)] = value


def _first_known(*offsets: int | None) -> int | None:
    return next((offset for offset in offsets if offset is not None), None)


def _count(metrics: WorkerMetrics, messages: Sequence[InputMessage], admission: Admission) -> None:
    for message, verdict in zip(messages, admission.verdicts, strict=True):
        if verdict is Verdict.ALREADY_APPLIED:
            metrics.events.labels(message.topic, "duplicate").inc()
        elif verdict in SKIPPED:
            metrics.input_skipped.labels(message.topic, verdict.value).inc()


async def _rewind(app: faust.App, rewinds: Sequence[Rewind]) -> None:
    """Send partitions back to their next unapplied offset.

    Messages fetched before the seek still come first, and each would move the fetch loop's
    "read offset" past the re-fetched ones, which it would then drop as already read: the seek
    fences the read offset (``read_offsets``) until the rewound-to message has passed. Should
    the next offset still not come, the ledger asks again, less often each time; it never takes
    a later message for the one it waits for.

    The seek runs on the consumer's own thread (``seek_on_consumer_thread``), not as Faust's
    ``seek`` does it, on the event loop's thread: there it raced the consumer thread draining
    fetched records, and aiokafka deleted a partition's buffer under it (a ``KeyError`` in
    ``fetched_records`` that ended the fetch loop; the two-worker tiny bench hit it once).
    Nor as Faust's ``seek_wait``: that also waits for the new position inside the consumer
    thread's method queue (up to ``broker_request_timeout``, 90 s), and every fetch queues behind
    it (a crash-loop chaos run stalled a worker for minutes so). A rewind that does not finish in
    ``REWIND_TIMEOUT_SECONDS`` is given up: the ledger asks again.
    """
    consumer = app.consumer
    for item in rewinds:
        try:
            await asyncio.wait_for(
                seek_on_consumer_thread(consumer, TP(item.topic, item.partition), item.offset),
                REWIND_TIMEOUT_SECONDS,
            )
        except Exception as error:  # e.g. the partition was just revoked: the rebalance
            log.warning(  # seeks it anyway, and the ledger judges again
                "could not rewind %s[%d] to %d: %s",
                item.topic, item.partition, item.offset, describe(error),
            )  # fmt: skip


async def seek_on_consumer_thread(consumer: Any, tp: TP, offset: int) -> None:
    """aiokafka's ``seek`` run by the thread that fetches, then the read offset Faust's own
    ``seek`` sets (faust-streaming 0.15's thread-delegating consumer; pinned), fenced
    (``read_offsets``)."""
    thread = consumer._thread
    await thread.call_thread(thread._ensure_consumer().seek, tp, offset)
    fenced_read_offsets(consumer).fence(tp, offset)


def leave_at_once(agent: str, error: BaseException) -> NoReturn:
    """A table-less side agent died: leave now, without Faust's orderly stop, which would
    acknowledge the batch in hand. It was not applied, so it is read again after the restart."""
    log.critical("agent %s died (%s)\n%s", agent, describe(error), stack(error))
    logging.shutdown()
    os._exit(EXIT_AGENT_DIED)


async def _exit_worker(health: WorkerHealth, reason: str) -> None:
    """Fail /healthz for a moment (probes and scrapes see why), then leave at once.

    Deliberately not Faust's orderly stop: that acknowledges and commits the batch in hand, which
    was not applied. A hard exit is what SIGKILL does, and that is covered: the input ledger
    re-reads whatever was not recorded as applied, and the unclean-shutdown marker makes the next
    start restore the tables from their changelog.
    """
    if health.fatal:
        return
    health.died(reason)
    log.critical("stopping the worker (exit code %d): %s", EXIT_AGENT_DIED, reason)
    await asyncio.sleep(FATAL_GRACE_SECONDS)
    logging.shutdown()
    os._exit(EXIT_AGENT_DIED)
