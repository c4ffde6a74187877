"""Stand-ins for faust-streaming's consumer where the worker reaches into it (group_commits):
its thread runs calls on the test's own loop, around any aiokafka-shaped consumer."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from faust.types import TP


class ThreadOnThisLoop:
    def __init__(self, consumer: Any) -> None:
        self.consumer = consumer

    def _ensure_consumer(self) -> Any:
        return self.consumer

    async def call_thread(self, method: Any, *args: Any) -> Any:
        return await method(*args)


class FaustConsumer:
    """The parts of faust-streaming 0.15's consumer the commit repair reads and updates."""

    def __init__(self, consumer: Any) -> None:
        self._thread = ThreadOnThisLoop(consumer)
        self._committed_offset: dict[TP, int | None] = defaultdict(lambda: None)
        self._acked: dict[TP, list[int]] = {}
        self._gap: dict[TP, Any] = {}
        self._read_offset: dict[TP, int | None] = {}


class FlushCounter:
    def __init__(self) -> None:
        self.flushes = 0

    async def flush(self) -> None:
        self.flushes += 1


class App:
    def __init__(self, consumer: Any, producer: Any = None) -> None:
        self.consumer = FaustConsumer(consumer)
        self.producer = producer if producer is not None else FlushCounter()
