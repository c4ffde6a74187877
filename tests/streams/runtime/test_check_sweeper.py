"""The live silence timer without Faust: a dict as the table, a list as the checks topic.

``CheckSweeper`` reads the local table, asks for each due check once while it is in flight, and
stops when a rebalance starts; ``tick`` is what the agent's timer runs; ``sweep_blocker`` says
when a sweep must wait.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import pytest
from prometheus_client import CollectorRegistry

from parcelwatch.schemas.codec import decode_check
from parcelwatch.schemas.order_state import return_key
from parcelwatch.schemas.types import Limits
from parcelwatch.streams.pipeline.input_ledger import ledger_key
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.runtime.timers import CheckSweeper, OpenRefunds, check_for, sweep_blocker
from tests.factories import at

NOW = at(10)
INTERVAL = 30.0  # seconds: a check still in flight is asked again after 10 intervals
PAST, LATER = at(9).isoformat(), at(11).isoformat()


def stored(next_check_at: str | None, partition: int | None = 0) -> dict[str, Any]:
    """A table value as the sweep reads it (only the fields the timer looks at matter)."""
    value: dict[str, Any] = {"next_check_at": next_check_at}
    if partition is not None:
        value["home_partition"] = partition
    return value


class CheckTopic:
    """Records the checks sent; ``failing`` tracking numbers raise instead, as a broker might."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int | None]] = []
        self.payloads: list[tuple[str, bytes]] = []
        self.failing: set[str] = set()

    async def send(self, tracking_number: str, payload: bytes, partition: int | None) -> None:
        if tracking_number in self.failing:
            raise ConnectionError("the broker went away")
        self.sent.append((tracking_number, partition))
        self.payloads.append((tracking_number, payload))

    def take(self) -> list[str]:
        """The tracking numbers sent since the last take."""
        sent, self.sent = [number for number, _ in self.sent], []
        return sent


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Env(NamedTuple):
    sweeper: CheckSweeper
    table: dict[str, dict[str, Any]]
    topic: CheckTopic
    clock: Clock
    registry: CollectorRegistry

    def sample(self, name: str, labels: dict[str, str] | None = None) -> float:
        return self.registry.get_sample_value(name, labels or {}) or 0.0

    def sweeps(self, outcome: str) -> float:
        return self.sample("parcelwatch_timer_sweeps_total", {"outcome": outcome})


def make_env(table: Any = None, rows_between_yields: int = 1000, **indexing: Any) -> Env:
    registry = CollectorRegistry()
    topic, clock = CheckTopic(), Clock(NOW)
    table = {} if table is None else table
    sweeper = CheckSweeper(
        table=table, send_check=topic.send, clock=clock, metrics=WorkerMetrics(registry),
        interval_seconds=INTERVAL, rows_between_yields=rows_between_yields, **indexing,
    )  # fmt: skip
    return Env(sweeper, table, topic, clock, registry)


# -- the sweep --------------------------------------------------------------------------------


async def test_a_sweep_asks_one_check_per_due_shipment_on_its_partition():
    env = make_env()
    env.table.update(
        {
            "T1": stored(PAST, partition=3),
            "T2": stored(LATER),
            "T3": stored(None),
            "T4": stored(NOW.isoformat(), partition=None),  # a state from before home_partition
            ledger_key(3): {"next_offsets": {"scans": 7}},  # the input ledger's row
        }
    )
    assert await env.sweeper.sweep() == 2
    assert env.topic.sent == [("T1", 3), ("T4", None)]
    for tracking_number, payload in env.topic.payloads:
        check = decode_check(payload, key=tracking_number.encode(), now=NOW, limits=Limits())
        assert (check.tracking_number, check.requested_at) == (tracking_number, NOW)
    assert env.sample("parcelwatch_checks_requested_total") == 2
    assert env.sweeps("done") == 1
    assert env.sample("parcelwatch_timer_sweep_seconds_count") == 1


async def test_a_check_in_flight_is_not_asked_again_until_its_state_moves():
    env = make_env()
    env.table["T1"] = stored(PAST)
    await env.sweeper.sweep()
    assert env.topic.take() == ["T1"]

    env.clock.now = NOW + timedelta(seconds=INTERVAL)
    await env.sweeper.sweep()
    assert env.topic.take() == []  # the check has not been applied yet

    env.table["T1"] = stored((NOW + timedelta(seconds=5)).isoformat())  # applied: due again later
    await env.sweeper.sweep()
    assert env.topic.take() == ["T1"]


