"""The silence timer: each worker sweeps its own partitions of the shipments table and asks for a
check of every shipment whose ``next_check_at`` has come.

The timer does not judge or write anything itself. Faust routes a table write by the stream event
being processed, and a shipment's sent-notification record must be committed with its partition's
offsets, so the timer sends a ``shipment-checks`` message keyed by tracking number; the message
lands on the same partition as the shipment's scans and the tracking agent applies it like a scan.
Duplicate checks are harmless: a check only does what the state says is due, once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.state import stored_timer
from parcelwatch.schemas.timestamps import parse_rfc3339
from parcelwatch.schemas.types import ShipmentCheck
from parcelwatch.streams.pipeline.input_ledger import is_ledger_key
from parcelwatch.streams.runtime.metrics import WorkerMetrics

log = logging.getLogger(__name__)

# (tracking number, payload, partition or None for the key's default partition)
SendCheck = Callable[[str, bytes, int | None], Awaitable[None]]
_YIELD_EVERY = 1000  # table rows between yields to the event loop (heartbeats, the agent)


def due_for_check(stored: dict[str, Any], now: datetime) -> bool:
    """Whether a stored state (the table's JSON object, of any readable version) asks to be
    looked at by ``now``."""
    text, _ = stored_timer(stored)
    return text is not None and parse_rfc3339(text) <= now


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


def due_shipments(
    rows: Iterable[tuple[str, dict[str, Any]]], now: datetime, requests: CheckRequests
) -> Iterator[DueCheck]:
    """The rows to check now, skipping checks already in flight."""
    for tracking_number, stored in rows:
        check = due_check(tracking_number, stored, now, requests)
        if check is not None:
            yield check


class CheckSweeper:
    def __init__(
        self,
        *,
        table: Any,  # the Faust table (a mapping of this worker's active partitions)
        send_check: SendCheck,
        clock: Callable[[], datetime],
        metrics: WorkerMetrics,
        interval_seconds: float,
    ) -> None:
        self._table = table
        self._send_check = send_check
        self._clock = clock
        self._metrics = metrics
        self._requests = CheckRequests(retry_after=timedelta(seconds=10 * interval_seconds))

    async def sweep(self, interrupted: Callable[[], bool] = lambda: False) -> int | None:
        """Ask for every due check in the local partitions; returns how many were asked, or None
        when ``interrupted()`` (a rebalance) stopped the sweep: a closed partition's store must
        not be read, and the next sweep starts over."""
        started = time.perf_counter()
        now = self._clock()
        due: list[DueCheck] = []
        present: set[str] = set()
        for count, (tracking_number, stored) in enumerate(self._table.items(), start=1):
            if is_ledger_key(tracking_number):
                continue
            present.add(tracking_number)
            check = due_check(tracking_number, stored, now, self._requests)
            if check is not None:
                due.append(check)
            if count % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
                if interrupted():
                    self._metrics.timer_sweeps.labels("interrupted").inc()
                    return None
        for item in due:
            check = ShipmentCheck(tracking_number=item.tracking_number, requested_at=now)
            await self._send_check(item.tracking_number, encode(check), item.partition)
            self._requests.asked(item.tracking_number, item.due, now)
        self._requests.forget_all_but(present)
        self._metrics.checks_requested.inc(len(due))
        self._metrics.timer_sweeps.labels("done").inc()
        self._metrics.timer_sweep_seconds.observe(time.perf_counter() - started)
        return len(due)
