"""take_batches: full batches from a backlog, a batch at once when the worker has caught up, the
window as the bound, and acknowledgement only after the body asked for the next batch."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import faust
import pytest
from faust.types import TP

from parcelwatch.streams.runtime.batch_take import (
    fetched_records_of,
    take_app_batches,
    take_batches,
)
from parcelwatch.streams.runtime.settings import Settings

PARTITION = TP("carrier-scans", 0)


@dataclass
class Message:
    tp: TP
    offset: int


@dataclass
class Event:
    message: Message


class Channel(asyncio.Queue):
    def __aiter__(self) -> Channel:
        return self

    async def __anext__(self) -> Any:
        return await self.get()


@dataclass
class StandInStream:
    """The parts of faust-streaming 0.15's ``Stream`` that take_batches uses: processors run by a
    passive drainer over the channel (a queue here), ``current_event`` while they run, acks."""

    channel: Channel = field(default_factory=Channel)
    enable_acks: bool = True
    should_stop: bool = False
    current_event: Event | None = None
    acked: list[int] = field(default_factory=list)
    _processors: list[Callable] = field(default_factory=list)
    drainer: asyncio.Task | None = None

    def add_processor(self, processor: Callable) -> None:
        self._processors.append(processor)

    def _enable_passive(self, channel: Any) -> None:
        self.drainer = asyncio.ensure_future(self._drain(channel))

    async def _drain(self, channel: Any) -> None:
        async for event in channel:
            self.current_event = event
            for processor in self._processors:
                await processor(event)

    async def wait_for_stopped(self, event: asyncio.Event, timeout: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    async def ack(self, event: Event) -> None:
        self.acked.append(event.message.offset)


def offsets(batch: list) -> list[int]:
    return [event.message.offset for event in batch]


async def fill(stream: StandInStream, first: int, last: int) -> None:
    for offset in range(first, last + 1):
        stream.channel.put_nowait(Event(Message(PARTITION, offset)))


def highwater(end: list[int]) -> Callable[[Any, int], bool]:
    return lambda tp, offset: offset + 1 >= end[0]


async def test_a_backlog_fills_its_batches_and_a_caught_up_batch_goes_at_once() -> None:
    stream = StandInStream()
    end = [10]  # the consumer has fetched offsets 0-9
    await fill(stream, 0, 9)
    clock = asyncio.get_running_loop().time
    batches = take_batches(stream, 4, window=30.0, is_last=highwater(end))
    assert offsets(await anext(batches)) == [0, 1, 2, 3]
    assert offsets(await anext(batches)) == [4, 5, 6, 7]
    started = clock()
    # 8 and 9 are all that was fetched: no waiting for a full batch or the 30 s window.
    assert offsets(await anext(batches)) == [8, 9]
    assert clock() - started < 5
    await batches.aclose()


async def test_a_batch_waits_for_fetched_records_until_its_window_ends() -> None:
    stream = StandInStream()
    end = [100]  # fetched up to 99, but only 0-2 reach the stream
    await fill(stream, 0, 2)
    clock = asyncio.get_running_loop().time
    started = clock()
    batches = take_batches(stream, 50, window=0.2, is_last=highwater(end))
    assert offsets(await anext(batches)) == [0, 1, 2]
    assert clock() - started >= 0.19
    await batches.aclose()


async def test_a_partition_no_longer_behind_stops_the_wait() -> None:
    # The consumer's highwater moved back under the stream's feet (revoked, or sought back):
    # nothing is owed any more, so the batch goes at its next look, not at the window's end.
    stream = StandInStream()
    end = [100]
    await fill(stream, 0, 1)
    batches = take_batches(stream, 50, window=30.0, is_last=highwater(end))
    pending = asyncio.ensure_future(anext(batches))
    await asyncio.sleep(0.05)
    assert not pending.done()
    end[0] = 2
    await fill(stream, 2, 2)  # the next record wakes the batch; it was the last one
    assert offsets(await asyncio.wait_for(pending, 5)) == [0, 1, 2]
    await batches.aclose()


async def test_a_batch_is_acknowledged_only_when_the_next_is_asked_for() -> None:
    stream = StandInStream()
    await fill(stream, 0, 5)
    batches = take_batches(stream, 3, window=30.0, is_last=lambda tp, offset: offset == 5)
    assert offsets(await anext(batches)) == [0, 1, 2]
    assert stream.acked == []  # being processed
    assert offsets(await anext(batches)) == [3, 4, 5]
    assert stream.acked == [0, 1, 2]
    # The body failed on the second batch and left the loop: the generator is closed, and the
    # batch is never acknowledged, so never committed.
    await batches.aclose()
    assert stream.acked == [0, 1, 2]
    assert stream.enable_acks is True
    assert stream._processors == []
    stream.drainer.cancel()


async def test_no_event_waits_in_the_buffer_while_a_batch_is_processed() -> None:
    # At most max_size events are handed over; the next ones stay in the channel until the batch
    # is done, as with take_events.
    stream = StandInStream()
    await fill(stream, 0, 6)
    batches = take_batches(stream, 3, window=30.0, is_last=lambda tp, offset: offset == 6)
    first = await anext(batches)
    await asyncio.sleep(0.05)
    assert offsets(first) == [0, 1, 2]
    assert offsets(await anext(batches)) == [3, 4, 5]
    assert offsets(await anext(batches)) == [6]
    await batches.aclose()


async def test_a_gathering_batch_waits_though_caught_up_unless_it_fills() -> None:
    stream = StandInStream()
    await fill(stream, 0, 2)  # all that was fetched: a batch without gather would go at once
    clock = asyncio.get_running_loop().time
    started = clock()
    batches = take_batches(stream, 5, window=0.05, is_last=lambda tp, offset: True, gather=0.3)
    pending = asyncio.ensure_future(anext(batches))
    await asyncio.sleep(0.1)
    assert not pending.done()
    await fill(stream, 3, 3)  # what comes meanwhile joins the batch
    assert offsets(await asyncio.wait_for(pending, 5)) == [0, 1, 2, 3]
    assert clock() - started >= 0.29
    # A batch that fills goes at once, gather or not.
    await fill(stream, 4, 8)
    started = clock()
    assert offsets(await anext(batches)) == [4, 5, 6, 7, 8]
    assert clock() - started < 0.25
    await batches.aclose()


async def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="max_size"):
        await anext(take_batches(StandInStream(), 0, window=1.0, is_last=lambda tp, offset: True))
    with pytest.raises(ValueError, match="gather"):
        await anext(
            take_batches(StandInStream(), 5, window=1.0, is_last=lambda tp, o: True, gather=-1)
        )


class ConsumerWithout:
    def highwater(self, tp: Any) -> int:
        raise AssertionError("partition is not assigned")


@dataclass
class AppOf:
    consumer: Any


def test_the_consumer_s_highwater_says_what_was_fetched_and_unknown_means_caught_up() -> None:
    class Consumer:
        def highwater(self, tp: Any) -> int | None:
            return {PARTITION: 10}.get(tp)

    is_last = fetched_records_of(AppOf(Consumer()))  # type: ignore[arg-type]
    assert not is_last(PARTITION, 8)
    assert is_last(PARTITION, 9)
    assert is_last(TP("orders", 3), 0)  # no highwater known
    assert fetched_records_of(AppOf(ConsumerWithout()))(PARTITION, 0)  # type: ignore[arg-type]


def test_faust_streams_have_the_parts_take_batches_uses() -> None:
    stream_type = faust.Stream
    for name in ("add_processor", "_enable_passive", "wait_for_stopped", "ack"):
        assert callable(getattr(stream_type, name)), name
    assert "current_event" in dir(stream_type)
    assert "timeout" in inspect.signature(stream_type.wait_for_stopped).parameters
    source = inspect.getsource(stream_type.__init__)
    assert "_processors" in source and "enable_acks" in source


async def test_an_app_s_agents_take_batches_of_its_settings_caught_up_by_its_consumer() -> None:
    class Consumer:
        def highwater(self, tp: Any) -> int:
            return 5

    stream = StandInStream()
    await fill(stream, 0, 4)
    app = AppOf(Consumer())
    batches = take_app_batches(app, stream, Settings(batch_size=3, batch_seconds=30.0))  # type: ignore[arg-type]
    assert offsets(await anext(batches)) == [0, 1, 2]
    assert offsets(await anext(batches)) == [3, 4]  # 4 is the highwater's last: no 30 s wait
    await batches.aclose()
