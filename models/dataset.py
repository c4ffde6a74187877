"""Training examples: one row per scan of a shipment still under way, labelled by its outcome."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from parcelwatch.models.features import Row, feature_row
from parcelwatch.schemas.state import ShipmentState
from parcelwatch.schemas.types import SETTLED_STATUSES, Scan


def is_scorable(state: ShipmentState) -> bool:
    """The worker scores a shipment after a scan while it is not yet settled."""
    return state.tracking.status not in SETTLED_STATUSES


def late_label(final: ShipmentState) -> int | None:
    """1: not delivered by ``promised_by``; 0: delivered in time; None: outcome not known yet."""
    promised_by, tracking = final.order.promised_by, final.tracking
    if promised_by is None:
        return None
    if tracking.delivered_at is not None:
        return int(tracking.delivered_at > promised_by)
    if tracking.last_scan_at is not None and tracking.last_scan_at > promised_by:
        return 1  # returned, lost, still travelling: evidence says the promise is broken
    return None


@dataclass(frozen=True)
class Examples:
    rows: list[Row]
    late: np.ndarray  # int 0/1 per row
    hours_to_delivery: np.ndarray  # from as_of to delivery; NaN when never delivered
    tracking_numbers: list[str]
    event_ids: list[str]
    carriers: list[str]
    service_levels: list[str]
    as_of: list[datetime]
    ordered_at: list[datetime]
    promised_by: list[datetime]

    def __len__(self) -> int:
        return len(self.rows)

    def subset(self, mask: np.ndarray) -> Examples:
        picks = np.flatnonzero(mask)
        return Examples(
            rows=[self.rows[i] for i in picks],
            late=self.late[picks],
            hours_to_delivery=self.hours_to_delivery[picks],
            tracking_numbers=[self.tracking_numbers[i] for i in picks],
            event_ids=[self.event_ids[i] for i in picks],
            carriers=[self.carriers[i] for i in picks],
            service_levels=[self.service_levels[i] for i in picks],
            as_of=[self.as_of[i] for i in picks],
            ordered_at=[self.ordered_at[i] for i in picks],
            promised_by=[self.promised_by[i] for i in picks],
        )


def build_examples(
    snapshots: Iterable[tuple[ShipmentState, Scan]], final_states: Mapping[str, ShipmentState]
) -> Examples:
    """Rows for every scorable snapshot of a shipment whose outcome is known."""
    rows, late, to_delivery = [], [], []
    tracking, events, carriers, services, as_of, ordered, promised = [], [], [], [], [], [], []
    for state, scan in snapshots:
        final = final_states[state.tracking_number]
        label = late_label(final)
        if label is None or not is_scorable(state) or state.order.ordered_at is None:
            continue
        rows.append(feature_row(state, scan.occurred_at))
        late.append(label)
        to_delivery.append(
            math.nan
            if final.tracking.delivered_at is None
            else (final.tracking.delivered_at - scan.occurred_at).total_seconds() / 3600
        )
        tracking.append(state.tracking_number)
        events.append(scan.event_id)
        carriers.append(state.carrier or "unknown")
        services.append(state.order.service_level or "unknown")
        as_of.append(scan.occurred_at)
        ordered.append(state.order.ordered_at)
        assert state.order.promised_by is not None  # late_label needs it
        promised.append(state.order.promised_by)
    return Examples(
        rows=rows,
        late=np.array(late, dtype=np.int8),
        hours_to_delivery=np.array(to_delivery, dtype=np.float64),
        tracking_numbers=tracking,
        event_ids=events,
        carriers=carriers,
        service_levels=services,
        as_of=as_of,
        ordered_at=ordered,
        promised_by=promised,
    )


def time_split(examples: Examples, test_fraction: float = 0.25) -> tuple[Examples, Examples]:
    """Train on the earliest orders, test on the latest: whole shipments, never split across."""
    if not 0 < test_fraction < 1:
        raise ValueError("test_fraction must be between 0 and 1")
    order_time = {}
    for number, ordered in zip(examples.tracking_numbers, examples.ordered_at, strict=True):
        order_time[number] = ordered
    shipments = sorted(order_time, key=lambda n: (order_time[n], n))
    cut = int(len(shipments) * (1 - test_fraction))
    test_shipments = set(shipments[cut:])
    in_test = np.array([n in test_shipments for n in examples.tracking_numbers], dtype=bool)
    return examples.subset(~in_test), examples.subset(in_test)
