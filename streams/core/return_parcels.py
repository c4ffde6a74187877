"""A return parcel's side of an order's return: pure rules, with the clock passed in.

A parcel becomes a return when its order's return label names it (``ReturnParcelLink``). From then
on it is not a customer's delivery (no shipment notifications, no delay-risk scoring, no
missed promise), and each of its scans is forwarded to the order's return state, where
``streams/core/returns.py`` folds it in. Its carrier-exception alerts stay: a damaged or lost
return is worth a person's look like any parcel.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from parcelwatch.schemas.return_parcels import ReturnParcelLink, ReturnParcelScan
from parcelwatch.schemas.state import Direction, ReturnOf, ScanRecord, ShipmentState, TimerSchedule
from parcelwatch.schemas.types import Scan


@dataclass(frozen=True, slots=True)
class LinkedParcel:
    state: ShipmentState
    forwards: tuple[ReturnParcelScan, ...]  # the scans the parcel held before it was linked


def link_return_parcel(
    state: ShipmentState | None, link: ReturnParcelLink, now: datetime
) -> LinkedParcel | None:
    """Mark the parcel as the order's return; None when it was linked to that order already (a
    redelivered link forwards nothing again)."""
    current = state or ShipmentState(tracking_number=link.return_tracking_number)
    if current.tracking_number != link.return_tracking_number:
        raise ValueError("a return parcel link belongs to the state of its own parcel")
    known = current.return_of
    if (
        current.is_return
        and known is not None
        and (known.order_id, known.order_partition) == (link.order_id, link.order_partition)
    ):
        return None
    linked = replace(
        current,
        carrier=current.carrier or link.carrier,
        direction=Direction.RETURN,
        return_of=ReturnOf(link.order_id, link.order_partition, link.linked_at),
        # A return's silences are the order's to judge (return_stalled): no shipment timer.
        timer=replace(current.timer, next_check_at=None) if state else TimerSchedule(),
    )
    forwards = tuple(forwarded_scan(linked, record, now) for record in linked.tracking.recent_scans)
    return LinkedParcel(linked, forwards)


def forwarded_scan(
    state: ShipmentState, scan: Scan | ScanRecord, now: datetime
) -> ReturnParcelScan:
    """A scan of a return parcel, addressed to its order's return state."""
    assert state.return_of is not None, "only a linked return parcel forwards its scans"
    return ReturnParcelScan(
        order_id=state.return_of.order_id,
        return_tracking_number=state.tracking_number,
        carrier=state.carrier or "unknown",
        event_id=scan.event_id,
        status=scan.status,
        occurred_at=scan.occurred_at,
        forwarded_at=now,
    )
