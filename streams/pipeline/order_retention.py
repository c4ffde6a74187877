"""Retention of an order's rows inside a batch: the order side of ``streams/core/retention.py``.

An order id has up to two rows on its partition, the ``~order~`` index and the ``~return~`` row.
When the order's check finds it settled past its retention, both give way to the same retired
marker (``schemas/retired.py``), each under its own key; the marker's own check deletes both
(tombstones). While a marker stands, every input naming the order (feedback, links, return steps,
return scans) is counted as retired: nothing re-created, nothing sent. Order ids are the
merchant's: one seen again within the marker's memory is the removed order, whatever its time.

Every batch that changes an order's rows (or checks it) gives them a timer asking for the end of
the order's retention (``schedule``), as the processor does for shipments.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from parcelwatch.schemas.order_state import (
    OrderFeedbackState,
    order_id_of,
    order_key,
    order_state_from_json,
    return_key,
)
from parcelwatch.schemas.retired import (
    RetiredShipment,
    is_retired,
    retired_from_json,
    retired_to_json,
)
from parcelwatch.schemas.state import ShipmentState, TimerSchedule
from parcelwatch.streams.core.retention import (
    OrderRows,
    RetentionPolicy,
    forget_due,
    order_retire_at,
    order_retirement,
    return_settled_at,
    settled_at,
    timer_with,
)
from parcelwatch.streams.core.returns import ReturnPolicy, ReturnState, return_state_from_json

# A shipment as the order's partition holds it: its state, its marker, or None (deleted).
ShipmentReader = Callable[[str], ShipmentState | RetiredShipment | None]


def none_retired(order_id: str) -> None:
    """The guard of a processor that keeps every order."""


class RetiredOrder(Exception):
    """An input of an order whose rows were removed: counted as retired, never applied."""


@dataclass
class OrderBatch:
    """The batch's order retention work."""

    markers: dict[str, RetiredShipment | None] = field(default_factory=dict)  # None: delete
    last_message: dict[str, int] = field(default_factory=dict)  # order id -> message index
    touched: dict[str, int] = field(default_factory=dict)  # checked orders: timers judged

    def remove(self, order_id: str, marker: RetiredShipment | None, index: int) -> None:
        self.markers[order_id] = marker
        self.last_message[order_id] = index


