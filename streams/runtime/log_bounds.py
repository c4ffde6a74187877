"""Where each input partition's log starts and ends, as the broker says, for the health verdict.

The consumer only knows a partition's end once it has fetched from it, and the group's committed
offset only once somebody committed. A partition that Faust never fetched after a rebalance
(faust-streaming #597, #651, #432 have that shape) knows neither, so it looked caught up: no lag,
never stuck, /healthz 200 while its input waited. The watchdog asks the broker instead, every
tick, with a timeout: a broker outage keeps the last answer, it never blocks a health probe.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from faust.types import TP

from parcelwatch.streams.pipeline.error_text import describe

log = logging.getLogger(__name__)

TopicPartition = tuple[str, int]


class LogBounds:
    def __init__(self, timeout_seconds: float = 5.0) -> None:
        self._timeout = timeout_seconds
        self._starts: dict[TopicPartition, int] = {}
        self._ends: dict[TopicPartition, int] = {}

    async def refresh(self, consumer: Any, partitions: Iterable[TopicPartition]) -> None:
        """Ask the broker for the first and the next offset of ``partitions`` (Faust consumer)."""
        tps = [TP(*tp) for tp in sorted(partitions)]
        if not tps:
            return
        try:
            starts, ends = await asyncio.wait_for(
                asyncio.gather(consumer.earliest_offsets(*tps), consumer.highwaters(*tps)),
                self._timeout,
            )
        except Exception as error:  # an outage: the last answer stands
            log.debug("could not read the input's offsets: %s", describe(error))
            return
        self._starts.update({(tp.topic, tp.partition): offset for tp, offset in starts.items()})
        self._ends.update({(tp.topic, tp.partition): offset for tp, offset in ends.items()})

    def end(self, tp: TopicPartition, fetched: int | None) -> int | None:
        """The later of the broker's last answer and what the consumer's fetches saw."""
        known = [offset for offset in (fetched, self._ends.get(tp)) if offset is not None]
        return max(known) if known else None

    def start(self, tp: TopicPartition) -> int | None:
        return self._starts.get(tp)
