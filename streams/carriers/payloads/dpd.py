"""DPD: ParcelLifeCycleService 2.0 (SOAP XML, and DPD NL's REST JSON) and the Tracking Push Service.

* ParcelLifeCycle ``getTrackingData`` (https://integrations.dpd.nl/dpd-shipper/dpd-shipper-webservices/
  parcellifecycle-service/): ``trackingresult`` holds ``shipmentInfo`` and one ``statusInfo`` per
  milestone of DPD's progress bar (``status`` SHIPMENT, ACCEPTED, AT_SENDING_DEPOT, ON_THE_ROAD,
  AT_DELIVERY_DEPOT, DELIVERED; DPD NL's REST flavour writes PickedUp, Courier, ParcelShop...).
  Only milestones with ``statusHasBeenReached`` and a ``date`` are events. Dates and places are
  display strings (``"7/30/2021 9:54:00 AM"``, ``"Leeds (GB)"``); problems show only as words in
  ``errorItems``. SOAP faults carry ``errorCode``/``errorMessage``.
* Tracking Push (DPD DE): DPD calls the customer's URL with query parameters ``pushid``, ``pnr``,
  ``status``, ``statusdate`` (``ddMMyyyyHHmmss``), ``depot``, ``receiver``...; the receiving job
  publishes them to ``carrier-raw`` as a JSON object (or a list of them), values as DPD sent them.

No DPD time has an offset: they are read in the event place's zone, else Europe/Berlin.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

from parcelwatch.schemas.types import CarrierSource, Location
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
from parcelwatch.streams.carriers.times import parse_iso, parse_with

CARRIER = "dpd"
_PUSH_KEYS = ("pushid", "pnr", "status")
_PLC_ROOTS = ("getTrackingDataResponse", "parcellifecycleResponse")
_DISPLAY_TIMES = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y, %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
)
_PLACE = re.compile(r"^(?P<city>.*?)\s*\((?P<country>[A-Za-z]{2,3})\)\s*$")
# Push statuses that hand the parcel over: the receiver named is who took it.
_HANDED_OVER = frozenset({"delivery_customer", "pickup_by_consignee"})
ERROR_KEY = "error"  # the table's entry for a milestone DPD flags with errorItems


def parse(document: Document) -> CarrierResponse:
    if isinstance(document, Element):
        return _soap(document)
    if isinstance(document, list) and all(_is_push(item) for item in document):
        return _pushes(document)
    if not isinstance(document, dict):
        raise PayloadError("a DPD body is a JSON object, a list of pushes or SOAP XML")
    if _is_push(document):
        return _pushes([document])
    result = _plc_result(document)
    if result is not None:
        return CarrierResponse(histories=(_plc_json(result),))
    error = _json_error(document)
    if error is not None:
        return CarrierResponse(errors=(error,))
    raise PayloadError("neither a DPD ParcelLifeCycle answer, a push nor a DPD error")


def recognises(document: Document) -> bool:
    if isinstance(document, Element):
        return _soap_result(document) is not None
    if isinstance(document, list):
        return bool(document) and all(_is_push(item) for item in document)
    return isinstance(document, dict) and (_is_push(document) or _plc_result(document) is not None)


# --- Tracking Push


def _is_push(item: Any) -> bool:
    return isinstance(item, dict) and all(key in item for key in _PUSH_KEYS)


def _pushes(items: list[dict[str, Any]]) -> CarrierResponse:
    histories: dict[str, list[CarrierEvent]] = {}
    for item in items:
        number = text(item.get("pnr"))
        status = text(item.get("status"))
        moment = text(item.get("statusdate"))
        if number is None or moment is None:
            raise PayloadError("a DPD push without pnr or statusdate")
        histories.setdefault(number, []).append(
            CarrierEvent(
                occurred_at=parse_with(moment, "%d%m%Y%H%M%S", "%d%m%Y%H%M"),
                code=status,
                signer=text(item.get("receiver")) if status in _HANDED_OVER else None,
                return_to_sender=True if status == "error_return" else None,
            )
        )
    return CarrierResponse(
        histories=tuple(
            TrackingHistory(number, CARRIER, tuple(events)) for number, events in histories.items()
        )
    )


# --- ParcelLifeCycle, JSON


def _plc_result(document: dict[str, Any]) -> dict[str, Any] | None:
    for root in _PLC_ROOTS:
        body = document.get(root)
        if isinstance(body, dict):
            found = body.get("trackingResult") or body.get("trackingresult")
            found = found or body.get("parcelLifeCycleData")
            if isinstance(found, dict):
                return found
    return None


def _plc_json(result: dict[str, Any]) -> TrackingHistory:
    info = result.get("shipmentInfo") if isinstance(result.get("shipmentInfo"), dict) else {}
    number = text(info.get("parcelLabelNumber")) or text(info.get("parcelNumber"))
    if number is None:
        raise PayloadError("a DPD ParcelLifeCycle answer without shipmentInfo.parcelLabelNumber")
    events = []
    for status in objects(result.get("statusInfo")):
        if status.get("statusHasBeenReached") is False:
            continue
        moment = _content(status.get("date"))
        if moment is None:
            continue  # a milestone DPD did not date cannot become a scan
        problems = _words(status.get("errorItems"))
        events.append(
            _milestone(
                text(status.get("status")),
                moment,
                problems or _words(status.get("description")) or _content(status.get("label")),
                _content(status.get("location")),
                bool(problems),
            )
        )
    return TrackingHistory(number, CARRIER, tuple(events))


def _content(value: Any) -> str | None:
    """A ContentLine's text: ``{"content": "..."}`` (or the text itself)."""
    if isinstance(value, dict):
        return text(value.get("content"))
    return text(value)


