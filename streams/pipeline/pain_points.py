"""Pain points, batch by batch: tallies counted into their carrier's windows, due windows closed
on request, summaries and spikes published, then the windows stored.

Delivery is at-least-once. Outputs are acknowledged by the broker before the windows are written;
a crash in between re-reads the batch, re-applies it to the windows as stored before it (a
tally is counted once per window, by its feedback id) and publishes the same summaries and
spikes again, with the same deterministic ids: consumers de-duplicate by ``summary_id`` and
``spike_id``.

Windows are closed only by a ``PainPointClose`` message, which a worker's timer sends behind the
tallies already in the carrier's partition (``PainPointSweeper``). A backlog read after a pause
is therefore counted before its windows close, and only the agent that owns the partition
writes the windows table (Faust routes a table write by the event being processed).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from parcelwatch.schemas.codec import (
    decode_pain_point_input,
    encode,
)
from parcelwatch.schemas.feedback import FeedbackTally
from parcelwatch.schemas.pain_points import PainPointClose, PainPointSpike, PainPointSummary
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import Limits
from parcelwatch.streams.core.pain_points import (
    PainPointWindows,
    SpikePolicy,
    TallyOutcome,
    close_due,
    record_tally,
    state_from_json,
    state_to_json,
    stored_due_at,
)
from parcelwatch.streams.pipeline.error_text import describe
from parcelwatch.streams.pipeline.keyed_table import KeyedBatch, KeyedTableProcessor
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.processing import InputMessage, OutputMessage, PublishMany
from parcelwatch.streams.pipeline.table_walk import TableWalk

log = logging.getLogger(__name__)

# (carrier, payload, partition or None for the key's default partition)
SendClose = Callable[[str, bytes, int | None], Awaitable[None]]
_YIELD_EVERY = 1000  # table rows between yields to the event loop


@dataclass
class _Batch(KeyedBatch[PainPointWindows]):
    summaries: list[PainPointSummary] = field(default_factory=list)
    spikes: list[PainPointSpike] = field(default_factory=list)
    late: int = 0


class PainPointProcessor(KeyedTableProcessor[PainPointWindows, _Batch]):
    """Counts tallies into their carrier's windows (the table's key) and closes them on request."""

    def __init__(
        self,
        *,
        topics: TopicNames,
        limits: Limits,
        store: MutableMapping[str, dict[str, Any]],  # carrier -> stored windows
        publish_many: PublishMany,
        clock: Callable[[], datetime],
        metrics: WorkerMetrics,
        grace: timedelta,
        policy: SpikePolicy,
    ) -> None:
        super().__init__(
            topics=topics,
            limits=limits,
            store=store,
            publish_many=publish_many,
            clock=clock,
            metrics=metrics,
        )
        self._grace = grace
        self._policy = policy

    def _new_batch(self) -> _Batch:
        return _Batch()

    def _apply(self, message: InputMessage, now: datetime, batch: _Batch) -> str:
        event = decode_pain_point_input(
            message.payload,
            key=message.key,
            now=now,
            limits=self._limits,
        )
        state = self._state(event.carrier, batch)
        state.home_partition = message.partition
        if isinstance(event, FeedbackTally):
            outcome = record_tally(state, event)
            if outcome in (TallyOutcome.LATE, TallyOutcome.LATE_FOR_HOUR):
                batch.late += 1
        else:
            self._close(state, event, batch)
        return event.carrier

    def _new_state(self, key: str) -> PainPointWindows:
        return PainPointWindows(key)

    def _state_from_json(self, stored: dict[str, Any]) -> PainPointWindows:
        return state_from_json(stored)

    def _state_to_json(self, state: PainPointWindows) -> dict[str, Any]:
        return state_to_json(state)

    def _finish(self, batch: _Batch) -> None:
        for summary in batch.summaries:
            self._metrics.pain_point_windows_closed.labels(summary.window.size.value).inc()
        for spike in batch.spikes:
            self._metrics.pain_point_spikes.labels(spike.topic.value).inc()
        self._metrics.pain_point_late_tallies.inc(batch.late)

    def _close(self, state: PainPointWindows, request: PainPointClose, batch: _Batch) -> None:
        # The request's time, not the clock's: a replayed request closes what it closed before.
        closing = close_due(state, request.requested_at, self._grace, self._policy)
        batch.states[state.carrier] = closing.state
        key = state.carrier.encode()
        for summary in closing.summaries:
            batch.outputs.append(OutputMessage(self._topics.pain_points, key, encode(summary)))
        for spike in closing.spikes:
            batch.outputs.append(OutputMessage(self._topics.pain_point_spikes, key, encode(spike)))
            log.info("pain-point spike: %s", spike.message)  # carrier, topic, region: no PII
        batch.summaries += closing.summaries
        batch.spikes += closing.spikes


class PainPointSweeper:
    """The timer's side: asks the owner of every carrier with a due window to close it.

    It only reads the table. A close request is idempotent (a second one finds nothing due), so
    one sent again before the first was applied does no harm.
    """

    def __init__(
        self,
        *,
        table: Any,  # the Faust table (a mapping of this worker's active partitions)
        send_close: SendClose,
        clock: Callable[[], datetime],
        grace: timedelta,
        rows_between_yields: int = _YIELD_EVERY,
    ) -> None:
        self._table = table
        self._send_close = send_close
        self._clock = clock
        self._grace = grace
        self._rows_between_yields = rows_between_yields

    async def sweep(self, interrupted: Callable[[], bool] = lambda: False) -> int | None:
        """How many close requests were sent; None when ``interrupted()`` (a rebalance)."""
        now = self._clock()
        due: list[tuple[str, int | None]] = []
        walk = TableWalk(self._table, self._rows_between_yields, interrupted)
        async for carrier, stored in walk:
            try:
                due_at = stored_due_at(stored, self._grace)
            except (KeyError, TypeError, ValueError) as error:
                log.error("unreadable pain-point windows in the table: %s", describe(error))
                continue
            if due_at is not None and due_at <= now:
                due.append((carrier, stored.get("home_partition")))
        if walk.interrupted:
            return None
        for carrier, partition in due:
            request = PainPointClose(carrier=carrier, requested_at=now)
            await self._send_close(carrier, encode(request), partition)
        return len(due)