@pytest.mark.parametrize("indexed", [False, True])
async def test_a_check_that_moved_nothing_is_asked_again_only_after_ten_intervals(indexed):
    env = indexed_env({})[0] if indexed else make_env()  # walking every sweep, or the due index
    env.table["T1"] = stored(PAST)
    await env.sweeper.sweep()
    env.topic.take()
    env.clock.now = NOW + timedelta(seconds=10 * INTERVAL - 1)
    await env.sweeper.sweep()
    assert env.topic.take() == []
    env.clock.now = NOW + timedelta(seconds=10 * INTERVAL)
    await env.sweeper.sweep()
    assert env.topic.take() == ["T1"]


async def test_a_shipment_that_left_and_came_back_is_asked_again():
    # A partition revoked and assigned again: whoever had it meanwhile may have dropped the check.
    env = make_env()
    env.table["T1"] = stored(PAST)
    await env.sweeper.sweep()
    env.topic.take()
    moved = env.table.pop("T1")
    await env.sweeper.sweep()
    env.table["T1"] = moved
    await env.sweeper.sweep()
    assert env.topic.take() == ["T1"]


# -- interruption by a rebalance --------------------------------------------------------------


class ReadCountingTable:
    """A table whose rows are counted as they are read (a closed store must not be read)."""

    def __init__(self, rows: dict[str, dict[str, Any]]) -> None:
        self.rows = rows
        self.read = 0  # rows walked
        self.got = 0  # rows read one by one

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for row in self.rows.items():
            self.read += 1
            yield row

    def get(self, key: str) -> dict[str, Any] | None:  # a due row read again (see the index)
        self.got += 1
        return self.rows.get(key)

    def __setitem__(self, key: str, value: dict[str, Any]) -> None:
        self.rows[key] = value


async def test_a_rebalance_stops_the_sweep_before_it_reads_or_sends_more():
    table = ReadCountingTable({f"T{n}": stored(PAST) for n in range(7)})
    env = make_env(table, rows_between_yields=3)
    asked_whether_interrupted = 0

    def interrupted() -> bool:
        nonlocal asked_whether_interrupted
        asked_whether_interrupted += 1
        return asked_whether_interrupted == 2  # the rebalance starts during the second yield

    assert await env.sweeper.sweep(interrupted) is None
    assert table.read == 6  # rows 7.. were never read
    assert env.topic.sent == []
    assert env.sweeps("interrupted") == 1 and env.sweeps("done") == 0
    assert env.sample("parcelwatch_checks_requested_total") == 0

    # Nothing was recorded as asked: the next sweep starts over and asks for all of them.
    assert await env.sweeper.sweep() == len(table.rows)


async def test_a_sweep_that_is_not_interrupted_yields_and_goes_on():
    table = ReadCountingTable({f"T{n}": stored(PAST) for n in range(7)})
    env = make_env(table, rows_between_yields=3)
    assert await env.sweeper.sweep(lambda: False) == 7
    assert table.read == 7


# -- the due index: a sweep in proportion to the rows that are due --------------------------

HOUR = 3600.0


class Partitions:
    """The worker's assignment and a monotonic clock, as the agent hands them to the sweeper."""

    def __init__(self) -> None:
        self.assigned = {("scans", 0)}
        self.seconds = 0.0


def indexed_env(table: Any) -> tuple[Env, Partitions]:
    partitions = Partitions()
    env = make_env(
        table, full_walk_seconds=HOUR, assignment=lambda: partitions.assigned,
        monotonic=lambda: partitions.seconds,
    )  # fmt: skip
    return env, partitions


async def test_after_the_first_walk_a_sweep_reads_only_the_rows_that_are_due():
    rows = {f"T{n}": stored(LATER) for n in range(100)}
    rows.update({"D1": stored(PAST), "D2": stored(PAST)})
    table = ReadCountingTable(rows)
    env, _ = indexed_env(table)
    assert await env.sweeper.sweep() == 2  # the first sweep walks: the index is built
    assert table.read == 102
    env.topic.take()

    env.sweeper.indexed_table()["D3"] = stored(PAST)  # the pipeline writes a due row
    table.read = table.got = 0
    assert await env.sweeper.sweep() == 1
    assert env.topic.take() == ["D3"]
    assert (table.read, table.got) == (0, 1)

    env.clock.now = at(11)  # the 100 fall due, and the 3 asked an hour ago changed nothing
    assert await env.sweeper.sweep() == 103
    assert table.read == 0


