"""The wiring the side agents share: a batched agent that leaves at once when a batch fails, and
a timer that reads this worker's partitions of a table only while they are settled."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import faust

from parcelwatch.streams.pipeline.error_text import describe, stack
from parcelwatch.streams.runtime.agents import leave_at_once
from parcelwatch.streams.runtime.batch_take import take_app_batches
from parcelwatch.streams.runtime.settings import Settings

ProcessEvents = Callable[[Sequence[faust.EventT]], Awaitable[Any]]
# Reads the table; its argument says whether a rebalance began meanwhile (stop reading then).
ReadTable = Callable[[Callable[[], bool]], Awaitable[Any]]


def add_batch_agent(
    app: faust.App,
    source: Any,
    *,
    name: str,
    settings: Settings,
    process: ProcessEvents,
    gather: float = 0.0,
) -> None:
    """Agent ``name`` on ``source``: batches of at most ``settings.batch_size`` (``take_batches``:
    what was fetched, waiting at most ``settings.batch_seconds``, and at least ``gather``) handed
    to ``process``. A failed batch ends the worker at once (``leave_at_once``), so it is read
    again after the restart."""

    # concurrency=1: per-partition order, and one writer per partition of a table; take_batches
    # acks a batch only once the loop body asks for the next one.
    @app.agent(source, name=name, concurrency=1)
    async def run(stream: faust.StreamT) -> None:
        async for events in take_app_batches(app, stream, settings, gather):
            try:
                await process(events)
            except Exception as error:
                leave_at_once(name, error)


def add_table_timer(
    app: faust.App,
    *,
    name: str,
    interval: float,
    read: ReadTable,
    failure: str,
    log: logging.Logger,
) -> None:
    """Timer ``name``: every ``interval`` seconds ``read`` while no rebalance or recovery is in
    progress; a failure is logged on ``log`` as "``failure`` failed" and the next tick tries
    again."""

    async def tick() -> None:
        if app.rebalancing or app.in_recovery:
            return  # a closed partition's store must not be read; the next tick starts over
        try:
            await read(lambda: bool(app.rebalancing))
        except Exception as error:
            log.error("%s failed: %s\n%s", failure, describe(error), stack(error))

    tick.__name__ = tick.__qualname__ = name  # Faust's trace label
    app.timer(interval=interval, name=name)(tick)
