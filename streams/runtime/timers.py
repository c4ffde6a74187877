"""The silence timer: each worker sweeps its own partitions of the shipments table and asks for a
check of every shipment whose ``next_check_at`` has come.

The timer does not judge or write anything itself. Faust routes a table write by the stream event
being processed, and a shipment's sent-notification record must be committed with its partition's
offsets, so the timer sends a ``shipment-checks`` message keyed by tracking number; the message
lands on the same partition as the shipment's scans and the tracking agent applies it like a scan.
Duplicate checks are harmless: a check only does what the state says is due, once.

Which rows to read is the due index's answer (``due_index.py``): a tick reads only the rows due,
not the whole table. Whether a row read is due is decided in one place, ``due_check``. The sweep
yields to the event loop between rows and stops at a rebalance, so it owns the iteration.
Everything here is independent of Faust: ``sweep_blocker`` reads the worker through the few
members it needs (``WorkerView``), and the agent's timer only calls ``CheckSweeper.tick``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.order_state import is_order_key, is_return_key, order_id_of
from parcelwatch.schemas.state import stored_due, stored_timer
from parcelwatch.schemas.timestamps import parse_rfc3339
from parcelwatch.schemas.types import ShipmentCheck
from parcelwatch.streams.pipeline.input_ledger import is_ledger_key
from parcelwatch.streams.pipeline.metrics import REFUND_AGE_BUCKETS, WorkerMetrics, refund_age_label
from parcelwatch.streams.pipeline.table_walk import TableWalk
from parcelwatch.streams.runtime.due_index import DueIndex, IndexedTable

log = logging.getLogger(__name__)

# (tracking number, payload, partition or None for the key's default partition)
SendCheck = Callable[[str, bytes, int | None], Awaitable[None]]
_YIELD_EVERY = 1000  # table rows between yields to the event loop (heartbeats, the agent)


def due_for_check(stored: dict[str, Any], now: datetime) -> bool:
    """Whether a stored state (the table's JSON object, of any readable version) asks to be
    looked at by ``now``."""
    due = stored_due(stored)
    return due is not None and due <= now


@dataclass
class CheckRequests:
    """Checks already asked for, so a sweep does not re-send one that is still in flight.

    A check whose state did not move its ``next_check_at`` (nothing was due after all) is asked
    again only after ``retry_after``, never in a tight loop.
    """

    retry_after: timedelta
    _asked: dict[str, tuple[str, datetime]] = field(default_factory=dict)

    def should_ask(self, tracking_number: str, due: str, now: datetime) -> bool:
        previous = self._asked.get(tracking_number)
        return previous is None or previous[0] != due or now - previous[1] >= self.retry_after

    def asked(self, tracking_number: str, due: str, now: datetime) -> None:
        self._asked[tracking_number] = (due, now)

    def forget_all_but(self, tracking_numbers: set[str]) -> None:
        for key in self._asked.keys() - tracking_numbers:
            del self._asked[key]


@dataclass(frozen=True, slots=True)
class DueCheck:
    tracking_number: str
    due: str  # the stored next_check_at
    partition: int | None  # where the state lives (None: a state from before home_partition)


def due_check(
    tracking_number: str, stored: dict[str, Any], now: datetime, requests: CheckRequests
) -> DueCheck | None:
    """The check to ask for this row now, or None (not due, or already in flight)."""
    if not due_for_check(stored, now):
        return None
    due, partition = stored_timer(stored)
    assert due is not None
    if not requests.should_ask(tracking_number, due, now):
        return None
    return DueCheck(tracking_number, due, partition)


def check_for(table_key: str, now: datetime) -> tuple[str, ShipmentCheck]:
    """The message key and check that ask the owner to look at this row: a shipment's, or an
    order's (its waiting feedback, its return and refund)."""
    order_id = order_id_of(table_key)
    if order_id is not None:
        return order_id, ShipmentCheck(tracking_number=None, requested_at=now, order_id=order_id)
    return table_key, ShipmentCheck(tracking_number=table_key, requested_at=now)


class OpenRefunds:
    """Returns received and not refunded yet, by age, counted from the ``~return~`` rows a sweep
    reads (the stored JSON, not decoded: the sweep looks at every row)."""

    def __init__(self, now: datetime) -> None:
        self._now = now
        self.by_age = dict.fromkeys((label for _, label in REFUND_AGE_BUCKETS), 0)

    def add(self, stored: dict[str, Any]) -> None:
        received, issued, failed = (
            stored.get(name) for name in ("received_at", "refund_issued_at", "refund_failed_at")
        )
        if received is None:
            return
        # Outstanding as ReturnState.refund_outstanding says: none issued, or a later failure.
        if issued is not None and (
            failed is None or parse_rfc3339(failed) <= parse_rfc3339(issued)
        ):
            return
        age = (self._now - parse_rfc3339(received)).total_seconds() / 86400
        self.by_age[refund_age_label(max(0.0, age))] += 1

    def publish(self, metrics: WorkerMetrics) -> None:
        for label, count in self.by_age.items():
            metrics.refunds_open.labels(label).set(count)


class CheckSweeper:
    """The timer's work on this worker's table, in proportion to the rows that are due.

    A tick pops the due rows from the ``DueIndex`` and reads only those. The index is rebuilt by
    a full walk of the table when the assignment changes (``assignment()``; a revoked partition's
    rows leave it, an assigned one's come in, recovered from the changelog), after an interrupted
    sweep, and every ``full_walk_seconds`` as a safety net: a due check is never lost for good.
    The walk also counts the gauges that need every row (feedback waiting, open refunds by age),
    so those follow the walk's cadence.
    """

    def __init__(
        self,
        *,
        table: Any,  # the Faust table (a mapping of this worker's active partitions)
        send_check: SendCheck,
        clock: Callable[[], datetime],
        metrics: WorkerMetrics,
        interval_seconds: float,
        rows_between_yields: int = _YIELD_EVERY,
        full_walk_seconds: float = 0.0,  # 0: every sweep walks the whole table (no index)
        assignment: Callable[[], Collection[Any]] = frozenset,  # this worker's partitions
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._table = table
        self._send_check = send_check
        self._clock = clock
        self._metrics = metrics
        self._retry_after = timedelta(seconds=10 * interval_seconds)
        self._requests = CheckRequests(retry_after=self._retry_after)
        self._rows_between_yields = rows_between_yields
        self._full_walk_seconds = full_walk_seconds
        self._assignment = assignment
        self._monotonic = monotonic
        self.index = DueIndex()  # kept current by the pipeline's writes (``indexed_table``)
        self._indexed_for: frozenset[Any] | None = None  # the assignment the index holds
        self._walked_at = 0.0

    def indexed_table(self) -> IndexedTable:
        """The table for the pipeline to write through, so the index sees every write."""
        return IndexedTable(self._table, self.index)

    async def tick(
        self,
        find_blocker: Callable[[], Awaitable[str | None]],
        interrupted: Callable[[], bool],
    ) -> None:
        """One run of the timer: a sweep unless ``find_blocker()`` (see ``sweep_blocker``) says
        why it must wait. A failure — of the sweep or of asking whether to sweep — is logged and
        counted, not raised: the timer must go on, and the next sweep starts over."""
        try:
            blocker = await find_blocker()
            if blocker is not None:
                self._metrics.timer_sweeps.labels(blocker).inc()
                return
            await self.sweep(interrupted)
        except Exception:
            log.exception("timer sweep failed")
            self._metrics.timer_sweeps.labels("failed").inc()

    async def sweep(self, interrupted: Callable[[], bool] = lambda: False) -> int | None:
        """Ask for every due check in the local partitions; returns how many were asked, or None
        when ``interrupted()`` (a rebalance) stopped the sweep: a closed partition's store must
        not be read, and the next sweep walks the table again."""
        started = time.perf_counter()
        now = self._clock()
        assignment = frozenset(self._assignment())
        walk_due = (
            self._indexed_for != assignment
            or self._monotonic() - self._walked_at >= self._full_walk_seconds
        )
        self._indexed_for = None  # until this sweep completes: an interrupted one walks again
        if walk_due and not await self._walk(now, interrupted):
            self._metrics.timer_sweeps.labels("interrupted").inc()
            return None
        due = await self._due_rows(now, interrupted)
        if due is None:
            self._metrics.timer_sweeps.labels("interrupted").inc()
            return None
        self._indexed_for = assignment
        for item in due:
            key, check = check_for(item.tracking_number, now)
            await self._send_check(key, encode(check), item.partition)
            self._requests.asked(item.tracking_number, item.due, now)
            self._metrics.checks_requested.inc()  # one by one: a failed send leaves the rest
        self._metrics.timer_sweeps.labels("done").inc()
        self._metrics.timer_due_rows.set(len(self.index))
        self._metrics.timer_sweep_seconds.observe(time.perf_counter() - started)
        return len(due)

    async def _walk(self, now: datetime, interrupted: Callable[[], bool]) -> bool:
        """Every row: the index rebuilt, the whole-table gauges counted. False if interrupted."""
        self.index.clear()
        # Rows due after the next walk are left to it: the index stays as small as what is due.
        self.index.horizon = now.timestamp() + self._full_walk_seconds
        present: set[str] = set()
        waiting_feedback = 0
        open_refunds = OpenRefunds(now)
        walk = TableWalk(self._table, self._rows_between_yields, interrupted)
        async for key, stored in walk:
            if is_ledger_key(key):
                continue
            if is_order_key(key):
                waiting_feedback += len(stored.get("waiting", ()))
            elif is_return_key(key):
                open_refunds.add(stored)
            present.add(key)
            self.index.schedule_stored(key, stored)
        if walk.interrupted:
            return False
        self._walked_at = self._monotonic()
        self._requests.forget_all_but(present)
        self._metrics.feedback_waiting.set(waiting_feedback)  # in this worker's partitions
        open_refunds.publish(self._metrics)
        return True

    async def _due_rows(
        self, now: datetime, interrupted: Callable[[], bool]
    ) -> list[DueCheck] | None:
        """The checks to ask for: the index's due rows, each read again (the index may be stale:
        only what the stored row says counts). None if interrupted."""
        due: list[DueCheck] = []
        for count, key in enumerate(self.index.pop_due(now), start=1):
            if count % self._rows_between_yields == 0:
                await asyncio.sleep(0)
                if interrupted():
                    return None
            stored = self._table.get(key)
            text = None if stored is None else stored_timer(stored)[0]
            if text is None:  # removed, or nothing to wait for any more
                continue
            if parse_rfc3339(text) > now:  # moved later by a write the index has not seen
                self.index.schedule(key, parse_rfc3339(text))
                continue
            check = due_check(key, stored, now, self._requests)
            if check is not None:
                due.append(check)
            # Looked at again if the check moves nothing (its write reschedules it otherwise).
            self.index.schedule(key, now + self._retry_after)
        return due


class _Consumer(Protocol):
    def assignment(self) -> Collection[Any]: ...  # topic partitions (with ``.topic``)

    def highwater(self, tp: Any) -> int | None: ...

    async def position(self, tp: Any) -> int | None: ...


class WorkerView(Protocol):
    """What ``sweep_blocker`` reads of the worker (a ``faust.App``)."""

    @property
    def rebalancing(self) -> bool: ...

    @property
    def in_recovery(self) -> bool: ...

    @property
    def consumer(self) -> _Consumer: ...


async def sweep_blocker(worker: WorkerView, *, inputs: Collection[str], max_lag: int) -> str | None:
    """Why a sweep must wait, or None. While inputs lag, a silence may only be a backlog: the
    parcel's next scan is already in the topic, not yet read."""
    if worker.rebalancing or worker.in_recovery:
        return "skipped_rebalancing"
    consumer = worker.consumer
    assigned = [tp for tp in consumer.assignment() if tp.topic in inputs]
    if not assigned:
        return "skipped_unassigned"
    for tp in assigned:
        highwater = consumer.highwater(tp)
        position = await consumer.position(tp)
        if highwater is None or position is None or highwater - position > max_lag:
            return "skipped_lagging"
    return None
