"""What a parser reads out of a payload, before mapping: the source's own words and codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from parcelwatch.schemas.types import DeliveryLocationKind, Location, PickupPoint


class PayloadError(ValueError):
    """A payload no parser of its source can read: not JSON/XML, or not the documented shape."""


@dataclass(frozen=True, slots=True)
class CarrierError:
    """A carrier's or platform's own error answer (bad credentials, unknown tracking number)."""

    code: str | None
    message: str
    tracking_number: str | None = None

    def __str__(self) -> str:
        number = f" for {self.tracking_number}" if self.tracking_number else ""
        return f"{self.code or 'no code'}{number}: {self.message}"


@dataclass(frozen=True, slots=True)
class CarrierEvent:
    """One tracking event as the source wrote it.

    ``occurred_at`` is naive when the source wrote a local time without an offset (most carriers
    do); normalisation reads it in the location's zone. ``code`` is the source's own code, kept
    on the scan (sources with two-part codes join them, e.g. ``"PU/01"``). ``mapping_keys`` are the
    keys tried in the source's mapping table, most specific first; empty means ``(code,)``.
    ``fallback_keys`` are tried only when neither those keys nor the table's words (``texts``)
    found anything: coarse codes the carrier's words can refine (DHL's unified ``transit`` hides
    "out for delivery"); a code among them is not tried first.
    """

    occurred_at: datetime
    code: str | None = None
    description: str | None = None
    location: Location | None = None
    # Set by the parser only where the source says so.
    signer: str | None = None
    delivery_location: DeliveryLocationKind | None = None
    delivery_location_text: str | None = None
    pickup_point: PickupPoint | None = None
    return_to_sender: bool | None = None
    mapping_keys: tuple[str, ...] = ()
    fallback_keys: tuple[str, ...] = ()

    def keys(self) -> tuple[str, ...]:
        if self.mapping_keys:
            return self.mapping_keys
        return (self.code,) if self.code and self.code not in self.fallback_keys else ()


@dataclass(frozen=True, slots=True)
class TrackingHistory:
    """One parcel's events, as one response or webhook gives them (in any order)."""

    tracking_number: str
    carrier: str  # parcelwatch carrier id (for platforms: the underlying carrier, see aliases)
    events: tuple[CarrierEvent, ...]
    estimated_delivery: datetime | date | None = None  # naive/date: local to the destination
    destination: Location | None = None  # helps resolve the estimate's zone


@dataclass(frozen=True, slots=True)
class CarrierResponse:
    """Everything a payload says: histories, and errors for the numbers the source could not
    answer (a response may hold both, e.g. a multi-parcel request with one unknown number)."""

    histories: tuple[TrackingHistory, ...] = ()
    errors: tuple[CarrierError, ...] = ()
