"""Canada Post: a Get Tracking Details answer (``tracking-detail``) or a ``messages`` error, as
REST (track-v2 XML) or inside a SOAP envelope.

Documentation: "Get Tracking Details - REST" and "- SOAP"
(https://www.canadapost-postescanada.ca/info/mc/business/productsservices/developers/services/tracking/trackingdetails.jsf),
the ``track.xsd`` element model, and "Messages and Code Tables" for errors.

Events are ``significant-events/occurrence``: ``event-identifier`` (the code; written both
zero-padded and not, so the table is tried with it as written, then without leading zeros),
``event-date`` + ``event-time`` (local), ``event-time-zone`` (a label such as ``EDT``: a fixed
offset when it is a North American abbreviation, else the location's zone), ``event-site`` (a
city, sometimes ``"CITY,Country"``), ``event-province``, ``signatory-name`` and the post office
holding the item (``event-retail-location-id``/``-name``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from xml.etree.ElementTree import Element

from parcelwatch.schemas.types import CarrierSource, Location, PickupPoint
from parcelwatch.streams.carriers.countries import country_code
from parcelwatch.streams.carriers.documents import Document, text, xml_text
from parcelwatch.streams.carriers.model import (
    CarrierError,
    CarrierEvent,
    CarrierResponse,
    PayloadError,
    TrackingHistory,
)
from parcelwatch.streams.carriers.registry import SourceFormat
from parcelwatch.streams.carriers.times import parse_date, parse_iso

CARRIER = "canadapost"
_ROOTS = frozenset({"tracking-detail", "messages"})
_PROVINCES = frozenset(
    {"AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"}
)
# event-time-zone labels that fix the UTC offset (hours).
_ZONE_LABELS = {
    "NST": -3.5, "NDT": -2.5, "AST": -4, "ADT": -3, "EST": -5, "EDT": -4,
    "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
}  # fmt: skip


def parse(document: Document) -> CarrierResponse:
    root = _body(document)
    if root is None:
        raise PayloadError("neither a Canada Post tracking-detail nor a messages answer")
    if root.tag == "messages":
        return CarrierResponse(errors=_errors(root))
    return CarrierResponse(histories=(_detail(root),))


def recognises(document: Document) -> bool:
    root = _body(document)
    if root is None:
        return False
    if root.tag == "messages":
        return (
            all(child.tag == "message" and child.find("code") is not None for child in root)
            and len(root) > 0
        )
    return root.find("pin") is not None or root.find("significant-events") is not None


def _body(document: Document) -> Element | None:
    """The answer's element: the root, or the one inside a SOAP envelope."""
    if not isinstance(document, Element):
        return None
    if document.tag in _ROOTS:
        return document
    if document.tag == "Envelope":
        return next((element for element in document.iter() if element.tag in _ROOTS), None)
    return None


def _errors(root: Element) -> tuple[CarrierError, ...]:
    return tuple(
        CarrierError(xml_text(message, "code"), xml_text(message, "description") or "no text")
        for message in root.iter("message")
    )


def _detail(root: Element) -> TrackingHistory:
    number = xml_text(root, "pin") or xml_text(root, "dnc")
    if number is None:
        raise PayloadError("a Canada Post tracking-detail without pin")
    events = root.find("significant-events")
    occurrences = [] if events is None else events.findall("occurrence")
    postal = xml_text(root, "destination-postal-id")
    return TrackingHistory(
        tracking_number=number,
        carrier=CARRIER,
        events=tuple(_occurrence(occurrence) for occurrence in occurrences),
        estimated_delivery=_estimate(root),
        destination=Location(postal_code=postal, country="CA") if postal else None,
    )


def _occurrence(occurrence: Element) -> CarrierEvent:
    code = xml_text(occurrence, "event-identifier")
    description = xml_text(occurrence, "event-description")
    location = _location(xml_text(occurrence, "event-site"), xml_text(occurrence, "event-province"))
    retail_id = xml_text(occurrence, "event-retail-location-id")
    retail_name = xml_text(occurrence, "event-retail-name")
    pickup = None
    if retail_id or retail_name:
        pickup = PickupPoint(id=retail_id, name=retail_name, location=location)
    keys = (code, code.lstrip("0") or "0") if code else ()
    return CarrierEvent(
        occurred_at=_moment(occurrence),
        code=code,
        description=description,
        location=location,
        mapping_keys=tuple(dict.fromkeys(keys)),
        signer=xml_text(occurrence, "signatory-name"),
        delivery_location_text=description if _says_delivered(description) else None,
        pickup_point=pickup,
    )


def _says_delivered(description: str | None) -> bool:
    words = (description or "").lower()
    return "delivered" in words and not any(
        negation in words for negation in ("not delivered", "could not", "unable", "attempt")
    )


def _moment(occurrence: Element) -> datetime:
    day = xml_text(occurrence, "event-date")
    if day is None:
        raise PayloadError("a Canada Post occurrence without event-date")
    clock = xml_text(occurrence, "event-time") or "00:00:00"
    moment = parse_iso(f"{day}T{clock}")
    label = (xml_text(occurrence, "event-time-zone") or "").upper()
    hours = _ZONE_LABELS.get(label)
    if hours is None:
        return moment  # no label, or a place's name ("ISRAEL"): the location decides
    return moment.replace(tzinfo=timezone(timedelta(hours=hours)))


def _location(site: str | None, province: str | None) -> Location | None:
    if site is None and province is None:
        return None
    city, _, country_name = (site or "").partition(",")
    country = country_code(text(country_name)) if country_name else None
    if country is None and province and province.upper() in _PROVINCES:
        country = "CA"
    return Location(city=text(city), region=province, country=country)


def _estimate(root: Element) -> date | None:
    for name in ("changed-expected-date", "expected-delivery-date"):
        value = xml_text(root, name)
        if value:
            try:
                return parse_date(value)
            except PayloadError:
                continue
    return None


FORMAT = SourceFormat(
    source=CarrierSource.CANADAPOST,
    kind="carrier",
    home_zone="America/Toronto",
    parse=parse,
    recognises=recognises,
)
