"""Which scan decides a shipment's current status when scans arrive late, twice or out of order."""

from __future__ import annotations

from datetime import datetime

from parcelwatch.schemas.types import SETTLED_STATUSES, ShipmentStatus

# Progress along a journey, used only to break ties between scans with the same event time.
_PROGRESS = {
    ShipmentStatus.UNKNOWN: 0,
    ShipmentStatus.INFO_RECEIVED: 1,
    ShipmentStatus.PICKED_UP: 2,
    ShipmentStatus.IN_TRANSIT: 3,
    ShipmentStatus.EXCEPTION: 4,
    ShipmentStatus.OUT_FOR_DELIVERY: 5,
    ShipmentStatus.ATTEMPT_FAILED: 6,
    ShipmentStatus.AVAILABLE_FOR_PICKUP: 7,
    ShipmentStatus.RETURNING_TO_SENDER: 8,
    ShipmentStatus.RETURNED_TO_SENDER: 9,
    ShipmentStatus.CANCELLED: 9,
    ShipmentStatus.DELIVERED: 10,
}


def scan_takes_over(
    current: ShipmentStatus | None,
    current_at: datetime | None,
    incoming: ShipmentStatus,
    incoming_at: datetime,
) -> bool:
    """True when a scan with ``incoming`` status at ``incoming_at`` becomes the current status."""
    if current is None or current_at is None:
        return True
    if current in SETTLED_STATUSES:  # a delivered parcel never goes back to in transit
        return False
    if incoming is ShipmentStatus.UNKNOWN:  # a scan that says nothing never hides one that did
        return False
    if incoming in SETTLED_STATUSES:  # final outcomes win even when their scan is reported late
        return True
    if incoming_at != current_at:
        return incoming_at > current_at
    return _PROGRESS[incoming] >= _PROGRESS[current]
