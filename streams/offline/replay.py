"""Run a recorded history through the worker's own pure core, offline.

Training, ``parcelwatch score`` and backtests all see shipments exactly as the worker did: each
scan is applied with ``apply_event`` and a snapshot of the state right after it is taken.

Order of application: a shipment's order events first (the shop publishes the order before the
carrier scans it), then its scans in file order, which should be the order they were published.
Duplicated ``event_id``s are skipped exactly as the worker skips them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from parcelwatch.schemas.codec import NO_MESSAGE_KEY, InvalidEvent, decode_order, decode_scan
from parcelwatch.schemas.state import ShipmentState
from parcelwatch.schemas.types import Limits, Order, Scan
from parcelwatch.streams.core.tracking import Applied, apply_event


class HistoryError(ValueError):
    """A history file holds a line that is not a valid event of its kind (strict reading), or
    more invalid lines than the caller tolerates (lenient reading)."""


@dataclass(frozen=True, slots=True)
class InvalidLine:
    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class EventsRead:
    """What lenient reading found: the valid events, the non-blank line count, the invalid ones."""

    events: list[Scan | Order]
    lines: int
    invalid: list[InvalidLine]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The state right after ``scan`` was applied: what the worker would score."""

    state: ShipmentState
    scan: Scan


@dataclass(frozen=True, slots=True)
class History:
    snapshots: tuple[Snapshot, ...]
    final_states: dict[str, ShipmentState]


def read_jsonl(
    paths: Sequence[Path], kind: str, *, now: datetime, limits: Limits | None = None
) -> list[Scan | Order]:
    """Decode canonical JSONL with the same validation as the worker; fail on the first bad line."""
    return read_events(paths, kind, now=now, limits=limits, strict=True).events


def read_events(
    paths: Sequence[Path],
    kind: str,
    *,
    now: datetime,
    limits: Limits | None = None,
    strict: bool = False,
) -> EventsRead:
    """Decode canonical JSONL like the worker does; skip and record the lines that fail the
    contract, or with ``strict`` raise :class:`HistoryError` on the first one."""
    decoder = decode_scan if kind == "scan" else decode_order
    limits = limits or Limits(max_payload_bytes=1 << 20)
    events: list[Scan | Order] = []
    invalid: list[InvalidLine] = []
    count = 0
    for path in paths:
        with path.open("rb") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                count += 1
                try:
                    events.append(decoder(line, key=NO_MESSAGE_KEY, now=now, limits=limits))
                except InvalidEvent as error:
                    if strict:
                        raise HistoryError(f"{path}:{number}: {error}") from None
                    invalid.append(InvalidLine(path, number, str(error)))
    return EventsRead(events, count, invalid)


def replay(orders: Iterable[Order], scans: Iterable[Scan], *, now: datetime) -> History:
    """Apply every shipment's events through the core; ``now`` stamps processing times only."""
    per_shipment: dict[str, list[Scan | Order]] = defaultdict(list)
    for order in orders:
        per_shipment[order.tracking_number].append(order)
    for scan in scans:
        per_shipment[scan.tracking_number].append(scan)
    snapshots: list[Snapshot] = []
    final_states: dict[str, ShipmentState] = {}
    for tracking_number, events in per_shipment.items():
        state: ShipmentState | None = None
        for event in events:
            outcome = apply_event(state, event, now)
            state = outcome.state
            if isinstance(outcome, Applied) and isinstance(event, Scan):
                snapshots.append(Snapshot(state, event))
        assert state is not None
        final_states[tracking_number] = state
    return History(tuple(snapshots), final_states)
