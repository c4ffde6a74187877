"""Royal Mail Tracking API V2 (REST, JSON): events, summary and signature answers, and errors.

Documentation: the Tracking API products on https://developer.royalmail.net (the Technical User
Guide is behind a login); field names as implemented by open-source clients of the documented API
(github.com/elliotjreed/royal-mail-tracking).

* ``GET /mailpieces/v2/{id}/events``: ``mailPieces`` is one object with ``summary``, optional
  ``signature`` and ``estimatedDelivery``, and ``events`` (newest first).
* ``GET /mailpieces/v2/summary?mailPieceId=a,b``: ``mailPieces`` is a list; each item has only the
  last event (``summary.lastEvent*``), or an ``error`` for an id Royal Mail could not answer.
* Errors of the whole call: ``httpCode``/``httpMessage``/``moreInformation`` and ``errors`` items
  with Royal Mail's ``errorCode`` (``E`` + 4 digits), ``errorDescription``, ``errorCause``.

Events carry a 5-letter code, Royal Mail's words, a time with an offset and an office name
(``locationName``, e.g. "Stafford DO") without postcode or country: it is kept as the city.
The summary's last event is read as an event too, so a summary and a later events answer give the
same scan id for it.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from parcelwatch.schemas.types import CarrierSource, Location, PickupPoint
from parcelwatch.streams.carriers.countries import country_code
from parcelwatch.streams.carriers.documents import Document, dig, objects, text
from parcelwatch.streams.carriers.model import (
    CarrierError,
    CarrierEvent,
    CarrierResponse,
    PayloadError,
    TrackingHistory,
)
from parcelwatch.streams.carriers.registry import SourceFormat
from parcelwatch.streams.carriers.times import parse_date, parse_iso

CARRIER = "royalmail"
_ERROR_CODE = re.compile(r"E\d{4}")
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Delivered to the addressee (or collected by them): the signer and the place words go there.
_DELIVERED = frozenset({"EVKOP", "EVKSP", "EVKSF", "EVKDN", "EVNOC", "EVPLC"})
# The parcel waits at (or was collected from) a collection point / Post Office named by the event.
_AT_PICKUP_POINT = frozenset({"EVKLC", "EVKLS", "EVPLA", "EVPLC", "EVNOC"})


def parse(document: Document) -> CarrierResponse:
    if not isinstance(document, dict):
        raise PayloadError("a Royal Mail Tracking API body is a JSON object")
    errors = _call_errors(document)
    pieces = document.get("mailPieces")
    if pieces is None:
        if errors:
            return CarrierResponse(errors=tuple(errors))
        raise PayloadError("neither Royal Mail mailPieces nor an error (httpCode, errors)")
    histories: list[TrackingHistory] = []
    for piece in objects(pieces):
        if isinstance(piece.get("error"), dict):
            number = text(dig(piece, "summary", "oneDBarcode")) or text(piece.get("mailPieceId"))
            errors.append(_error(piece["error"], number))
        else:
            histories.append(_history(piece))
    return CarrierResponse(histories=tuple(histories), errors=tuple(errors))


def recognises(document: Document) -> bool:
    if not isinstance(document, dict):
        return False
    pieces = document.get("mailPieces")
    if pieces is not None:
        items = pieces if isinstance(pieces, list) else [pieces]
        return all(isinstance(item, dict) and "mailPieceId" in item for item in items)
    errors = document.get("errors")
    return (
        "httpCode" in document
        and isinstance(errors, list)
        and bool(errors)
        and all(
            isinstance(item, dict) and _ERROR_CODE.fullmatch(str(item.get("errorCode", "")))
            for item in errors
        )
    )


def _history(piece: dict[str, Any]) -> TrackingHistory:
    summary = piece.get("summary") if isinstance(piece.get("summary"), dict) else {}
    number = (
        text(summary.get("oneDBarcode"))
        or text(dig(piece, "signature", "oneDBarcode"))
        or text(piece.get("mailPieceId"))
    )
    if number is None:
        raise PayloadError("a Royal Mail mailPiece without mailPieceId or oneDBarcode")
    signer = text(dig(piece, "signature", "recipientName")) or text(
        dig(piece, "proofOfDeliveryData", "recipientName")
    )
    raw_events = list(objects(piece.get("events")))
    if not raw_events and text(summary.get("lastEventCode")):
        raw_events = [_last_event(summary)]
    destination = country_code(text(summary.get("destinationCountryCode")))
    return TrackingHistory(
        tracking_number=number,
        carrier=CARRIER,
        events=tuple(_event(event, signer) for event in raw_events),
        estimated_delivery=_estimate(piece.get("estimatedDelivery")),
        destination=Location(country=destination) if destination else None,
    )


def _last_event(summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventCode": summary.get("lastEventCode"),
        "eventName": summary.get("lastEventName"),
        "eventDateTime": summary.get("lastEventDateTime"),
        "locationName": summary.get("lastEventLocationName"),
    }


def _event(event: dict[str, Any], signer: str | None) -> CarrierEvent:
    value = text(event.get("eventDateTime"))
    if value is None:
        raise PayloadError("a Royal Mail event without eventDateTime")
    code = text(event.get("eventCode"))
    name = text(event.get("eventName"))
    place = text(event.get("locationName"))
    delivered = code in _DELIVERED
    return CarrierEvent(
        occurred_at=parse_iso(value),
        code=code,
        description=name,
        location=Location(city=place) if place else None,
        signer=signer if delivered else None,
        delivery_location_text=name if delivered else None,
        pickup_point=PickupPoint(name=place) if place and code in _AT_PICKUP_POINT else None,
    )


def _estimate(estimate: Any) -> datetime | date | None:
    """The end of the estimated window when given (a time with offset, or a full date-time as
    some clients re-serialise it), else the day."""
    if not isinstance(estimate, dict):
        return None
    day_text = text(estimate.get("date"))
    end = text(estimate.get("endOfEstimatedWindow"))
    if end is not None:
        try:
            if _FULL_DATE.match(end):
                return parse_iso(end)
            if day_text is not None:
                return parse_iso(f"{parse_date(day_text).isoformat()}T{end}")
        except PayloadError:
            pass
    return parse_date(day_text) if day_text is not None else None


def _call_errors(document: dict[str, Any]) -> list[CarrierError]:
    errors = [_error(item, None) for item in objects(document.get("errors"))]
    status = text(document.get("httpCode"))
    if not errors and status is not None and not status.startswith("2"):
        words = [text(document.get("httpMessage")), text(document.get("moreInformation"))]
        message = ": ".join(word for word in words if word) or "no message"
        errors.append(CarrierError(status, message))
    return errors


def _error(error: dict[str, Any], number: str | None) -> CarrierError:
    description = text(error.get("errorDescription")) or "no message"
    cause = text(error.get("errorCause"))
    message = f"{description} ({cause})" if cause and cause != description else description
    return CarrierError(text(error.get("errorCode")), message, number)


FORMAT = SourceFormat(
    source=CarrierSource.ROYALMAIL,
    kind="carrier",
    home_zone="Europe/London",  # event times carry their offset; this is the fallback
    parse=parse,
    recognises=recognises,
)
