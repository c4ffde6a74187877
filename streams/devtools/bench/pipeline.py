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
    await deployment.create_topics()
    await produce_backlog(deployment.bootstrap, deployment.topics, backlog)
    worker = start_worker(deployment, run_dir, name)
    assert worker.pid is not None
    try:
        throughput = await measure(
            InputsProcessed(worker, backlog.input_topics(deployment.topics)),
            worker.pid, worker.started_at, len(backlog.events),
            timeout=timeout, alive=worker.alive,
        )  # fmt: skip
    except BaseException:
        worker.stop()
        raise
    return worker, throughput
