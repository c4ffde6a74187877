"""The side agents' shared timer: read only while settled, and a failure logged, not raised."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from parcelwatch.streams.runtime.batch_agents import add_table_timer

log = logging.getLogger("test_batch_agents")


class FakeApp:
    """The part of a Faust app a timer sees: its state flags, and the timer it registers."""

    def __init__(self, *, rebalancing: bool = False, in_recovery: bool = False) -> None:
        self.rebalancing = rebalancing
        self.in_recovery = in_recovery
        self.registered: dict[str, tuple[float, Callable]] = {}

    def timer(self, *, interval: float, name: str) -> Callable:
        def register(tick: Callable) -> Callable:
            self.registered[name] = (interval, tick)
            return tick

        return register


def registered_tick(app: FakeApp, read) -> Callable:
    add_table_timer(app, name="tick", interval=7.0, read=read, failure="the read", log=log)  # type: ignore[arg-type]
    interval, tick = app.registered["tick"]
    assert interval == 7.0
    return tick


async def test_a_settled_worker_reads_and_hears_of_a_later_rebalance() -> None:
    app = FakeApp()
    seen: list[bool] = []

    async def read(interrupted: Callable[[], bool]) -> None:
        seen.append(interrupted())
        app.rebalancing = True
        seen.append(interrupted())

    await registered_tick(app, read)()
    assert seen == [False, True]


@pytest.mark.parametrize("flags", [{"rebalancing": True}, {"in_recovery": True}])
async def test_an_unsettled_worker_does_not_read(flags: dict[str, bool]) -> None:
    app = FakeApp(**flags)
    reads: list[object] = []

    async def read(interrupted: Callable[[], bool]) -> None:
        reads.append(interrupted)

    await registered_tick(app, read)()
    assert reads == []


async def test_a_failed_read_is_logged_and_the_timer_lives_on(caplog) -> None:
    async def read(interrupted: Callable[[], bool]) -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger=log.name):
        await registered_tick(FakeApp(), read)()
    assert "the read failed: RuntimeError" in caplog.text
