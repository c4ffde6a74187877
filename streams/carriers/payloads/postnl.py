"""PostNL Shipping Status API v2: CompleteStatus / CurrentStatus, the updated-shipments feed.

Documentation: the PostNL developer portal (https://developer.postnl.nl/, "Shipping Status"), its
OpenAPI spec and the official SDK (github.com/postnl/postnl-ecommerce-sdk-python).

The JSON is converted from XML, and the documented examples show it:

* ``Shipment`` and ``Event`` (and ``OldStatus``, ``Address``) are a list, or a single object
  when there is one; empty values are ``{}`` (or the string ``"{}"`` in the SDK's examples).
* ``detail=true`` gives ``CompleteStatus`` with ``Event``s; ``detail=false`` gives
  ``CurrentStatus`` with only the ``Status``: then the statuses become the scans.
* An unknown barcode is an HTTP 200 with an empty status and ``Warnings``; gateway errors are
  ``{"fault": {...}}`` or ``{"message", "http_status_code"}``.

Events carry PostNL depot numbers, never a place: their times (``08-11-2022 10:13:20``) are read
in the home zone, Europe/Amsterdam.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from parcelwatch.schemas.types import CarrierSource, Location
from parcelwatch.streams.carriers.documents import Document, as_list, dig, objects, text
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

CARRIER = "postnl"
_STATUS_ROOTS = ("CompleteStatus", "CurrentStatus")
_NOT_APPLICABLE = "99"
_RECEIVER = "01"
_TIME_FORMATS = ("%d-%m-%Y %H:%M:%S.%f", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%m/%d/%Y %H:%M:%S")


def parse(document: Document) -> CarrierResponse:
    if isinstance(document, list):
        return CarrierResponse(histories=tuple(map(_updated_shipment, objects(document))))
    if not isinstance(document, dict):
        raise PayloadError("a PostNL Shipping Status body is a JSON object or list")
    body = document.get("shippingstatusResponse", document)
    if isinstance(body, dict) and any(root in body for root in _STATUS_ROOTS):
        shipments = [
            shipment for root in _STATUS_ROOTS for shipment in objects(dig(body, root, "Shipment"))
        ]
        histories = tuple(map(_shipment, shipments))
        errors = () if histories else _warnings(body.get("Warnings"))
        return CarrierResponse(histories=histories, errors=errors)
    error = _gateway_error(document)
    if error is not None:
        return CarrierResponse(errors=(error,))
    raise PayloadError("neither a PostNL CompleteStatus/CurrentStatus, a status list nor an error")


def recognises(document: Document) -> bool:
    if isinstance(document, list):
        return bool(document) and all(
            isinstance(item, dict) and "Barcode" in item and isinstance(item.get("Status"), dict)
            for item in document
        )
    if not isinstance(document, dict):
        return False
    body = document.get("shippingstatusResponse", document)
    return isinstance(body, dict) and any(
        isinstance(body.get(root), dict) for root in _STATUS_ROOTS
    )


def _value(value: Any) -> str | None:
    """A field's text; PostNL writes missing values as ``{}`` or ``"{}"``."""
    found = text(value)
    return None if found == "{}" else found


def _shipment(shipment: dict[str, Any]) -> TrackingHistory:
    number = _value(shipment.get("Barcode"))
    if number is None:
        raise PayloadError("a PostNL Shipment without Barcode")
    events = [_event(event) for event in objects(shipment.get("Event"))]
    if not events:
        events = _status_events([shipment.get("Status"), *as_list(shipment.get("OldStatus"))])
    return TrackingHistory(
        tracking_number=number,
        carrier=CARRIER,
        events=tuple(events),
        estimated_delivery=_estimate(shipment),
        destination=_receiver(shipment.get("Address")),
    )


def _event(event: dict[str, Any]) -> CarrierEvent:
    code = _value(event.get("Code"))
    return CarrierEvent(
        occurred_at=_time(_value(event.get("TimeStamp"))),
        code=code,
        description=_value(event.get("Description")),
    )


def _status_events(statuses: list[Any]) -> list[CarrierEvent]:
    """Statuses as scans, when PostNL gave no events: each once, without the 99 rows."""
    events: dict[tuple[str, datetime], CarrierEvent] = {}
    for status in objects(statuses):
        code = _value(status.get("StatusCode"))
        if code is None or code == _NOT_APPLICABLE:
            continue
        moment = _time(_value(status.get("TimeStamp")) or _value(status.get("Timestamp")))
        events.setdefault(
            (code, moment),
            CarrierEvent(
                occurred_at=moment,
                code=f"status:{code}",
                description=_value(status.get("StatusDescription")),
            ),
        )
    return list(events.values())


def _updated_shipment(item: dict[str, Any]) -> TrackingHistory:
    number = _value(item.get("Barcode"))
    if number is None:
        raise PayloadError("a PostNL updated shipment without Barcode")
    return TrackingHistory(number, CARRIER, tuple(_status_events([item.get("Status")])))


def _time(value: str | None) -> datetime:
    if value is None:
        raise PayloadError("a PostNL event or status without TimeStamp")
    if value[:4].isdigit() and value[4:5] == "-":
        return parse_iso(value)
    return parse_with(value, *_TIME_FORMATS)


def _estimate(shipment: dict[str, Any]) -> datetime | date | None:
    window_end = _value(dig(shipment, "Expectation", "ETATo"))
    if window_end is not None:
        try:
            return _time(window_end)
        except PayloadError:
            pass
    day = _value(shipment.get("DeliveryDate"))
    if day is None:
        return None
    try:
        return parse_date(day, "%d-%m-%Y", "%m/%d/%Y")
    except PayloadError:
        return None  # an estimate PostNL wrote in a way we do not know is not worth a dead letter


def _receiver(addresses: Any) -> Location | None:
    for address in objects(addresses):
        if _value(address.get("AddressType")) == _RECEIVER:
            return location_of(
                _value(address.get("City")),
                _value(address.get("Region")),
                _value(address.get("Zipcode")),
                _value(address.get("CountryCode")),
            )
    return None


def _warnings(warnings: Any) -> tuple[CarrierError, ...]:
    items = list(objects(warnings))
    if len(items) == 1 and "Warning" in items[0]:
        items = list(objects(items[0]["Warning"]))
    errors = tuple(
        CarrierError(_value(item.get("Code")), _value(item.get("Message")) or "no message")
        for item in items
    )
    return errors or (CarrierError(None, "PostNL returned no shipment and no warning"),)


def _gateway_error(document: dict[str, Any]) -> CarrierError | None:
    fault = document.get("fault")
    if isinstance(fault, dict):
        return CarrierError(
            text(dig(fault, "detail", "errorcode")), text(fault.get("faultstring")) or "no message"
        )
    if "http_status_code" in document and "message" in document:
        return CarrierError(text(document["http_status_code"]), text(document["message"]) or "")
    return None


FORMAT = SourceFormat(
    source=CarrierSource.POSTNL,
    kind="carrier",
    home_zone="Europe/Amsterdam",
    parse=parse,
    recognises=recognises,
)
