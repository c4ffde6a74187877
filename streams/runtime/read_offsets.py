"""Faust's read offsets, fenced while the input ledger rewinds a partition.

faust-streaming's fetch loop drops every fetched record below a partition's "read offset" as
already read, and moves that offset to each record it hands on, *after* handing it on (which
waits while the stream's buffer is full). A rewind (``agents._rewind``) seeks the partition back
and sets the read offset to the rewound-to offset; but records of the partition fetched before
the seek are still ahead of the rewound ones: in the fetch loop's current batch (every record
aiokafka had buffered, unless ``broker_max_poll_records`` bounds it) and in the one it is
handing on. Each moved the read offset past the rewound-to offset again, so the re-fetched
records were dropped, and the ledger's next ask lost the same race while such records kept
coming. Measured: a partition rewound at a worker's start came back only after 5 seeks and
9 s, when 83% of a 12,300-event backlog had been applied; on a loaded CI machine one never
came back within the watchdog's 120 s.

A fence keeps a partition's read offset at the rewound-to offset until the record at that
offset has been handed on: the stale records still pass (the ledger skips them as it always
did), and the re-fetched ones are no longer dropped. Faust's seek to the committed offsets
after a rebalance and a revoked partition lift the fence. While a seek stands, the ledger's
timed asks to seek again are skipped (``seeking``): each would throw away what was fetched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any


class FencedReadOffsets(dict[Any, int | None]):
    """A partition -> read offset mapping, as Faust keeps it (a missing one reads as None)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._fences: dict[Any, int] = {}
        self._sought: dict[Any, tuple[int, float]] = {}  # the latest fenced seek, and when

    def __missing__(self, tp: Any) -> None:
        return None

    def fence(self, tp: Any, offset: int) -> None:
        """Set ``tp``'s read offset to ``offset`` and keep it there until a record at
        ``offset`` is handed on."""
        self._fences[tp] = offset
        self._sought[tp] = (offset, self._clock())
        super().__setitem__(tp, offset if offset else None)  # Faust's None for 0

    def seeking(self, tp: Any, offset: int, trusted_for: float) -> bool:
        """Whether a seek of ``tp`` to ``offset`` less than ``trusted_for`` seconds ago still
        stands: no seek of Faust's since. Its record is on its way (not fetched yet, or handed on
        and queued for the agent), and seeking again would only throw away what was fetched
        since. Not trusted forever: a record can be dropped on its way (the fetch loop stops
        handing on when a rebalance begins), and the ledger cannot tell."""
        sought = self._sought.get(tp)
        return (
            sought is not None and sought[0] == offset and self._clock() - sought[1] < trusted_for
        )

    def fenced(self) -> dict[Any, int]:
        return dict(self._fences)

    def lift_fences_except(self, tps: Iterable[Any]) -> None:
        """Lift the fences of partitions no longer rewinding (e.g. the ledger forgot them)."""
        keep = set(tps)
        for tp in [tp for tp in self._fences if tp not in keep]:
            del self._fences[tp]
        for tp in [tp for tp in self._sought if tp not in keep]:
            del self._sought[tp]

    def __setitem__(self, tp: Any, offset: int | None) -> None:
        fence = self._fences.get(tp)
        if fence is not None and offset is not None and offset > fence:
            return  # a record fetched before the rewind's seek: the fence stands
        self._fences.pop(tp, None)  # the rewound-to record was handed on (or Faust seeks)
        super().__setitem__(tp, offset)

    def __delitem__(self, tp: Any) -> None:  # Faust's seek_wait to offset 0
        self._forget(tp)
        super().__delitem__(tp)

    def update(self, other: Mapping[Any, int | None] = (), **kwargs: int | None) -> None:  # type: ignore[override]
        for tp, offset in dict(other, **kwargs).items():
            self._forget(tp)
            super().__setitem__(tp, offset)

    def pop(self, tp: Any, *default: Any) -> Any:  # type: ignore[override]
        self._forget(tp)
        return super().pop(tp, *default)

    def clear(self) -> None:
        self._fences.clear()
        self._sought.clear()
        super().clear()

    def _forget(self, tp: Any) -> None:
        self._fences.pop(tp, None)
        self._sought.pop(tp, None)


def fenced_read_offsets(consumer: Any) -> FencedReadOffsets:
    """The read offsets of a worker's consumer (made fenced by ``with_fenced_read_offsets``)."""
    read_offsets = consumer._read_offset
    if not isinstance(read_offsets, FencedReadOffsets):
        raise TypeError("the consumer's read offsets are not fenced: see with_fenced_read_offsets")
    return read_offsets


def with_fenced_read_offsets(app: Any) -> None:
    """Have ``app``'s worker consumer keep its read offsets in a ``FencedReadOffsets``.
    Only this app's transport is changed (as ``fetch_wait.with_fetch_wait`` does)."""
    transport = app.transport
    base_consumer = transport.Consumer

    class FencedConsumer(base_consumer):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._read_offset = FencedReadOffsets()

    transport.Consumer = FencedConsumer
