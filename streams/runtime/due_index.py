"""Which rows of this worker's table are due next, without reading the table: a heap of
(``next_check_at``, key), so a timer tick costs time in proportion to the rows that are due.

The index is in memory, per worker. It is built by one walk of the worker's partitions (the
sweeper does that when the assignment changes, and on a long interval as a safety net) and kept
current by every write of the worker (``IndexedTable`` wraps the table the pipeline writes to).
Entries are invalidated lazily: a key rescheduled leaves its old entry in the heap, skipped when
popped, and the heap is compacted once stale entries outnumber live ones.

Only rows due before ``horizon`` (the next full walk) are held: the rest (a settled shipment's
retention end, a retired marker's) would cost memory for months, and the walk finds them in time.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, MutableMapping
from datetime import datetime
from typing import Any

from parcelwatch.schemas.state import stored_timer
from parcelwatch.schemas.timestamps import parse_rfc3339

_COMPACT_ABOVE = 1024  # never compact a small heap: stale entries there cost nothing


class DueIndex:
    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []
        self._due: dict[str, float] = {}  # key -> its live entry's time (POSIX seconds)
        self.horizon = float("inf")  # POSIX seconds: later moments are left to the next walk

    def __len__(self) -> int:
        return len(self._due)

    def clear(self) -> None:
        self._heap.clear()
        self._due.clear()

    def schedule(self, key: str, due: datetime | None) -> None:
        """``key`` is due at ``due`` (None: never; a removed row)."""
        moment = None if due is None else due.timestamp()
        if moment is None or moment > self.horizon:
            self._due.pop(key, None)
            return
        if self._due.get(key) == moment:
            return
        self._due[key] = moment
        heapq.heappush(self._heap, (moment, key))
        if len(self._heap) > _COMPACT_ABOVE and len(self._heap) > 2 * len(self._due):
            self._heap = [(moment, key) for key, moment in self._due.items()]
            heapq.heapify(self._heap)

    def schedule_stored(self, key: str, stored: Any) -> None:
        """``key`` is due when its stored JSON value (a state, a marker, an order or return row)
        says: ``stored_timer`` reads every kind of row the same way."""
        text = stored_timer(stored)[0] if isinstance(stored, dict) else None
        self.schedule(key, None if text is None else parse_rfc3339(text))

    def pop_due(self, now: datetime) -> list[str]:
        """The keys due by ``now``, earliest first, each once; they leave the index (whoever
        handles them schedules them again)."""
        limit = now.timestamp()
        keys = []
        while self._heap and self._heap[0][0] <= limit:
            moment, key = heapq.heappop(self._heap)
            if self._due.get(key) == moment:  # else a stale entry: the key moved or left
                del self._due[key]
                keys.append(key)
        return keys


class IndexedTable(MutableMapping[str, Any]):
    """The table as the pipeline writes it: every write and removal also updates the index."""

    def __init__(self, table: Any, index: DueIndex) -> None:
        self._table = table  # the Faust table (or a dict in tests)
        self._index = index

    def __getitem__(self, key: str) -> Any:
        return self._table[key]

    def get(self, key: str, default: Any = None) -> Any:  # the table's own (one store read)
        return self._table.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._table

    def __setitem__(self, key: str, value: Any) -> None:
        self._table[key] = value
        self._index.schedule_stored(key, value)

    def __delitem__(self, key: str) -> None:
        del self._table[key]
        self._index.schedule(key, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def items(self) -> Any:
        return self._table.items()
