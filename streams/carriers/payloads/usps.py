"""USPS: Web Tools TrackV2 (XML) and the USPS APIs Tracking 3.x (JSON, or its XML summary).

Documentation: the Web Tools "Track & Confirm API" guide
(https://www.usps.com/business/web-tools-apis/track-and-confirm-api.pdf) and the USPS APIs
"Package Tracking and Notification" OpenAPI spec (https://developers.usps.com/trackingv3,
https://developers.usps.com/trackingv3r2). Event codes are Publication 199's Appendix G-4.

Shapes read:

* TrackV2: ``<TrackResponse>`` with one ``<TrackInfo ID>`` per number, each an ``<Error>`` or a
  ``<TrackSummary>`` (newest event) and ``<TrackDetail>``s. With ``Revision=1`` (TrackFieldRequest)
  events are fields (``EventDate``, ``EventTime``, ``Event``, ``EventCode``, ``EventCity``...); the
  older TrackRequest writes each event as a line of text, read for its date, time and place.
  A request-level failure is a bare ``<Error>`` (Number, Source, Description).
* Tracking 3.0 ``GET /tracking/{number}``: one object; ``expand=DETAIL`` gives ``trackingEvents``,
  ``expand=SUMMARY`` only ``eventSummaries`` lines (also as XML, root ``TrackSummary``).
* Tracking v3r2 ``POST /tracking``: a list of details, or (207) details mixed with per-number
  failures ``{"statusCode": "404", "trackingNumber", "error"}``.
* Errors: ``{"apiVersion", "error": {"code", "message", "errors": [...]}}``.

Codes: ``EventCode``; the table is tried with ``"<code>/<the event's words>"`` first (code 01 is
also "Delivered, To Original Sender"), then the code. Times: local wall clock without offset
(TrackV2), or ISO with an offset / ``GMTTimestamp`` (3.x).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from xml.etree.ElementTree import Element

from parcelwatch.schemas.types import (
    CarrierSource,
    DeliveryLocationKind,
    Location,
    PickupPoint,
)
from parcelwatch.streams.carriers.countries import country_code
from parcelwatch.streams.carriers.documents import Document, objects, text, xml_text
from parcelwatch.streams.carriers.model import (
    CarrierError,
    CarrierEvent,
    CarrierResponse,
    PayloadError,
    TrackingHistory,
)
from parcelwatch.streams.carriers.registry import SourceFormat
from parcelwatch.streams.carriers.times import parse_date, parse_iso, parse_with, utc_offset
from parcelwatch.streams.carriers.timezones import is_us_state

CARRIER = "usps"
_PICKUP_CODES = frozenset({"14", "16"})
_DAY_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%m/%d/%Y", "%Y-%m-%d")
_SUMMARY_ROOTS = frozenset({"TrackSummary", "trackingSummary", "TrackingSummary"})
# USPS's delivered wording that names no place the shared words know.
_PLACE_WORDS = (
    (
        re.compile(r"picked up at (the )?(postal facility|post office)", re.I),
        DeliveryLocationKind.PICKUP_POINT,
    ),
    (re.compile(r"\bindividual\b|\bagent\b", re.I), DeliveryLocationKind.RECIPIENT),
)

# --- the text lines of the older TrackV2 and of 3.x summaries
_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_LINE_DATE = re.compile(
    rf"\b(?:(?P<month>{_MONTHS})\.? (?P<day>\d{{1,2}})(?:,? (?P<year>\d{{4}}))?"
    r"|(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4}))\b",
    re.I,
)
_LINE_TIME = re.compile(r"\b(?P<clock>\d{1,2}:\d{2}) ?(?P<half>[ap])\.?m\.?", re.I)
_LINE_PLACE = re.compile(
    r"(?:,| in| at)? (?P<city>[A-Za-z][A-Za-z .'-]*?),? "
    r"(?P<state>[A-Z]{2}) (?P<zip>\d{5})(?:-\d{4})?\.?\s*$"
)


def parse(document: Document) -> CarrierResponse:
    if isinstance(document, Element):
        return _xml(document)
    if isinstance(document, list):
        return _details(document)
    if isinstance(document, dict):
        if isinstance(document.get("error"), dict):
            return CarrierResponse(errors=(_json_error(document),))
        if text(document.get("trackingNumber")) is not None:
            return _details([document])
    raise PayloadError("neither a USPS TrackResponse, a Tracking 3.x answer nor a USPS error")


def recognises(document: Document) -> bool:
    if isinstance(document, Element):
        if document.tag == "TrackResponse":
            return True
        if document.tag == "Error":
            return document.find("Number") is not None and document.find("Description") is not None
        return document.tag in _SUMMARY_ROOTS and _child(document, "trackingNumber") is not None
    if isinstance(document, dict):
        if isinstance(document.get("error"), dict) and "apiVersion" in document:
            return True
        return _is_detail(document)
    if isinstance(document, list) and document:
        # v3r2: details, or (207) details and failures each with a statusCode.
        return all(
            isinstance(item, dict) and (_is_detail(item) or "statusCode" in item)
            for item in document
        )
    return False


def _is_detail(item: dict[str, Any]) -> bool:
    return (
        "trackingNumber" in item
        and "activityStatus" not in item
        and any(
            key in item
            for key in (
                "trackingEvents",
                "eventSummaries",
                "statusCategory",
                "statusSummary",
                "mailClass",
            )
        )
    )


# --- Web Tools XML


def _xml(root: Element) -> CarrierResponse:
    if root.tag == "Error":
        return CarrierResponse(errors=(_xml_error(root, None),))
    if root.tag in _SUMMARY_ROOTS:
        return CarrierResponse(histories=(_xml_summary(root),))
    if root.tag != "TrackResponse":
        raise PayloadError(f"a USPS XML answer is a TrackResponse or an Error, not {root.tag}")
    histories: list[TrackingHistory] = []
    errors: list[CarrierError] = []
    for info in root.iter("TrackInfo"):
        number = text(info.get("ID")) or xml_text(info, "TrackingNumber")
        error = info.find("Error")
        if error is not None:
            errors.append(_xml_error(error, number))
            continue
        if number is None:
            raise PayloadError("a USPS TrackInfo without an ID")
        histories.append(_track_info(number, info))
    return CarrierResponse(histories=tuple(histories), errors=tuple(errors))


def _track_info(number: str, info: Element) -> TrackingHistory:
    events = [
        _xml_event(element) for element in info if element.tag in ("TrackSummary", "TrackDetail")
    ]
    return TrackingHistory(
        tracking_number=number,
        carrier=CARRIER,
        events=tuple(event for event in events if event is not None),
        estimated_delivery=_first_day(
            xml_text(info, "ExpectedDeliveryDate"),
            xml_text(info, "PredictedDeliveryDate"),
            xml_text(info, "GuaranteedDeliveryDate"),
        ),
        destination=_location(
            xml_text(info, "DestinationCity"),
            xml_text(info, "DestinationState"),
            xml_text(info, "DestinationZip"),
            xml_text(info, "DestinationCountryCode"),
        ),
    )


def _xml_event(element: Element) -> CarrierEvent | None:
    if len(element) == 0:  # the older TrackRequest: one line of text per event
        line = xml_text(element)
        return _line_event(line) if line else None
    day = xml_text(element, "EventDate")
    description = xml_text(element, "Event")
    if day is None:
        if description is None:
            return None
        raise PayloadError(f"a USPS event without EventDate: {description[:60]!r}")
    clock = xml_text(element, "EventTime")
    moment = datetime.combine(parse_date(day, *_DAY_FORMATS), datetime.min.time())
    if clock is not None:  # "12:15 pm"; empty for events USPS dates only
        time_of_day = parse_with(clock.upper().replace(".", ""), "%I:%M %p", "%H:%M", "%H:%M:%S")
        moment = moment.replace(hour=time_of_day.hour, minute=time_of_day.minute)
    location = _location(
        xml_text(element, "EventCity"),
        xml_text(element, "EventState"),
        xml_text(element, "EventZIPCode"),
        xml_text(element, "EventCountry"),
    )
    return _event(
        moment,
        xml_text(element, "EventCode"),
        description,
        location,
        signer=xml_text(element, "Name"),
        firm=xml_text(element, "FirmName"),
    )


def _xml_summary(root: Element) -> TrackingHistory:
    number = _child_text(root, "trackingNumber")
    if number is None:
        raise PayloadError("a USPS tracking summary without trackingNumber")
    lines = [
        text(item.text)
        for holder in root
        if holder.tag.lower() == "eventsummaries"
        for item in holder
    ]
    return TrackingHistory(
        tracking_number=number,
        carrier=CARRIER,
        events=tuple(_line_event(line) for line in lines if line),
        estimated_delivery=_first_day(_child_text(root, "expectedDeliveryDate")),
    )


def _xml_error(error: Element, number: str | None) -> CarrierError:
    return CarrierError(
        xml_text(error, "Number"), xml_text(error, "Description") or "no description", number
    )


def _child(root: Element, name: str) -> Element | None:
    return next((child for child in root if child.tag.lower() == name.lower()), None)


def _child_text(root: Element, name: str) -> str | None:
    found = _child(root, name)
    return xml_text(found) if found is not None else None


# --- Tracking 3.x JSON


def _details(items: list[Any]) -> CarrierResponse:
    histories: list[TrackingHistory] = []
    errors: list[CarrierError] = []
    for item in objects(items):
        status = text(item.get("statusCode"))
        if isinstance(item.get("error"), dict) or (status is not None and status != "200"):
            errors.append(_json_error(item))
            continue
        number = text(item.get("trackingNumber"))
        if number is None:
            raise PayloadError("a USPS tracking detail without trackingNumber")
        histories.append(_detail(number, item))
    return CarrierResponse(histories=tuple(histories), errors=tuple(errors))


def _detail(number: str, detail: dict[str, Any]) -> TrackingHistory:
    if "trackingEvents" in detail:
        events = tuple(_json_event(event) for event in objects(detail.get("trackingEvents")))
    else:  # expand=SUMMARY: lines of text only
        lines = (text(line) for line in detail.get("eventSummaries") or [])
        events = tuple(_line_event(line) for line in lines if line)
    expectation = detail.get("deliveryDateExpectation")
    expectation = expectation if isinstance(expectation, dict) else {}
    return TrackingHistory(
        tracking_number=number,
        carrier=CARRIER,
        events=events,
        estimated_delivery=_first_moment(
            text(detail.get("expectedDeliveryTimeStamp")),
            text(expectation.get("expectedDeliveryDate")),
            text(detail.get("expectedDeliveryDate")),
            text(expectation.get("predictedDeliveryDate")),
            text(detail.get("predictedDeliveryDate")),
        ),
        destination=_location(
            text(detail.get("destinationCity")),
            text(detail.get("destinationState")),
            text(detail.get("destinationZIP")) or text(detail.get("destinationZIPCode")),
            text(detail.get("destinationCountryCode")) or text(detail.get("destinationCountry")),
        ),
    )


def _json_event(event: dict[str, Any]) -> CarrierEvent:
    location = _location(
        text(event.get("eventCity")),
        text(event.get("eventState")),
        text(event.get("eventZIP")) or text(event.get("eventZIPCode")),
        text(event.get("eventCountry")),
    )
    return _event(
        _json_moment(event),
        text(event.get("eventCode")),
        text(event.get("eventType")),
        location,
        signer=text(event.get("name")) or text(event.get("recipientName")),
        firm=text(event.get("firm")),
    )


def _json_moment(event: dict[str, Any]) -> datetime:
    local = text(event.get("eventTimestamp"))
    gmt = text(event.get("GMTTimestamp"))
    if local is not None:
        moment = parse_iso(local)
        zone = utc_offset(text(event.get("GMTOffset")))  # "-7:00": single-digit hours
        if moment.tzinfo is None and zone is not None and len(local) > 10:
            return moment.replace(tzinfo=zone)
        if moment.tzinfo is None and gmt is not None and len(local) <= 10:
            return parse_iso(gmt)  # a date alone; the GMT time is more precise
        return moment
    if gmt is not None:
        return parse_iso(gmt)
    raise PayloadError("a USPS tracking event without eventTimestamp or GMTTimestamp")


def _json_error(item: dict[str, Any]) -> CarrierError:
    error = item.get("error")
    error = error if isinstance(error, dict) else {}
    details = [
        text(entry.get("detail")) or text(entry.get("title"))
        for entry in objects(error.get("errors"))
    ]
    message = text(error.get("message")) or "no message"
    extra = "; ".join(detail for detail in details if detail and detail != message)
    return CarrierError(
        text(error.get("code")) or text(item.get("statusCode")),
        f"{message} ({extra})" if extra else message,
        text(item.get("trackingNumber")),
    )


# --- shared


def _event(
    moment: datetime,
    code: str | None,
    description: str | None,
    location: Location | None,
    *,
    signer: str | None = None,
    firm: str | None = None,
) -> CarrierEvent:
    keys = [f"{code}/{description}", code] if code and description else [code] if code else []
    words = description or ""
    delivered = words.lower().startswith("delivered")
    # "Delivered, Front Door/Porch": the words after the comma say where.
    place_text = words.split(",", 1)[1].strip() or None if delivered and "," in words else None
    if place_text is not None and "sender" in place_text.lower():
        place_text = None  # "Delivered, To Original Sender": a return, not a place
    place_kind = None
    if place_text is not None:
        place_kind = next(
            (kind for pattern, kind in _PLACE_WORDS if pattern.search(place_text)), None
        )
    pickup = None
    if code in _PICKUP_CODES or "available for pickup" in (description or "").lower():
        pickup = PickupPoint(name=firm, location=location) if firm or location else None
    return CarrierEvent(
        occurred_at=moment,
        code=code,
        description=description,
        location=location,
        mapping_keys=tuple(key for key in keys if key),
        signer=signer if delivered else None,
        delivery_location=place_kind,
        delivery_location_text=place_text,
        pickup_point=pickup,
    )


def _line_event(line: str) -> CarrierEvent:
    """An event written as one line of text (older TrackV2, 3.x summaries)."""
    found = _LINE_DATE.search(line)
    year = found and (found.group("year") or found.group("y"))
    if found is None or not year:
        raise PayloadError(
            f"a USPS event line without a dated year: {line[:60]!r} (request Revision 1)"
        )
    if found.group("month"):
        day = parse_with(f"{found.group('month')[:3]} {found.group('day')} {year}", "%b %d %Y")
    else:
        day = datetime(int(year), int(found.group("m")), int(found.group("d")))
    clock = _LINE_TIME.search(line)
    moment = day
    if clock is not None:
        time_of_day = parse_with(f"{clock.group('clock')} {clock.group('half')}m", "%I:%M %p")
        moment = day.replace(hour=time_of_day.hour, minute=time_of_day.minute)
    place = _LINE_PLACE.search(line)
    location = (
        _location(place.group("city"), place.group("state"), place.group("zip"), None)
        if place
        else None
    )
    description = line if line.lower().startswith("your item") else _words_before(line, found)
    return _event(moment, None, description, location)


def _words_before(line: str, found: re.Match[str]) -> str:
    words = line[: found.start()].strip(" ,.")
    return words or line


def _location(
    city: str | None, state: str | None, postal: str | None, country: str | None
) -> Location | None:
    if not any((city, state, postal, country)):
        return None
    code = country_code(country)
    if code is None and ((state and is_us_state(state)) or (postal and postal[:5].isdigit())):
        code = "US"  # USPS leaves the country empty for domestic scans
    return Location(city=city, region=state, postal_code=postal, country=code)


def _first_day(*values: str | None) -> date | None:
    for value in values:
        if value:
            try:
                return parse_date(value, *_DAY_FORMATS)
            except PayloadError:
                continue
    return None


def _first_moment(*values: str | None) -> datetime | date | None:
    for value in values:
        if not value:
            continue
        try:
            moment = parse_iso(value)
        except PayloadError:
            continue  # e.g. guaranteed "2 Business Days"
        return moment.date() if len(value) <= 10 else moment
    return None


FORMAT = SourceFormat(
    source=CarrierSource.USPS,
    kind="carrier",
    home_zone="America/New_York",
    parse=parse,
    recognises=recognises,
)
