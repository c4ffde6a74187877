"""The timers' table walk: every row, a yield every few rows, and a stop at a rebalance."""

from __future__ import annotations

from parcelwatch.streams.pipeline.table_walk import TableWalk


async def test_an_uninterrupted_walk_reads_every_row_in_order() -> None:
    table = {f"k{n}": n for n in range(5)}
    asked = 0

    def interrupted() -> bool:
        nonlocal asked
        asked += 1
        return False

    walk = TableWalk(table, rows_between_yields=2, is_interrupted=interrupted)
    assert [row async for row in walk] == list(table.items())
    assert asked == 2  # after rows 2 and 4
    assert not walk.interrupted


async def test_a_rebalance_stops_the_walk_at_the_next_yield() -> None:
    table = {f"k{n}": n for n in range(7)}
    walk = TableWalk(table, rows_between_yields=3, is_interrupted=lambda: True)
    assert [key async for key, _ in walk] == ["k0", "k1", "k2"]
    assert walk.interrupted
