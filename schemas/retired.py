"""The marker a retired row leaves in the ``shipments`` table (and its changelog): a shipment's,
or an order's (its ``~order~`` index and ``~return~`` row each get one, under their own keys).

When a settled shipment's retention ends, its state is replaced by this small marker (about
150 bytes: the big state compacts away), so a late duplicate scan or order of the removed shipment
is recognised and counted instead of re-creating the shipment. The marker keeps the state's
``timer`` part, so the timer's sweep reads it like any row: its ``next_check_at`` is when the
marker itself is deleted (a tombstone), after the retired-memory horizon; carriers reuse tracking
numbers after months, and a number seen again after that starts a new shipment (an order id, a
new order).

A marker is told from a state by its ``retired_version`` field (states carry ``state_version``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from parcelwatch.schemas.timestamps import format_rfc3339, parse_rfc3339

RETIRED_VERSION = 1


@dataclass(frozen=True, slots=True)
class RetiredShipment:
    """A removed shipment's marker; an order's rows use the same (``settled_at``: the order's)."""

    settled_at: datetime  # when the shipment settled (see streams/core/retention.py)
    retired_at: datetime  # when its state was removed (the processing clock)
    forget_at: datetime  # when this marker is removed in turn
    home_partition: int | None = None  # where it lives, so the timer's check reaches it


def is_retired(stored: dict[str, Any]) -> bool:
    """Whether a stored ``shipments`` value is a retired marker rather than a state."""
    return "retired_version" in stored


def retired_to_json(marker: RetiredShipment) -> dict[str, Any]:
    return {
        "retired_version": RETIRED_VERSION,
        "settled_at": format_rfc3339(marker.settled_at),
        "retired_at": format_rfc3339(marker.retired_at),
        # The state's timer part, so the sweep and ``stored_timer`` read a marker like a state.
        "timer": {
            "next_check_at": format_rfc3339(marker.forget_at),
            "home_partition": marker.home_partition,
        },
    }


def retired_from_json(data: dict[str, Any]) -> RetiredShipment:
    version = data.get("retired_version")
    if version != RETIRED_VERSION:
        raise ValueError(f"retired_version {version!r} (this build reads {RETIRED_VERSION})")
    timer = data["timer"]
    return RetiredShipment(
        settled_at=parse_rfc3339(data["settled_at"]),
        retired_at=parse_rfc3339(data["retired_at"]),
        forget_at=parse_rfc3339(timer["next_check_at"]),
        home_partition=timer["home_partition"],
    )
