"""What both agents need from a Faust batch: its messages as plain values, and table focus."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence

import faust
from faust.streams import _current_event

from parcelwatch.streams.pipeline.messages import InputMessage


def input_messages(events: Sequence[faust.EventT]) -> list[InputMessage]:
    return [
        InputMessage(
            topic=event.message.topic,
            partition=event.message.partition,
            offset=event.message.offset,
            key=event.message.key,
            value=event.message.value,
        )
        for event in events
    ]


def focuser(events: Sequence[faust.EventT]) -> Callable[[int], None]:
    """``focus(i)``: Faust routes a table read or write to the partition of the *current* event
    (a context variable); inside a batch we say which event it belongs to. Only the context
    variable: Stream.current_event is what take_batches' buffer reads."""

    def focus(index: int) -> None:
        _current_event.set(weakref.ref(events[index]))

    return focus
