"""Every parcel of the transcribed carrier payload files (tests/data/carriers/<source>/), as the
worker holds it once all its scans are applied: alone (its order never seen) or with an order of
a customer around the world. Each scan passes the tracking agent's own contract check first (the
worker dead-letters the others: a documented sample's placeholder tracking number, say)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from parcelwatch.schemas.codec import NO_MESSAGE_KEY, InvalidEvent, decode_scan, encode
from parcelwatch.schemas.state import ShipmentState
from parcelwatch.schemas.types import Customer, Limits, NotificationChannel, Order, Scan
from parcelwatch.streams.carriers.model import PayloadError
from parcelwatch.streams.carriers.reading import scans_from_payload
from parcelwatch.streams.core.tracking import apply_event
from tests.realdata.histories import LOCALES, ZONES

PAYLOADS = Path(__file__).resolve().parents[1] / "data" / "carriers"
LIMITS = Limits()
PROMISED_AFTER_FIRST_SCAN = timedelta(days=3)  # the payloads carry no order: one is made up


@dataclass(frozen=True, slots=True)
class Parcel:
    file: str  # "<source>/<file name>"
    scans: tuple[Scan, ...]  # as the payload gives them (its publish order)
    locale: str
    zone: ZoneInfo
    alone: ShipmentState  # no order known
    ordered: ShipmentState  # with an order placed just before the first scan

    @property
    def last_scan_at(self):
        return max(scan.occurred_at for scan in self.scans)


def parcels() -> tuple[Parcel, ...]:
    """Every parcel with scans, in file order; files parcelwatch refuses by design are left out
    (their own source's tests cover the refusal)."""
    return _walk()[0]


def refused_scans() -> tuple[tuple[str, Scan, str], ...]:
    """The scans the tracking agent would dead-letter: file, scan and the contract's reason."""
    return _walk()[1]


@cache
def _walk() -> tuple[tuple[Parcel, ...], tuple[tuple[str, Scan, str], ...]]:
    found: list[Parcel] = []
    refused: list[tuple[str, Scan, str]] = []
    for path in sorted(PAYLOADS.glob("*/*")):
        if path.suffix not in {".json", ".xml"}:
            continue
        try:
            result = scans_from_payload(path.read_bytes(), path.parent.name)
        except PayloadError:
            continue
        file = f"{path.parent.name}/{path.name}"
        by_parcel: dict[str, list[Scan]] = defaultdict(list)
        for scan in result.normalized.scans:
            try:
                valid = _as_the_worker_reads(scan)
            except InvalidEvent as error:
                refused.append((file, scan, str(error)))
                continue
            by_parcel[scan.tracking_number].append(valid)
        for scans in by_parcel.values():
            found.append(_parcel(file, tuple(scans), len(found)))
    return tuple(found), tuple(refused)


def _as_the_worker_reads(scan: Scan) -> Scan:
    return decode_scan(
        encode(scan), key=NO_MESSAGE_KEY, now=scan.occurred_at + timedelta(days=1), limits=LIMITS
    )


def _parcel(file: str, scans: tuple[Scan, ...], index: int) -> Parcel:
    locale, zone = LOCALES[index % len(LOCALES)], ZONES[index % len(ZONES)]
    first = min(scan.occurred_at for scan in scans)
    order = Order(
        event_id=f"order-{scans[0].tracking_number}",
        order_id=f"R-{index:04d}",
        tracking_number=scans[0].tracking_number,
        carrier=scans[0].carrier,
        service_level="standard",
        ordered_at=first - timedelta(hours=2),
        promised_by=first + PROMISED_AFTER_FIRST_SCAN,
        customer=Customer(f"cust-{index}", locale, zone, (NotificationChannel.EMAIL,)),
    )
    return Parcel(
        file, scans, locale, ZoneInfo(zone), _applied(None, scans), _applied(order, scans)
    )


def _applied(order: Order | None, scans: tuple[Scan, ...]) -> ShipmentState:
    state = apply_event(None, order, order.ordered_at).state if order else None
    for scan in scans:
        state = apply_event(state, scan, scan.occurred_at).state
    assert state is not None
    return state
