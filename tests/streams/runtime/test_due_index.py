"""The due index: which rows are due, without reading the table."""

from __future__ import annotations

from parcelwatch.schemas.retired import RetiredShipment, retired_to_json
from parcelwatch.streams.runtime.due_index import DueIndex, IndexedTable
from tests.factories import at


def timer(hours: float | None) -> dict:
    due = None if hours is None else at(hours).isoformat()
    return {"timer": {"next_check_at": due, "home_partition": 0}}


def test_pop_due_gives_the_keys_due_by_now_earliest_first_and_each_once():
    index = DueIndex()
    index.schedule("B", at(2))
    index.schedule("A", at(1))
    index.schedule("C", at(5))
    assert index.pop_due(at(3)) == ["A", "B"]
    assert index.pop_due(at(3)) == []
    assert len(index) == 1
    assert index.pop_due(at(5)) == ["C"]


def test_a_rescheduled_or_removed_key_leaves_its_old_entry_behind():
    index = DueIndex()
    index.schedule("A", at(1))
    index.schedule("A", at(4))  # moved later: not due at 2
    index.schedule("B", at(1))
    index.schedule("B", None)  # removed
    assert index.pop_due(at(2)) == []
    index.schedule("A", at(4))  # the same moment again: still one entry
    assert index.pop_due(at(4)) == ["A"]


def test_many_reschedules_compact_the_heap_without_losing_a_key():
    index = DueIndex()
    for step in range(5000):
        index.schedule(f"K{step % 10}", at(step))
    assert len(index._heap) <= 2 * 1024 + 10  # stale entries do not pile up
    assert sorted(index.pop_due(at(10_000))) == sorted(f"K{n}" for n in range(10))


def test_writes_through_the_indexed_table_keep_the_index_current():
    table: dict = {}
    index = DueIndex()
    view = IndexedTable(table, index)
    view["S1"] = timer(1)
    view["S2"] = timer(None)  # nothing to wait for
    view["S3"] = retired_to_json(RetiredShipment(at(0), at(1), at(2), home_partition=0))
    view["S4"] = timer(1)
    del view["S4"]
    view["~ledger~0"] = {"next_offsets": {}}  # a row with no timer at all
    assert table.keys() == {"S1", "S2", "S3", "~ledger~0"}
    assert index.pop_due(at(3)) == ["S1", "S3"]
    assert view.get("S1") == timer(1) and "S2" in view and len(view) == 4


def test_rows_due_beyond_the_horizon_are_left_to_the_next_walk():
    index = DueIndex()
    index.horizon = at(2).timestamp()
    index.schedule("SOON", at(1))
    index.schedule("LATER", at(1))
    index.schedule("LATER", at(3))  # moved past the horizon: its earlier entry goes too
    index.schedule("FAR", at(24 * 30))
    assert len(index) == 1
    assert index.pop_due(at(24 * 31)) == ["SOON"]