async def test_a_row_the_index_missed_is_found_by_the_full_walk_after_its_interval():
    env, partitions = indexed_env({})
    await env.sweeper.sweep()
    env.table["T1"] = stored(PAST)  # written behind the index's back (e.g. a standby's store)
    await env.sweeper.sweep()
    assert env.topic.take() == []
    partitions.seconds = HOUR
    await env.sweeper.sweep()
    assert env.topic.take() == ["T1"]


async def test_the_index_holds_only_rows_due_before_the_next_walk():
    env, partitions = indexed_env({"SOON": stored(PAST), "FAR": stored(at(24 * 30).isoformat())})
    await env.sweeper.sweep()
    assert env.topic.take() == ["SOON"]
    assert len(env.sweeper.index) == 1  # SOON, to be asked again if its check moves nothing
    env.clock.now = at(24 * 30)
    await env.sweeper.sweep()
    assert env.topic.take() == ["SOON"]  # its check moved nothing; FAR was left to the walk...
    partitions.seconds = HOUR
    await env.sweeper.sweep()
    assert env.topic.take() == ["FAR"]  # ...which finds it (SOON's check is still in flight)


async def test_an_assignment_change_rebuilds_the_index_from_the_table():
    env, partitions = indexed_env({"T1": stored(LATER)})
    await env.sweeper.sweep()
    env.table["T2"] = stored(PAST)  # restored from the changelog of a newly assigned partition
    del env.table["T1"]  # its partition was revoked
    partitions.assigned = {("scans", 1)}
    env.clock.now = at(12)
    assert await env.sweeper.sweep() == 1
    assert env.topic.take() == ["T2"]
    assert len(env.sweeper.index) == 1  # T2 again, once its check moved nothing


async def test_an_interrupted_sweep_walks_the_table_again_next_time():
    table = ReadCountingTable({f"T{n}": stored(PAST) for n in range(7)})
    env, _ = indexed_env(table)
    await env.sweeper.sweep()
    env.topic.take()
    env.clock.now = NOW + timedelta(seconds=10 * INTERVAL)
    env.sweeper._rows_between_yields = 3
    assert await env.sweeper.sweep(lambda: True) is None  # stopped among the due rows
    table.read = 0
    assert await env.sweeper.sweep() == 7  # none of the popped rows was lost
    assert table.read == 7


# -- failures and the timer's tick ------------------------------------------------------------


async def test_a_failed_send_keeps_the_checks_sent_before_it_and_retries_the_rest():
    env = make_env()
    env.table.update({"T1": stored(PAST), "T2": stored(PAST), "T3": stored(PAST)})
    env.topic.failing.add("T2")
    with pytest.raises(ConnectionError):
        await env.sweeper.sweep()
    assert env.topic.take() == ["T1"]
    assert env.sample("parcelwatch_checks_requested_total") == 1

    env.topic.failing.clear()
    await env.sweeper.sweep()
    assert env.topic.take() == ["T2", "T3"]  # T1's check is still in flight


async def no_blocker() -> None:
    return None


async def test_tick_counts_a_failed_sweep_instead_of_stopping_the_timer(caplog):
    env = make_env()
    env.table["T1"] = stored(PAST)
    env.topic.failing.add("T1")
    await env.sweeper.tick(no_blocker, interrupted=lambda: False)
    assert env.sweeps("failed") == 1
    assert "timer sweep failed" in caplog.text

    env.topic.failing.clear()
    await env.sweeper.tick(no_blocker, interrupted=lambda: False)
    assert env.topic.take() == ["T1"]
    assert env.sweeps("done") == 1


async def test_tick_counts_an_unreadable_table_as_a_failed_sweep():
    class ClosedTable:
        def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
            raise RuntimeError("the store was closed")

    env = make_env(ClosedTable())
    await env.sweeper.tick(no_blocker, interrupted=lambda: False)
    assert env.sweeps("failed") == 1


