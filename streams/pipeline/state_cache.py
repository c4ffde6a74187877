"""Decoded shipment states the processor wrote last, so that the next event of a shipment does not
decode its state again from the table's JSON (hundreds of microseconds for a long journey).

A cached state is exactly what the processor wrote to the table, and only the processor writes a
shipment's state: the cache stays true as long as this worker owns the partitions. When that may
have changed (a rebalance: another worker may have written them meanwhile) the owner clears it.
Bounded, least recently used first out: a decoded state costs several times its stored size.
"""

from __future__ import annotations

from collections import OrderedDict

from parcelwatch.schemas.state import ShipmentState


class StateCache:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity  # 0: nothing is kept
        self._states: OrderedDict[str, ShipmentState] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, tracking_number: str) -> ShipmentState | None:
        state = self._states.get(tracking_number)
        if state is None:
            self.misses += 1
            return None
        self._states.move_to_end(tracking_number)
        self.hits += 1
        return state

    def put(self, tracking_number: str, state: ShipmentState) -> None:
        if self.capacity <= 0:
            return
        self._states[tracking_number] = state
        self._states.move_to_end(tracking_number)
        while len(self._states) > self.capacity:
            self._states.popitem(last=False)

    def forget(self, tracking_number: str) -> None:
        self._states.pop(tracking_number, None)

    def clear(self) -> None:
        self._states.clear()

    def __len__(self) -> int:
        return len(self._states)
