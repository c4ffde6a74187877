"""Batches an agent takes from its stream, closed as soon as the worker has caught up.

Faust's ``Stream.take_events(max_, within)`` hands a batch over when it holds ``max_`` events or
when ``within`` seconds have passed since the previous batch was done. On a live stream an input
that came while a batch was processed waits for that batch, then for a whole window, then for
its own batch: at half the worker's maximum rate the window was most of its p99 latency.

``take_batches`` closes a batch when it is full, when its first event has waited ``window``, or
as soon as it holds the last record the consumer knows of on every partition it has read from
(``is_last(tp, offset)``: the record is the partition's last before its highwater, as of the
consumer's latest fetch). A backlog is never caught up, so its batches fill as before; a live
stream's batch holds what came while the previous one was processed, so batches grow with the
rate by themselves. Where the consumer cannot say, ``is_last`` answers True and the batch goes.

Acknowledgement is Faust's own (``Stream.ack``), as in ``take_events``, with one difference: a
batch is acknowledged only once the loop body asked for the next one. A body that raises leaves
its batch unacknowledged, so its offsets are never committed (``take_events`` acknowledges it in
a ``finally``). The stream is read in the background into the buffer, as ``take_events`` does,
through Faust's stream internals (``add_processor``, ``_enable_passive``; faust-streaming 0.15,
pinned, checked by tests/streams/runtime/test_batch_take.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Hashable
from typing import Any

import faust

from parcelwatch.streams.runtime.settings import Settings

# Whether ``offset`` is the last record the consumer has fetched of partition ``tp``.
IsLast = Callable[[Any, int], bool]


async def take_batches(
    stream: faust.StreamT, max_size: int, window: float, is_last: IsLast, gather: float = 0.0
) -> AsyncIterator[list[faust.EventT]]:
    """Lists of at most ``max_size`` events, in stream order; see the module docstring.

    ``gather``: a batch that is not full goes no sooner than this many seconds after its first
    event, caught up or not; for agents nobody waits on whose every batch rewrites a large table
    value (model monitoring), so that a live stream does not rewrite it for every input."""
    if max_size < 1 or window <= 0 or gather < 0:
        raise ValueError(
            f"need max_size >= 1, window > 0 and gather >= 0, not {max_size}, {window}, {gather}"
        )
    clock = asyncio.get_running_loop().time
    buffer: list[faust.EventT] = []
    last_added: dict[Hashable, int] = {}  # each partition's latest offset added to a buffer
    behind: set[Hashable] = set()  # partitions with fetched records not added yet
    opened_at = 0.0  # when the buffer's first event was added
    started = asyncio.Event()  # the buffer holds an event
    ready = asyncio.Event()  # the buffer is full, or holds every record fetched so far
    full = asyncio.Event()  # the buffer is full
    room = asyncio.Event()  # the buffer may take another event (not full, not being processed)
    room.set()

    async def add_to_buffer(value: Any) -> Any:
        nonlocal opened_at
        while not room.is_set():
            await room.wait()
        event = stream.current_event
        if event is None:
            raise RuntimeError("a batched stream's processor ran without a current event")
        if not buffer:
            opened_at = clock()
            started.set()
        buffer.append(event)
        tp, offset = event.message.tp, event.message.offset
        last_added[tp] = offset
        if is_last(tp, offset):
            behind.discard(tp)
        else:
            behind.add(tp)
        if len(buffer) >= max_size:
            room.clear()
            full.set()
            ready.set()
        elif not behind:
            ready.set()
        return value

    acks_enabled = stream.enable_acks
    stream.enable_acks = False  # acknowledged below, after their batch, not as they pass
    stream.add_processor(add_to_buffer)
    stream._enable_passive(aiter(stream.channel))  # type: ignore[attr-defined]
    try:
        while not stream.should_stop:
            await stream.wait_for_stopped(started, timeout=window)  # type: ignore[arg-type]
            while buffer and not full.is_set() and not stream.should_stop:
                wait = opened_at + gather - clock()
                if wait <= 0:
                    break
                await stream.wait_for_stopped(full, timeout=wait)  # type: ignore[arg-type]
            while buffer and not ready.is_set() and not stream.should_stop:
                # A partition revoked or sought back since has nothing more to wait for.
                behind.difference_update([tp for tp in behind if is_last(tp, last_added[tp])])
                wait = opened_at + window - clock()
                if not behind or wait <= 0:
                    break
                await stream.wait_for_stopped(ready, timeout=wait)  # type: ignore[arg-type]
            if not buffer:
                continue
            batch = buffer[:]
            buffer.clear()
            started.clear()
            full.clear()
            ready.clear()
            room.clear()  # the next events wait until this batch is acknowledged
            yield batch
            for event in batch:
                await stream.ack(event)
            room.set()
    finally:
        stream.enable_acks = acks_enabled
        stream._processors.remove(add_to_buffer)  # type: ignore[attr-defined]


def take_app_batches(
    app: faust.App, stream: faust.StreamT, settings: Settings, gather: float = 0.0
) -> AsyncIterator[list[faust.EventT]]:
    """``take_batches`` as every agent of ``app`` takes them: ``settings.batch_size`` and
    ``settings.batch_seconds``, caught up by ``app``'s consumer; ``gather`` as the agent asks."""
    return take_batches(
        stream, settings.batch_size, settings.batch_seconds, fetched_records_of(app), gather
    )


def fetched_records_of(app: faust.App) -> IsLast:
    """``is_last`` for ``app``'s consumer: its highwater as of the latest fetch response."""

    def is_last(tp: Any, offset: int) -> bool:
        try:
            highwater = app.consumer.highwater(tp)
        except Exception:  # not assigned (any more), or no consumer yet: nothing to wait for
            return True
        return highwater is None or offset + 1 >= highwater

    return is_last
