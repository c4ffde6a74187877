"""The log's bounds as the broker says: kept through an outage, merged with what was fetched."""

from __future__ import annotations

import asyncio

from faust.types import TP

from parcelwatch.streams.runtime.log_bounds import LogBounds

SCANS = ("t.carrier-scans", 3)


class FakeConsumer:
    def __init__(self) -> None:
        self.starts = {TP(*SCANS): 5}
        self.ends = {TP(*SCANS): 40}
        self.down = False

    async def earliest_offsets(self, *tps: TP) -> dict[TP, int]:
        if self.down:
            raise ConnectionError("broker down")
        return {tp: self.starts[tp] for tp in tps}

    async def highwaters(self, *tps: TP) -> dict[TP, int]:
        return {tp: self.ends[tp] for tp in tps}


def test_bounds_come_from_the_broker_and_survive_an_outage() -> None:
    consumer = FakeConsumer()
    bounds = LogBounds()
    assert (bounds.start(SCANS), bounds.end(SCANS, None)) == (None, None)
    asyncio.run(bounds.refresh(consumer, [SCANS]))
    assert (bounds.start(SCANS), bounds.end(SCANS, None)) == (5, 40)
    assert bounds.end(SCANS, 45) == 45  # a fetch saw more since
    consumer.down, consumer.ends[TP(*SCANS)] = True, 50
    asyncio.run(bounds.refresh(consumer, [SCANS]))
    assert bounds.end(SCANS, None) == 40  # the last answer stands


def test_a_broker_that_does_not_answer_in_time_keeps_the_last_answer() -> None:
    class Slow(FakeConsumer):
        async def highwaters(self, *tps: TP) -> dict[TP, int]:
            await asyncio.sleep(5)
            return {}

    bounds = LogBounds(timeout_seconds=0.05)
    asyncio.run(bounds.refresh(Slow(), [SCANS]))
    assert bounds.end(SCANS, 7) == 7
