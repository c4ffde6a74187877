"""One deployment through its input, as production would see it: start a worker, produce a phase
of input, wait until the group has committed it, next phase; then read everything it produced.

Faults, when asked for, strike while the last phase drains (once it has all been produced)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from parcelwatch.streams.devtools.chaos.deployment import Deployment
from parcelwatch.streams.devtools.chaos.kafka_io import GroupWatcher, Message, Placed, produce
from parcelwatch.streams.devtools.chaos.options import Deadlines
from parcelwatch.streams.devtools.chaos.outputs import Outputs, read_outputs, read_states
from parcelwatch.streams.devtools.chaos.progress import Drain, wait_drained, wait_handled
from parcelwatch.streams.devtools.chaos.workers import Supervisor

FaultHook = Callable[[Supervisor, GroupWatcher], Awaitable[object]]


@dataclass
class Phase:
    name: str
    messages: Sequence[Message]
    # Produced while the worker is frozen (SIGSTOP; a phase takes about a second to produce,
    # well inside the group session), so that it meets the whole phase as a backlog: its rate is
    # then the worker's own, not the harness producer's, which shares the cores with it.
    backlog: bool = False
    placed: list[Placed] = field(default_factory=list)
    produce_seconds: float = 0.0
    drain: Drain | None = None
    # Worker's count says all handled, from the first message sent (from the thaw: a backlog).
    handled_seconds: float | None = None


@dataclass
class Run:
    name: str
    deployment: Deployment
    supervisor: Supervisor
    phases: list[Phase]
    ready: bool = False
    outputs: Outputs | None = None
    faults: object = None  # what the fault hook returned
    healthz_at_end: int | None = None
    alive_at_end: bool = False
    handled_by_last_process: int | None = None  # its /metrics count of inputs, any outcome
    # Shipments whose changelog state changed when the drained worker was stopped cleanly: their
    # inputs' offsets were committed before their state was durable.
    flushed_only_at_stop: list[str] = field(default_factory=list)

    @property
    def drained(self) -> bool:
        return all(phase.drain is not None and phase.drain.drained for phase in self.phases)

    @property
    def usable(self) -> bool:
        """Ready, drained, outputs read: good enough to be a reference."""
        return self.ready and self.drained and self.outputs is not None

    @property
    def inputs(self) -> int:
        return sum(len(phase.messages) for phase in self.phases)

    def problems(self) -> list[str]:
        found = [] if self.ready else [f"{self.name}: the worker never became healthy"]
        found += [
            f"{self.name}/{phase.name}: {phase.drain.describe()}"
            for phase in self.phases
            if phase.drain is not None and not phase.drain.drained
        ]
        if self.flushed_only_at_stop:
            found.append(
                f"{self.name}: {len(self.flushed_only_at_stop)} shipments' states reached the "
                "changelog only when the drained worker was stopped, after their inputs' offsets "
                "had been committed (a crash then would have lost them)"
            )
        return found


async def run_deployment(
    deployment: Deployment,
    run_dir: Path,
    name: str,
    phases: list[Phase],
    deadlines: Deadlines,
    fault_hook: FaultHook | None = None,
) -> Run:
    await deployment.create_topics()
    supervisor = Supervisor(deployment, run_dir, name)
    run = Run(name, deployment, supervisor, phases)
    watcher = GroupWatcher(
        deployment.bootstrap,
        deployment.app_id,
        deployment.topics.consumed,
        deployment.changelog_topic,
    )
    try:
        supervisor.start()
        assert supervisor.current is not None
        run.ready = await supervisor.current.wait_healthy(deadlines.worker_ready)
        if not run.ready:
            return run
        handled_target = 0
        for number, phase in enumerate(phases):
            handled_target += len(phase.messages)
            started, phase.placed, phase.produce_seconds = await _produce_phase(
                deployment, supervisor, phase
            )
            handled = asyncio.create_task(wait_handled(supervisor, handled_target, deadlines.drain))
            if fault_hook is not None and number == len(phases) - 1:
                # Once the whole phase is acknowledged (a backlog: producing is much faster than
                # handling), so that a broker restart never fails the harness's own producer.
                run.faults = await fault_hook(supervisor, watcher)
            phase.drain = await wait_drained(
                watcher, supervisor, no_progress=deadlines.no_progress, deadline=deadlines.drain
            )
            # Committed means handled: the count catches up at once, unless inputs were committed
            # without being handled (then no throughput figure, and the checks tell why).
            done, _ = await asyncio.wait({handled}, timeout=5.0)
            handled.cancel()
            handled_at = handled.result() if done else None
            if handled_at is not None:
                phase.handled_seconds = handled_at - started
            if not phase.drain.drained:
                break  # a stalled phase: what follows would only wait behind it
        outputs = await read_outputs(deployment)
        worker = supervisor.current
        run.alive_at_end = worker is not None and worker.alive()
        run.healthz_at_end = await worker.health() if worker is not None else None
        run.handled_by_last_process = await worker.events_total() if worker is not None else None
        # The final states are read again after a clean stop, which flushes everything: a state
        # that only then reaches the changelog would have been lost by a crash instead.
        supervisor.stop()
        states, unreadable = await read_states(deployment)
        if run.drained:  # otherwise the worker was still busy: of course states moved
            run.flushed_only_at_stop = [
                key for key in sorted(states) if states[key] != outputs.states.get(key)
            ]
        run.outputs = replace(outputs, states=states, unreadable=outputs.unreadable + unreadable)
        return run
    finally:
        await watcher.close()
        supervisor.stop()


async def _produce_phase(
    deployment: Deployment, supervisor: Supervisor, phase: Phase
) -> tuple[float, list[Placed], float]:
    """Produce ``phase``: when its handling starts (``time.monotonic``), where its messages
    landed, how long producing took. A backlog is produced while the worker is frozen, and its
    handling starts at the thaw; otherwise with the first message sent."""
    worker = supervisor.current if phase.backlog else None
    if worker is not None:
        worker.freeze()
    started = time.monotonic()
    try:
        placed = await produce(deployment.bootstrap, phase.messages)
    finally:
        if worker is not None:
            worker.thaw()
    produced = time.monotonic()
    return (produced if worker is not None else started), placed, produced - started
