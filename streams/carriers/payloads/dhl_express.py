"""DHL Express: the MyDHL API tracking response, and DHL's Shipment Tracking - Unified API.

Both answer ``{"shipments": [...]}``:

* MyDHL API (``GET /shipments/{number}/tracking``, ``GET /tracking``; spec "DHL Express APIs
  (MyDHL API)"): a shipment has ``shipmentTrackingNumber`` and ``events[]`` of ``{date, time,
  GMTOffset?, typeCode, description, serviceArea: [{code, description: "Brisbane-AU"}],
  signedBy}``; with ``levelOfDetail=piece|all`` its ``pieces[]`` carry their own events (each piece
  is its own history, under its licence plate number). Times are local to the service area unless
  ``requestGMTOffsetPerEvent`` added ``GMTOffset``.
* Unified API (``GET https://api-eu.dhl.com/track/shipments``): a shipment has ``id``,
  ``service`` (``express``, ``parcel-de``, ``ecommerce``...), ``events[]`` of ``{timestamp,
  location: {address: {addressLocality, postalCode, countryCode}}, statusCode, status,
  description}`` and ``returnFlag`` for a shipment going back to its sender. Its only code is the
  five-valued ``statusCode``, which the words refine (see ``mapping/dhl_express.json``).

Errors of both are RFC 7807 problems: ``{title, status, detail, instance}`` (MyDHL adds
``message`` and writes ``status`` as a string).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from parcelwatch.schemas.types import CarrierSource, Location
from parcelwatch.streams.carriers.carrier_names import carrier_id
from parcelwatch.streams.carriers.countries import country_code
from parcelwatch.streams.carriers.documents import Document, dig, objects, text
from parcelwatch.streams.carriers.locations import location_of
from parcelwatch.streams.carriers.model import (
    CarrierError,
    CarrierEvent,
    CarrierResponse,
    PayloadError,
    TrackingHistory,
)
from parcelwatch.streams.carriers.registry import SourceFormat
from parcelwatch.streams.carriers.times import parse_iso, utc_offset
from parcelwatch.streams.carriers.timezones import is_us_state

CARRIER = "dhl_express"
_DELIVERED = ("OK", "DD")  # MyDHL checkpoints that hand the parcel over (signedBy belongs here)
# Unified statusCodes the words may refine: they are tried after the table's texts.
_COARSE = frozenset({"transit", "failure", "unknown"})
_UNIFIED_SERVICES = {"express": "dhl_express", "parcel-de": "dhl_parcel_de"}
_MYDHL_PATHS = ("/expressapi/", "/mydhlapi/")


def parse(document: Document) -> CarrierResponse:
    if not isinstance(document, dict):
        raise PayloadError("a DHL tracking body is a JSON object")
    shipments = document.get("shipments")
    if isinstance(shipments, list):
        histories: list[TrackingHistory] = []
        for shipment in objects(shipments):
            if "shipmentTrackingNumber" in shipment:
                histories.extend(_mydhl_shipment(shipment))
            elif "id" in shipment:
                histories.append(_unified_shipment(shipment))
            else:
                raise PayloadError("a DHL shipment without shipmentTrackingNumber or id")
        return CarrierResponse(histories=tuple(histories))
    if "status" in document and ("title" in document or "detail" in document):
        return CarrierResponse(errors=(_problem(document),))
    raise PayloadError("neither a DHL shipments list nor a DHL problem+json error")


def recognises(document: Document) -> bool:
    if not isinstance(document, dict):
        return False
    instance = text(document.get("instance")) or ""
    if instance.startswith(_MYDHL_PATHS) and "status" in document:
        return True  # a MyDHL error names the MyDHL path it answers
    if not isinstance(document.get("shipments"), list):
        return False
    shipments = document["shipments"]
    return bool(shipments) and all(
        isinstance(shipment, dict)
        and (
            "shipmentTrackingNumber" in shipment
            or ("id" in shipment and ("events" in shipment or "status" in shipment))
        )
        for shipment in shipments
    )


# --- MyDHL API


def _mydhl_shipment(shipment: dict[str, Any]) -> list[TrackingHistory]:
    number = text(shipment.get("shipmentTrackingNumber"))
    if number is None:
        raise PayloadError("a MyDHL shipment without shipmentTrackingNumber")
    estimate = _estimate(text(shipment.get("estimatedDeliveryDate")))
    destination = _postal_address(dig(shipment, "receiverDetails", "postalAddress"))
    histories = [
        TrackingHistory(
            tracking_number=number,
            carrier=CARRIER,
            events=tuple(map(_mydhl_event, objects(shipment.get("events")))),
            estimated_delivery=estimate,
            destination=destination,
        )
    ]
    for piece in objects(shipment.get("pieces")):
        piece_number = text(piece.get("trackingNumber"))
        piece_events = tuple(map(_mydhl_event, objects(piece.get("events"))))
        if piece_number is not None and piece_number != number and piece_events:
            histories.append(
                TrackingHistory(piece_number, CARRIER, piece_events, estimate, destination)
            )
    return histories


def _mydhl_event(event: dict[str, Any]) -> CarrierEvent:
    day, clock = text(event.get("date")), text(event.get("time"))
    if day is None:
        raise PayloadError("a MyDHL event without date")
    moment = parse_iso(f"{day}T{clock}" if clock else day)
    zone = utc_offset(text(event.get("GMTOffset")))
    if zone is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    code = text(event.get("typeCode"))
    area = next(objects(event.get("serviceArea")), {})
    return CarrierEvent(
        occurred_at=moment,
        code=code,
        description=text(event.get("description")),
        location=_service_area(text(area.get("description"))),
        signer=text(event.get("signedBy")) if code in _DELIVERED else None,
        return_to_sender=True if code == "RT" else None,
    )


def _service_area(words: str | None) -> Location | None:
    """DHL service areas read "City-CC" ("Brisbane-AU", "Cincinnati Hub-OH-US")."""
    if words is None:
        return None
    parts = [part.strip() for part in words.split("-") if part.strip()]
    country = country_code(parts[-1]) if len(parts) > 1 else None
    if country is None:
        return Location(city=words)
    parts = parts[:-1]
    region = None
    if len(parts) > 1 and country == "US" and is_us_state(parts[-1]):
        region = parts.pop()
    return Location(city="-".join(parts) or None, region=region, country=country)


def _postal_address(address: Any) -> Location | None:
    if not isinstance(address, dict):
        return None
    return location_of(
        address.get("cityName"),
        address.get("provinceCode"),
        address.get("postalCode"),
        address.get("countryCode"),
    )


# --- Unified Shipment Tracking API


def _unified_shipment(shipment: dict[str, Any]) -> TrackingHistory:
    number = text(shipment.get("id"))
    if number is None:
        raise PayloadError("a DHL unified shipment without id")
    returning = shipment.get("returnFlag") is True
    signer = text(dig(shipment, "details", "proofOfDelivery", "signed", "name"))
    events = [_unified_event(event, returning, signer) for event in objects(shipment.get("events"))]
    if not events and isinstance(shipment.get("status"), dict):
        events.append(_unified_event(shipment["status"], returning, signer))
    service = text(shipment.get("service"))
    return TrackingHistory(
        tracking_number=number,
        carrier=_UNIFIED_SERVICES.get(service or "express") or carrier_id(f"dhl {service}"),
        events=tuple(events),
        estimated_delivery=_estimate(
            text(shipment.get("estimatedTimeOfDelivery"))
            or text(dig(shipment, "estimatedDeliveryTimeFrame", "estimatedThrough"))
        ),
        destination=_address(dig(shipment, "destination", "address")),
    )


def _unified_event(event: dict[str, Any], returning: bool, signer: str | None) -> CarrierEvent:
    moment = text(event.get("timestamp"))
    if moment is None:
        raise PayloadError("a DHL unified event without timestamp")
    status = text(event.get("statusCode")) or "unknown"
    words = text(event.get("description")) or text(event.get("status"))
    delivered = status == "delivered"
    keys = ("delivered/return", status) if delivered and returning else (status,)
    return CarrierEvent(
        occurred_at=parse_iso(moment),
        code=status,
        description=words,
        location=_address(dig(event, "location", "address")),
        signer=signer if delivered else None,
        return_to_sender=True if delivered and returning else None,
        mapping_keys=() if status in _COARSE else keys,
        fallback_keys=(status,) if status in _COARSE else (),
    )


def _address(address: Any) -> Location | None:
    if not isinstance(address, dict):
        return None
    country = country_code(text(address.get("countryCode")))
    locality = text(address.get("addressLocality"))
    # DHL writes the country's name where it has no town ("Germany").
    if locality is not None and country_code(locality) is not None and len(locality) > 3:
        country, locality = country or country_code(locality), None
    return location_of(locality, None, address.get("postalCode"), country)


def _estimate(value: str | None) -> datetime | date | None:
    if value is None:
        return None
    moment = parse_iso(value)
    return moment.date() if len(value.strip()) == 10 else moment


def _problem(document: dict[str, Any]) -> CarrierError:
    title = text(document.get("title")) or text(document.get("message")) or "error"
    detail = text(document.get("detail"))
    message = f"{title}: {detail}" if detail and detail != title else title
    extra = [text(item) for item in document.get("additionalDetails") or []]
    if any(extra):
        message += " (" + "; ".join(item for item in extra if item) + ")"
    return CarrierError(text(document.get("status")), message)


FORMAT = SourceFormat(
    source=CarrierSource.DHL_EXPRESS,
    kind="carrier",
    home_zone="Europe/Berlin",
    parse=parse,
    recognises=recognises,
)
