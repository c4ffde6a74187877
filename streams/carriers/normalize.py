"""A parsed carrier response → canonical scans, one per carrier event.

Ids are deterministic: carriers and platforms resend a parcel's whole history every time, so a
scan's ``event_id`` is a UUIDv5 of (source, tracking number, event time as the source wrote it,
carrier code, location). A resent history gives the same ids, which the tracking agent counts as
duplicates. For sources without codes the carrier's words stand in for the code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from parcelwatch.schemas.ids import deterministic_id
from parcelwatch.schemas.types import (
    CarrierSource,
    DeliveryLocation,
    DeliveryLocationKind,
    Limits,
    Location,
    Scan,
    ScanTimeZone,
    TimeZoneSource,
)
from parcelwatch.streams.carriers.delivery_places import delivery_kind_from_text
from parcelwatch.streams.carriers.mapping import MappingTable
from parcelwatch.streams.carriers.model import CarrierEvent, CarrierResponse, TrackingHistory
from parcelwatch.streams.carriers.timezones import resolve_zone

MAX_CODE_CHARS = 64  # scan.v1 carrier_status_code
MAX_TEXT_CHARS = 1000  # scan.v1 description
MAX_SHORT_TEXT_CHARS = 200  # signer, place words, location fields
END_OF_DAY = time(23, 59, 59)
_OFFSET_GIVEN = ScanTimeZone(TimeZoneSource.OFFSET)


@dataclass(frozen=True, slots=True)
class UnmappedCode:
    code: str | None
    description: str | None


@dataclass
class Normalized:
    scans: list[Scan] = field(default_factory=list)
    unmapped: list[UnmappedCode] = field(default_factory=list)


def normalize(
    source: CarrierSource, response: CarrierResponse, table: MappingTable, home_zone: str | None
) -> Normalized:
    """Every event of every history in ``response`` as a scan (oldest first per parcel)."""
    result = Normalized()
    for history in response.histories:
        _normalize_history(source, history, table, home_zone, result)
    return result


def _normalize_history(
    source: CarrierSource,
    history: TrackingHistory,
    table: MappingTable,
    home_zone: str | None,
    result: Normalized,
) -> None:
    tracking_number = "".join(history.tracking_number.split())
    scans: list[Scan] = []
    for event in history.events:
        mapped = table.lookup(event.keys(), event.description, event.fallback_keys)
        if not mapped.mapped:
            result.unmapped.append(UnmappedCode(event.code, event.description))
        occurred_at, said = _aware(event.occurred_at, event.location, home_zone)
        mapping = mapped.mapping
        scans.append(
            Scan(
                event_id=scan_event_id(source, tracking_number, event),
                tracking_number=tracking_number,
                carrier=history.carrier,
                status=mapping.status,
                occurred_at=occurred_at,
                reason=mapping.reason,
                carrier_status_code=_cut(event.code, MAX_CODE_CHARS),
                description=_cut(event.description, MAX_TEXT_CHARS),
                location=_location(event.location),
                source=source,
                time_zone=said,
                signer=_cut(event.signer, MAX_SHORT_TEXT_CHARS),
                delivery_location=_delivery_location(event, mapping.delivery_location),
                return_to_sender=event.return_to_sender or mapping.return_to_sender,
                pickup_point=event.pickup_point,
            )
        )
    scans.sort(key=lambda scan: scan.occurred_at)
    if scans and history.estimated_delivery is not None:
        newest = scans[-1]
        where = history.destination or newest.location
        estimate, _ = _aware(_as_datetime(history.estimated_delivery), where, home_zone)
        if _plausible_estimate(estimate, newest.occurred_at):
            scans[-1] = replace(newest, estimated_delivery=estimate)
    result.scans.extend(scans)


def _plausible_estimate(estimate: datetime, occurred_at: datetime) -> bool:
    """Whether the scan contract takes ``estimate`` beside ``occurred_at``. A stale date years
    away (a documented sample's, a carrier's left-over field) is no estimate: kept, it would make
    the tracking agent dead-letter the whole scan, and with it a delivery or a loss."""
    return abs(estimate - occurred_at) <= timedelta(days=Limits().max_estimate_days)


def scan_event_id(source: CarrierSource, tracking_number: str, event: CarrierEvent) -> str:
    location = event.location or Location()
    return deterministic_id(
        "carrier-raw",
        source.value,
        tracking_number,
        event.occurred_at.isoformat(),
        event.code or (event.description or "").casefold(),
        "|".join(part or "" for part in _location_parts(location)),
    )


def _location_parts(location: Location) -> Iterable[str | None]:
    return (location.city, location.region, location.postal_code, location.country)


def _aware(
    moment: datetime, location: Location | None, home_zone: str | None
) -> tuple[datetime, ScanTimeZone]:
    if moment.tzinfo is not None and moment.utcoffset() is not None:
        return moment, _OFFSET_GIVEN
    resolved = resolve_zone(location, home_zone)
    return moment.replace(tzinfo=resolved.zone), resolved.said


def _as_datetime(value: datetime | date) -> datetime:
    """A date-only estimate means "by the end of that day"."""
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, END_OF_DAY)


def _delivery_location(
    event: CarrierEvent, from_code: DeliveryLocationKind | None
) -> DeliveryLocation | None:
    kind = event.delivery_location or from_code
    words = _cut(event.delivery_location_text, MAX_SHORT_TEXT_CHARS)
    if kind is None and words:
        kind = delivery_kind_from_text(words)
    if kind is None:
        return None
    return DeliveryLocation(kind=kind, description=words)


def _location(location: Location | None) -> Location | None:
    if location is None:
        return None
    country = (location.country or "").strip().upper()
    cleaned = Location(
        city=_cut(location.city, MAX_SHORT_TEXT_CHARS),
        region=_cut(location.region, 100),
        postal_code=_cut(location.postal_code, 20),
        country=country if len(country) == 2 and country.isalpha() and country.isascii() else None,
    )
    return None if cleaned == Location() else cleaned


def _cut(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text[:limit] or None
