"""How far a deployment has got: committed offsets against end offsets, and inputs handled by its
worker processes. Waiting always ends: progress, a stall (nothing moves), or a deadline."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from parcelwatch.streams.devtools.chaos.kafka_io import GroupProgress, GroupWatcher
from parcelwatch.streams.devtools.chaos.workers import Supervisor, recovery_counters

POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Drain:
    """How waiting for the group to commit every input ended."""

    outcome: str  # "drained", "stalled" (committed offsets did not move), "deadline"
    seconds: float
    lag: int  # inputs not committed when the wait ended
    lag_by_partition: dict[str, int] = field(default_factory=dict)
    stalled_seconds: float = 0.0  # how long nothing moved before the wait gave up
    healthz: int | None = None  # what the worker's /healthz answered when the wait gave up
    counters: dict[str, int] = field(default_factory=dict)  # the worker's recovery_counters then

    @property
    def drained(self) -> bool:
        return self.outcome == "drained"

    def describe(self) -> str:
        if self.drained:
            return f"drained in {self.seconds:.1f} s"
        waiting = {name: lag for name, lag in self.lag_by_partition.items() if lag}
        return (
            f"{self.outcome} after {self.seconds:.0f} s with {self.lag} inputs not committed "
            f"(nothing moved for {self.stalled_seconds:.0f} s; /healthz said {self.healthz}): "
            f"{waiting}" + (f"; the worker counted {self.counters}" if self.counters else "")
        )


async def wait_drained(
    watcher: GroupWatcher, supervisor: Supervisor, *, no_progress: float, deadline: float
) -> Drain:
    """Until the group has committed every input, restarting a worker that exits by itself."""
    started = last_move = time.monotonic()
    last_committed = -1
    latest: GroupProgress | None = None
    while True:
        supervisor.restart_if_exited()
        progress = await watcher.progress()
        now = time.monotonic()
        if progress is not None:
            latest = progress
            if progress.drained:
                return Drain("drained", now - started, 0, progress.lag_by_partition)
            if progress.committed_total != last_committed:
                last_committed, last_move = progress.committed_total, now
        outcome = (
            "stalled"
            if now - last_move > no_progress
            else "deadline"
            if now - started > deadline
            else None
        )
        if outcome is not None:
            worker = supervisor.current
            metrics = await asyncio.to_thread(worker.metrics_text) if worker is not None else None
            return Drain(
                outcome,
                now - started,
                latest.lag if latest else -1,
                latest.lag_by_partition if latest else {},
                now - last_move,
                await worker.health() if worker is not None else None,
                recovery_counters(metrics) if metrics is not None else {},
            )
        await asyncio.sleep(POLL_SECONDS)


@dataclass
class ProcessedCounter:
    """Inputs handled by all the worker processes of a run (each counted by its own /metrics);
    re-processing after a crash counts again. Used to time faults, never to account for input."""

    supervisor: Supervisor
    _last_by_pid: dict[int, int] = field(default_factory=dict)

    async def poll(self) -> int:
        worker = self.supervisor.current
        if worker is not None and worker.pid is not None:
            handled = await worker.events_total()
            if handled is not None:
                self._last_by_pid[worker.pid] = handled
        return self.total

    @property
    def total(self) -> int:
        return sum(self._last_by_pid.values())

    def of_current(self) -> int:
        worker = self.supervisor.current
        if worker is None or worker.pid is None:
            return 0
        return self._last_by_pid.get(worker.pid, 0)


async def wait_handled(supervisor: Supervisor, target: int, timeout: float) -> float | None:
    """The moment (``time.monotonic``) the current worker process has handled ``target`` inputs
    by its own count; None if it did not within ``timeout`` or was replaced meanwhile.

    Finer than committed offsets, which move only at each commit (every few seconds): this is
    what throughput is measured with."""
    worker = supervisor.current
    deadline = time.monotonic() + timeout
    while worker is not None and time.monotonic() < deadline:
        if supervisor.current is not worker:
            return None
        handled = await worker.events_total()
        if handled is not None and handled >= target:
            return time.monotonic()
        await asyncio.sleep(0.1)
    return None