def _words(value: Any) -> str | None:
    """The lines of ContentItems (``{"content": [..]}``, lists of them), joined."""
    lines: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        content = item.get("content") if isinstance(item, dict) else item
        for line in content if isinstance(content, list) else [content]:
            found = _content(line)
            if found:
                lines.append(found)
    return " ".join(lines) or None


def _milestone(
    status: str | None, moment: str, words: str | None, place: str | None, problem: bool
) -> CarrierEvent:
    keys = (f"{status}/{ERROR_KEY}", ERROR_KEY, status) if problem and status else ()
    return CarrierEvent(
        occurred_at=_display_time(moment),
        code=status,
        description=words,
        location=_place(place),
        mapping_keys=tuple(key for key in keys if key),
    )


def _display_time(value: str) -> datetime:
    if value[:4].isdigit() and value[4:5] == "-":
        return parse_iso(value)
    return parse_with(value, *_DISPLAY_TIMES)


def _place(value: str | None) -> Location | None:
    if value is None:
        return None
    match = _PLACE.match(value)
    if match is None:
        return Location(city=value)
    country = country_code(match["country"])
    return Location(city=match["city"] or None, country=country)


def _json_error(document: dict[str, Any]) -> CarrierError | None:
    for candidate in (document, document.get("fault"), document.get("error")):
        if isinstance(candidate, dict) and (
            "errorCode" in candidate or "errorMessage" in candidate
        ):
            return CarrierError(
                text(candidate.get("errorCode")), text(candidate.get("errorMessage")) or "error"
            )
    return None


# --- ParcelLifeCycle, SOAP


def _soap_result(document: Element) -> Element | None:
    response = document if document.tag == "getTrackingDataResponse" else None
    if response is None:
        response = document.find(".//getTrackingDataResponse")
    if response is None:
        fault = document.find(".//Fault")
        return fault if fault is not None and document.tag == "Envelope" else None
    return response


def _soap(document: Element) -> CarrierResponse:
    found = _soap_result(document)
    if found is None:
        raise PayloadError("not a DPD getTrackingDataResponse nor a SOAP fault")
    if found.tag == "Fault":
        return CarrierResponse(errors=(_soap_fault(found),))
    result = found.find(".//trackingresult")
    if result is None:
        result = found.find(".//trackingResult")
    if result is None:
        raise PayloadError("a DPD getTrackingDataResponse without trackingresult")
    number = xml_text(result, ".//shipmentInfo/parcelLabelNumber") or xml_text(
        result, ".//parcelLabelNumber"
    )
    if number is None:
        raise PayloadError("a DPD trackingresult without parcelLabelNumber")
    events = []
    for status in result.iter("statusInfo"):
        if (xml_text(status, "statusHasBeenReached") or "true").lower() == "false":
            continue
        moment = xml_text(status, "date/content")
        if moment is None:
            continue
        problems = _xml_lines(status, "errorItems")
        events.append(
            _milestone(
                xml_text(status, "status"),
                moment,
                problems or _xml_lines(status, "description") or xml_text(status, "label/content"),
                xml_text(status, "location/content"),
                bool(problems),
            )
        )
    return CarrierResponse(histories=(TrackingHistory(number, CARRIER, tuple(events)),))


def _xml_lines(status: Element, tag: str) -> str | None:
    lines = [
        found
        for item in status.findall(tag)
        for content in item.iter("content")
        if (found := text(content.text))
    ]
    return " ".join(lines) or None


def _soap_fault(fault: Element) -> CarrierError:
    code = xml_text(fault, ".//errorCode") or xml_text(fault, "faultcode")
    words = xml_text(fault, ".//errorMessage") or xml_text(fault, "faultstring") or "SOAP fault"
    return CarrierError(code, words)


FORMAT = SourceFormat(
    source=CarrierSource.DPD,
    kind="carrier",
    home_zone="Europe/Berlin",
    parse=parse,
    recognises=recognises,
)