class OrderRetention:
    def __init__(
        self,
        *,
        store: MutableMapping[str, dict[str, Any]],
        policy: RetentionPolicy | None,  # None: orders are kept
        returns: ReturnPolicy,
    ) -> None:
        self._store = store
        self._policy = policy
        self._returns = returns

    def guard(self, batch: OrderBatch) -> Callable[[str], None]:
        """What the flows call with a decoded input's order id: raises ``RetiredOrder`` for a
        removed order (as this batch left it)."""

        def check(order_id: str) -> None:
            if order_id in batch.markers or self._stored_marker(order_id) is not None:
                raise RetiredOrder(order_id)

        return check

    def forget(self, batch: OrderBatch, index: int, order_id: str, now: datetime) -> bool | None:
        """A check of a removed order: True when its marker's memory ended (the rows go), False
        when it stands, None when the order is not removed."""
        if order_id in batch.markers:
            return False
        marker = self._stored_marker(order_id)
        if marker is None:
            return None
        if not forget_due(marker, now):
            return False
        batch.remove(order_id, None, index)
        return True

    def retire(
        self,
        batch: OrderBatch,
        index: int,
        rows: tuple[OrderFeedbackState | None, ReturnState | None],
        partition: int,
        shipment: ShipmentReader,
        now: datetime,
    ) -> bool:
        """An order's check: its rows give way to a marker once its retention has ended (a
        settled order waits for nothing else); otherwise its timers are judged again at the
        batch's end."""
        order_id = _order_id(rows)
        if self._policy is None or order_id is None:
            return False
        known = self._known(rows, partition, shipment)
        marker = order_retirement(known, now, self._policy, self._returns, partition)
        if marker is None:
            batch.touched[order_id] = index
            return False
        batch.remove(order_id, marker, index)
        return True

    def schedule(
        self,
        batch: OrderBatch,
        orders: dict[str, OrderFeedbackState],
        order_messages: dict[str, int],
        returns: dict[str, ReturnState],
        return_messages: dict[str, int],
        shipment: ShipmentReader,
        now: datetime,
        focus: Callable[[int], None],
    ) -> None:
        """Every order the batch changed or checked: its rows' timers ask for the end of its
        retention (a row whose timer moves is written, on behalf of the order's last message;
        ``focus`` before reading: a batch may span partitions)."""
        if self._policy is None:
            return
        touched = dict(batch.touched)
        for key, index in (*order_messages.items(), *return_messages.items()):
            order_id = order_id_of(key)
            assert order_id is not None
            touched[order_id] = max(index, touched.get(order_id, index))
        for order_id, index in touched.items():
            if order_id in batch.markers:
                continue
            focus(index)
            okey, rkey = order_key(order_id), return_key(order_id)
            current = orders.get(okey) or self._index(order_id)
            returned = returns.get(rkey) or self._return(order_id)
            if current is None and returned is None:
                continue
            partition = _home(current, returned)
            known = self._known((current, returned), partition, shipment)
            due = order_retire_at(known, now, self._policy, self._returns)
            if current is not None:
                kept = (*current.waiting, *current.forwarded)
                core = min((item.wait_until for item in kept), default=None)
                timer = timer_with(replace(current.timer, next_check_at=core), due, now)
                after = replace(current, timer=timer, changed_at=current.changed_at or now)
                if after != current or okey in orders:
                    orders[okey] = after
                    order_messages[okey] = order_messages.get(okey, index)
            if returned is not None:
                after_return = self._return_timer(returned, rkey in returns, due, now)
                if after_return != returned or rkey in returns:
                    returns[rkey] = after_return
                    return_messages[rkey] = return_messages.get(rkey, index)

    def store(self, batch: OrderBatch, focus: Callable[[int], None]) -> None:
        """Each removed order's rows replaced by its marker, or deleted at the marker's end (a
        tombstone in the changelog), after the batch's outputs were acknowledged."""
        for order_id, marker in batch.markers.items():
            focus(batch.last_message[order_id])
            for key in (order_key(order_id), return_key(order_id)):
                if key not in self._store:
                    continue
                if marker is not None:
                    self._store[key] = retired_to_json(marker)
                else:
                    del self._store[key]

    # -----------------------------------------------------------------------------------------

    def _known(
        self,
        rows: tuple[OrderFeedbackState | None, ReturnState | None],
        partition: int | None,
        shipment: ShipmentReader,
    ) -> OrderRows:
        """What this partition knows of the order: its shipments held here are read."""
        index, returned = rows
        local: list[datetime | None] = []
        remote = False
        for linked in index.shipments if index is not None else ():
            if linked.partition != partition:
                remote = True
                continue
            found = shipment(linked.tracking_number)
            if isinstance(found, RetiredShipment):
                local.append(found.settled_at)
            elif found is not None:
                assert self._policy is not None
                local.append(settled_at(found, self._policy))
        return OrderRows(index, returned, tuple(local), remote)

    def _return_timer(
        self, returned: ReturnState, changed: bool, due: datetime | None, now: datetime
    ) -> ReturnState:
        """A changed return's timer is the flow's, fresh; a stored one's is its own only while the
        return is open (a settled return waits for nothing but the order's retention)."""
        if not changed and return_settled_at(returned, self._returns) is None:
            return returned
        timer = returned.timer if changed else replace(returned.timer, next_check_at=None)
        return replace(returned, timer=timer_with(timer, due, now))

    def _stored_marker(self, order_id: str) -> RetiredShipment | None:
        for key in (order_key(order_id), return_key(order_id)):
            stored = self._store.get(key)
            if stored is not None and is_retired(stored):
                return retired_from_json(stored)
        return None

    def _index(self, order_id: str) -> OrderFeedbackState | None:
        stored = self._store.get(order_key(order_id))
        if stored is None or is_retired(stored):
            return None
        return order_state_from_json(stored)

    def _return(self, order_id: str) -> ReturnState | None:
        stored = self._store.get(return_key(order_id))
        if stored is None or is_retired(stored):
            return None
        return return_state_from_json(stored)


def _order_id(rows: tuple[OrderFeedbackState | None, ReturnState | None]) -> str | None:
    index, returned = rows
    return index.order_id if index is not None else returned.order_id if returned else None


def _home(index: OrderFeedbackState | None, returned: ReturnState | None) -> int | None:
    timers: list[TimerSchedule] = [row.timer for row in (index, returned) if row is not None]
    return next((t.home_partition for t in timers if t.home_partition is not None), None)
