"""A timer's read of a whole table: every row, without stalling the event loop, and stopped by a
rebalance (a closed partition's store must not be read)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any


class TableWalk:
    """``async for key, value in walk``: the rows of ``table``, with a yield to the event loop
    after every ``rows_between_yields`` rows. When ``is_interrupted()`` says so at a yield, the
    walk stops before reading more, and ``interrupted`` is True."""

    def __init__(
        self, table: Any, rows_between_yields: int, is_interrupted: Callable[[], bool]
    ) -> None:
        self._table = table  # the Faust table (a mapping of this worker's active partitions)
        self._rows_between_yields = rows_between_yields
        self._is_interrupted = is_interrupted
        self.interrupted = False

    async def __aiter__(self) -> AsyncIterator[tuple[str, Any]]:
        for count, row in enumerate(self._table.items(), start=1):
            yield row
            if count % self._rows_between_yields == 0:
                await asyncio.sleep(0)
                if self._is_interrupted():
                    self.interrupted = True
                    return