async def test_tick_does_not_sweep_while_blocked_and_counts_why():
    env = make_env()
    env.table["T1"] = stored(PAST)

    async def lagging() -> str:
        return "skipped_lagging"

    await env.sweeper.tick(lagging, interrupted=lambda: False)
    assert env.topic.sent == []
    assert env.sweeps("skipped_lagging") == 1 and env.sweeps("done") == 0


async def test_tick_counts_a_failure_to_ask_whether_to_sweep_as_a_failed_sweep():
    async def broken() -> str | None:
        raise RuntimeError("the consumer is gone")

    env = make_env()
    env.table["T1"] = stored(PAST)
    await env.sweeper.tick(broken, interrupted=lambda: False)
    assert env.topic.sent == [] and env.sweeps("failed") == 1


# -- when a sweep must wait -------------------------------------------------------------------

INPUTS = ("scans", "orders")
MAX_LAG = 100


class TP(NamedTuple):
    topic: str
    partition: int


class FakeConsumer:
    """End offsets and positions per partition, as Faust's consumer reports them."""

    def __init__(self, partitions: dict[TP, tuple[int | None, int | None]]) -> None:
        self.partitions = partitions  # tp -> (highwater, position)

    def assignment(self) -> set[TP]:
        return set(self.partitions)

    def highwater(self, tp: TP) -> int | None:
        return self.partitions[tp][0]

    async def position(self, tp: TP) -> int | None:
        return self.partitions[tp][1]


class FakeWorker:
    def __init__(
        self,
        partitions: dict[TP, tuple[int | None, int | None]] | None = None,
        *,
        rebalancing: bool = False,
        in_recovery: bool = False,
    ) -> None:
        self.rebalancing = rebalancing
        self.in_recovery = in_recovery
        self._consumer = FakeConsumer(partitions or {})

    @property
    def consumer(self) -> FakeConsumer:
        if self.rebalancing or self.in_recovery:
            raise AssertionError("the consumer is not to be asked while the worker is unsettled")
        return self._consumer


async def blocker(worker: FakeWorker) -> str | None:
    return await sweep_blocker(worker, inputs=INPUTS, max_lag=MAX_LAG)


@pytest.mark.parametrize("unsettled", [{"rebalancing": True}, {"in_recovery": True}])
async def test_no_sweep_while_rebalancing_or_restoring_tables(unsettled):
    worker = FakeWorker({TP("scans", 0): (10, 10)}, **unsettled)
    assert await blocker(worker) == "skipped_rebalancing"


async def test_no_sweep_without_input_partitions():
    assert await blocker(FakeWorker()) == "skipped_unassigned"
    only_checks = FakeWorker({TP("shipment-checks", 0): (5, 5)})
    assert await blocker(only_checks) == "skipped_unassigned"


@pytest.mark.parametrize(
    ("highwater", "position", "expected"),
    [
        (500, 500, None),
        (500, 500 - MAX_LAG, None),  # exactly the lag allowed
        (500, 500 - MAX_LAG - 1, "skipped_lagging"),
        (None, 500, "skipped_lagging"),  # no end offset known yet
        (500, None, "skipped_lagging"),  # no position yet
    ],
)
async def test_lagging_inputs_hold_the_sweep_back(highwater, position, expected):
    worker = FakeWorker({TP("orders", 1): (10, 10), TP("scans", 0): (highwater, position)})
    assert await blocker(worker) == expected


async def test_only_input_partitions_count_for_the_lag():
    worker = FakeWorker({TP("scans", 0): (10, 10), TP("shipment-checks", 0): (10_000, 0)})
    assert await blocker(worker) is None


def test_an_orders_return_row_asks_for_an_order_check_and_counts_its_open_refund():
    key, check = check_for(return_key("A-7"), at(1))
    assert key == "A-7" and check.order_id == "A-7" and check.tracking_number is None
    refunds = OpenRefunds(at(24 * 4))
    received = {"received_at": at(0).isoformat(), "refund_issued_at": None}
    refunds.add(received)
    refunds.add({**received, "refund_issued_at": at(30).isoformat()})  # refunded: not open
    refunds.add(  # refunded, then the refund failed: open again
        {**received, "refund_issued_at": at(30).isoformat(), "refund_failed_at": at(40).isoformat()}
    )
    refunds.add({"received_at": None})  # not back yet
    assert refunds.by_age == {"lt_1d": 0, "1d_3d": 0, "3d_7d": 2, "7d_14d": 0, "ge_14d": 0}
