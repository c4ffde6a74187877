"""The parcelwatch worker as a contender: its own deployment (topic prefix, app id), its copy of
the backlog, and its progress read from its own ``parcelwatch_events_total``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from parcelwatch.streams.devtools.bench.backlog import Backlog, produce_backlog
from parcelwatch.streams.devtools.bench.measurements import Throughput, measure
from parcelwatch.streams.devtools.chaos.broker import free_port
from parcelwatch.streams.devtools.chaos.deployment import Deployment
from parcelwatch.streams.devtools.chaos.workers import WorkerProcess, events_total


def start_worker(deployment: Deployment, run_dir: Path, name: str) -> WorkerProcess:
    """A worker on an empty data dir of its own."""
    data_dir = run_dir / f"{name}-data"
    worker = WorkerProcess(
        deployment.worker_env(data_dir, free_port()), run_dir / f"{name}.log", data_dir
    )
    worker.start()
    return worker


class InputsProcessed:
    """Backlog inputs the worker has handled, any outcome (applied, duplicate, dead-lettered):
    ``parcelwatch_events_total`` over the backlog's topics only (not the feedback join's internal
    topics nor ``model-updates``)."""

    def __init__(self, worker: WorkerProcess, topics: tuple[str, ...]) -> None:
        self._worker = worker
        self._labels = tuple(f'topic="{topic}"' for topic in topics)

    async def __call__(self) -> int | None:
        return await asyncio.to_thread(self._read)

    def _read(self) -> int | None:
        # Generous: /metrics shares the worker's event loop, which a batch can hold a while.
        text = self._worker.metrics_text(timeout=20)
        if text is None:
            return None
        return events_total(text, lambda line: any(label in line for label in self._labels))


async def run_pipeline(
    deployment: Deployment, backlog: Backlog, run_dir: Path, name: str, *, timeout: float
) -> tuple[WorkerProcess, Throughput]:
    """Produce the backlog, start the worker, wait until it has handled every input. The worker
    is left running (the caller measures more on it, then stops it)."""
    (worker,), throughput = await run_group(deployment, backlog, run_dir, name, 1, timeout=timeout)
    return worker, throughput


async def run_group(
    deployment: Deployment,
    backlog: Backlog,
    run_dir: Path,
    name: str,
    workers: int,
    *,
    timeout: float,
) -> tuple[list[WorkerProcess], Throughput]:
    """``run_pipeline`` with ``workers`` workers in one group: inputs and CPU time are summed over
    them, from the first input any of them handled."""
    await deployment.create_topics()
    if workers == 1:
        await produce_backlog(deployment.bootstrap, deployment.topics, backlog)
    group = [
        start_worker(deployment, run_dir, name if workers == 1 else f"{name}-{number}")
        for number in range(1, workers + 1)
    ]
    if workers > 1:
        # The group forms first, then the backlog comes: workers joining one by one would
        # rebalance mid-stream, which is the scale-out scenario's business, not throughput's.
        ready = await asyncio.gather(*(worker.wait_healthy(timeout) for worker in group))
        if not all(ready):
            for worker in group:
                worker.stop()
            raise RuntimeError(f"{name}: not every worker became ready")
        await produce_backlog(deployment.bootstrap, deployment.topics, backlog)
    topics = backlog.input_topics(deployment.topics)
    probes = [InputsProcessed(worker, topics) for worker in group]

    async def handled() -> int | None:
        counts = await asyncio.gather(*(probe() for probe in probes))
        return sum(count or 0 for count in counts)

    try:
        throughput = await measure(
            handled, [worker.pid for worker in group if worker.pid is not None],
            min(worker.started_at for worker in group), len(backlog.events),
            timeout=timeout, alive=lambda: all(worker.alive() for worker in group),
        )  # fmt: skip
    except BaseException:
        for worker in group:
            worker.stop()
        raise
    return group, throughput
