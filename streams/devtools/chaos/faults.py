"""The disturbed run's faults: SIGKILLs (restarting on a kept or an empty data dir) and broker
restarts, at seeded moments of the drain, and how long the worker took to work again."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import asdict, dataclass
from typing import Any, Literal

from parcelwatch.streams.devtools.chaos.broker import ChaosBroker
from parcelwatch.streams.devtools.chaos.kafka_io import GroupWatcher
from parcelwatch.streams.devtools.chaos.progress import POLL_SECONDS, ProcessedCounter
from parcelwatch.streams.devtools.chaos.workers import Supervisor

FIRST_FAULT_AT = 0.05  # share of the input handled before the first fault can strike
LAST_FAULT_AT = 0.9


@dataclass(frozen=True)
class Fault:
    kind: Literal["kill", "broker_restart"]
    at_fraction: float  # of the input handled (cumulative over processes) when it strikes
    empty_data_dir: bool = False  # kills: restart on an empty disk (state from the changelog)


def plan_faults(kills: int, broker_restarts: int, seed: int) -> list[Fault]:
    """One fault per equal slot of [5%, 90%] of the input, at a seeded point inside its slot (two
    faults never strike together); kills alternate empty and kept data dirs, starting empty."""
    rng = random.Random(f"parcelwatch.chaos.faults/{seed}")
    count = kills + broker_restarts
    width = (LAST_FAULT_AT - FIRST_FAULT_AT) / max(count, 1)
    moments = [
        rng.uniform(FIRST_FAULT_AT + slot * width, FIRST_FAULT_AT + (slot + 1) * width)
        for slot in range(count)
    ]
    broker_slots = set(rng.sample(range(count), broker_restarts))
    plan: list[Fault] = []
    kills_planned = 0
    for slot, moment in enumerate(moments):
        if slot in broker_slots:
            plan.append(Fault("broker_restart", round(moment, 4)))
        else:
            plan.append(Fault("kill", round(moment, 4), empty_data_dir=kills_planned % 2 == 0))
            kills_planned += 1
    return plan


@dataclass
class FaultRecord:
    kind: str
    at_fraction: float
    empty_data_dir: bool
    struck_at_seconds: float  # since the disturbed run's input started
    handled_before: int  # inputs handled (cumulative) when it struck
    waited: str  # "reached" its moment, "stalled" (nothing moved), or "drained" (input was done)
    recovery_seconds: float | None = None  # until the (restarted) worker handled an input again
    recovery: str = "recovered"  # or "stalled", or "nothing_left" (no input was waiting)
    broker_outage_seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FaultInjector:
    plan: list[Fault]
    supervisor: Supervisor
    broker: ChaosBroker
    watcher: GroupWatcher
    inputs: int  # what the faults are spread over: messages of the phase being disturbed
    handled_before: int  # inputs the worker handled before that phase (the earlier phases')
    no_progress_seconds: float
    recovery_seconds: float

    async def run(self) -> list[FaultRecord]:
        counter = ProcessedCounter(self.supervisor)
        started = time.monotonic()
        records = []
        for fault in self.plan:
            moment = self.handled_before + fault.at_fraction * self.inputs
            waited = await self._wait_for(moment, counter)
            handled = counter.total
            struck_at = time.monotonic() - started
            record = FaultRecord(
                fault.kind, fault.at_fraction, fault.empty_data_dir, struck_at, handled, waited
            )
            struck = time.monotonic()
            if fault.kind == "kill":
                self.supervisor.kill_and_restart(empty_data_dir=fault.empty_data_dir)
                before = 0  # a new process: anything it handles is recovery
            else:
                before = counter.of_current()
                record.broker_outage_seconds = round(await self.broker.restart(), 2)
            record.recovery, record.recovery_seconds = await self._recovery(counter, before, struck)
            records.append(record)
        return records

    async def _wait_for(self, handled: float, counter: ProcessedCounter) -> str:
        last_total, last_move = -1, time.monotonic()
        polls = 0
        while True:
            self.supervisor.restart_if_exited()
            total = await counter.poll()
            if total >= handled:
                return "reached"
            now = time.monotonic()
            if total != last_total:
                last_total, last_move = total, now
            if now - last_move > self.no_progress_seconds:
                return "stalled"
            polls += 1
            if polls % 8 == 0:
                progress = await self.watcher.progress()
                if progress is not None and progress.drained:
                    return "drained"
            await asyncio.sleep(POLL_SECONDS / 2)

    async def _recovery(
        self, counter: ProcessedCounter, before: int, since: float
    ) -> tuple[str, float | None]:
        """Seconds from ``since`` until the current worker process has handled more than
        ``before`` inputs."""
        polls = 0
        while time.monotonic() - since < self.recovery_seconds:
            if self.supervisor.restart_if_exited():
                before = 0
            await counter.poll()
            if counter.of_current() > before:
                return "recovered", round(time.monotonic() - since, 2)
            polls += 1
            if polls % 8 == 0:
                progress = await self.watcher.progress()
                if progress is not None and progress.drained:
                    return "nothing_left", None
            await asyncio.sleep(POLL_SECONDS / 2)
        return "stalled", None
