"""DHL Parcel DE (DHL Paket) Shipment Tracking: the XML answers of the "Sendungsverfolgung" API.

Documentation: https://developer.dhl.com/api-reference/dhl-parcel-de-shipment-tracking-post-parcel-germany
(request types ``d-get-piece-detail`` and ``get-status-for-public-user``).

Everything is an attribute of nested ``<data name="...">`` elements::

    <data name="piece-shipment-list" code="0">              (code != 0: the request failed)
      <data name="piece-shipment" error-status="0" piece-code="00340434161094022115" ...>
        <data name="piece-event-list">
          <data name="piece-event" event-timestamp="18.03.2016 10:02" event-status="..."
                ice="DLVRD" ric="NGHBR" standard-event-code="ZU" event-location="Bonn"
                event-country="DE" ruecksendung="false"/>

Up to 20 pieces per request, each with its own ``error-status`` (non-zero: an error for that
piece only). The public query answers ``piece-status-public`` elements with the latest status
only. Each event has an ICE event code and a RIC reason code (and a coarse TTpro code): the scan
keeps ``"ICE/RIC"``. Times are local (``dd.MM.yyyy HH:mm``), read in the event country's zone,
else Europe/Berlin.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from xml.etree.ElementTree import Element

from parcelwatch.schemas.types import CarrierSource, Location
from parcelwatch.streams.carriers.documents import Document, text
from parcelwatch.streams.carriers.locations import location_of
from parcelwatch.streams.carriers.model import (
    CarrierError,
    CarrierEvent,
    CarrierResponse,
    PayloadError,
    TrackingHistory,
)
from parcelwatch.streams.carriers.registry import SourceFormat
from parcelwatch.streams.carriers.times import parse_date, parse_iso, parse_with

CARRIER = "dhl_parcel_de"
_LISTS = ("piece-shipment-list", "piece-status-public-list")
_PIECES = ("piece-shipment", "piece-status-public")
_TIME_FORMATS = ("%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y")
_DELIVERED = "DLVRD"
_LATEST_TIMES = ("status-timestamp", "last-event-timestamp", "event-timestamp")
_CITY_WITH_POSTCODE = re.compile(r"^(\d{4,5})\s+(.+)$")


def parse(document: Document) -> CarrierResponse:
    if not isinstance(document, Element) or document.tag != "data":
        raise PayloadError("a DHL Parcel DE answer is a <data> XML document")
    name = document.get("name")
    code = (document.get("code") or "0").strip()
    if code != "0":
        return CarrierResponse(errors=(CarrierError(code, _error_words(document)),))
    if name not in _LISTS and name not in _PIECES:
        raise PayloadError(f"a DHL Parcel DE answer named {name!r}, not a piece list")
    pieces = [document] if name in _PIECES else _children(document, *_PIECES)
    histories: list[TrackingHistory] = []
    errors: list[CarrierError] = []
    for piece in pieces:
        status = (piece.get("error-status") or "0").strip()
        if status != "0":
            errors.append(CarrierError(status, _error_words(piece), _number(piece)))
        else:
            histories.append(_piece(piece))
    return CarrierResponse(histories=tuple(histories), errors=tuple(errors))


def recognises(document: Document) -> bool:
    return (
        isinstance(document, Element)
        and document.tag == "data"
        and document.get("name") in (*_LISTS, *_PIECES)
    )


def _children(element: Element, *names: str) -> list[Element]:
    return [child for child in element.iter("data") if child.get("name") in names]


def _number(piece: Element) -> str | None:
    for attribute in ("piece-code", "searched-piece-code", "piece-identifier", "shipment-code"):
        found = text(piece.get(attribute))
        if found is not None:
            return found
    return None


def _piece(piece: Element) -> TrackingHistory:
    number = _number(piece)
    if number is None:
        raise PayloadError("a DHL Parcel DE piece without piece-code")
    returning = _flag(piece.get("ruecksendung"))
    events = [
        event
        for element in _children(piece, "piece-event")
        if (event := _event(element, returning)) is not None
    ]
    if not events:
        # d-get-piece and the public query give only the latest status, on the piece itself.
        when = next((name for name in _LATEST_TIMES if text(piece.get(name))), None)
        latest = _event(piece, returning, time_attribute=when) if when else None
        events = [latest] if latest is not None else []
    return TrackingHistory(
        tracking_number=number,
        carrier=CARRIER,
        events=tuple(events),
        estimated_delivery=_estimate(piece),
        destination=_destination(piece),
    )


def _event(
    element: Element, returning: bool, time_attribute: str = "event-timestamp"
) -> CarrierEvent | None:
    ice, ric = text(element.get("ice")), text(element.get("ric"))
    standard = text(element.get("standard-event-code"))
    words = (
        text(element.get("event-status"))
        or text(element.get("status"))
        or text(element.get("event-text"))
    )
    if ice is None and standard is None and words is None:
        return None  # a skeleton event: a time and nothing else
    moment = text(element.get(time_attribute)) or text(element.get("event-timestamp"))
    if moment is None:
        raise PayloadError("a DHL Parcel DE event without event-timestamp")
    code = f"{ice}/{ric}" if ice and ric else ice or standard
    keys = [f"{ice}/{ric}/{standard}", f"{ice}/{ric}"] if ice and ric and standard else []
    if ice and ric and not standard:
        keys.append(f"{ice}/{ric}")
    if ice:
        keys.append(ice)
    if standard:
        keys.append(standard)
    returning = returning or _flag(element.get("ruecksendung"))
    delivered = ice == _DELIVERED or (ice is None and standard == "ZU")
    if delivered and returning:
        keys.insert(0, f"{_DELIVERED}/return")
    location = location_of(element.get("event-location"), None, None, element.get("event-country"))
    return CarrierEvent(
        occurred_at=_time(moment),
        code=code,
        description=words,
        location=location,
        return_to_sender=True if returning else None,
        delivery_location_text=text(element.get("recipient-id-text")) if delivered else None,
        mapping_keys=tuple(dict.fromkeys(keys)),
    )


def _time(value: str) -> datetime:
    if value[:4].isdigit() and value[4:5] == "-":
        return parse_iso(value)
    return parse_with(value, *_TIME_FORMATS)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes", "ja")


def _estimate(piece: Element) -> date | datetime | None:
    until = text(piece.get("delivery-timeframe-to"))
    day = text(piece.get("delivery-date"))
    try:
        if until is not None:
            return _time(until)
        if day is not None:
            return parse_date(day, "%d.%m.%Y")
    except PayloadError:
        return None  # an estimate in a form DHL never documented is not worth a dead letter
    return None


def _destination(piece: Element) -> Location | None:
    city = text(piece.get("recipient-city"))
    postal = None
    if city is not None and (match := _CITY_WITH_POSTCODE.match(city)):
        postal, city = match.groups()
    return location_of(city, None, postal, piece.get("dest-country"))


def _error_words(element: Element) -> str:
    for attribute in ("error", "error-text", "error-message", "status", "piece-status-desc"):
        found = text(element.get(attribute))
        if found is not None:
            return found
    return "DHL Parcel DE gave no words for this error"


FORMAT = SourceFormat(
    source=CarrierSource.DHL_PARCEL_DE,
    kind="carrier",
    home_zone="Europe/Berlin",
    parse=parse,
    recognises=recognises,
)
