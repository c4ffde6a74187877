"""La Poste "Suivi v2" (Okapi gateway): Courrier, Colissimo and Chronopost tracking.

Documentation: La Poste's OpenAPI "Swagger SUIVI" (https://api.laposte.fr/suivi/v2), catalogued
on https://developer.laposte.fr/catalog-apis/suivi@2; mirrored in
github.com/api-evangelist/la-poste-groupe.

``GET /idships/{id1,...,id10}`` answers an array of unitary responses (``returnCode``, ``shipment``;
a 207 when several ids were asked, each item with its own ``returnCode``), and in practice a single
object when one id was asked: both are read. An item without ``shipment`` and with a ``returnCode``
other than 200 is La Poste's error for that id (104: not available yet; 400: invalid number).

Events (``shipment.event``, newest first) carry a 3-character code, a localised label and a time
with an offset; they have no location (the laposte.fr web back-end adds ``country`` and a 6-letter
Colissimo ``group``, both read when present). The pickup point is ``contextData.removalPoint``.
"""

from __future__ import annotations

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
from parcelwatch.streams.carriers.times import parse_iso

CARRIER = "laposte"
_OK_CODES = frozenset({"200", "201", "207"})
# Codes after which the parcel waits at the removal point (Suivi v2 and Colissimo codes).
_AT_PICKUP_POINT = frozenset({"AG1", "RENAVI", "MLVARS", "RSTBRT", "DEPGUI"})
_DELIVERED = frozenset({"DI0", "DI1", "LIVCFM", "LIVGAR", "LIVRTI"})
_FINAL_STEP = 5  # timeline step "livré": its date is the planned delivery while not final


def parse(document: Document) -> CarrierResponse:
    if isinstance(document, dict) and _is_gateway_error(document):
        return CarrierResponse(errors=(CarrierError(text(document["code"]), _words(document)),))
    items = document if isinstance(document, list) else [document]
    if not items or not all(_is_item(item) for item in items):
        raise PayloadError("not a La Poste Suivi v2 response (returnCode/shipment items)")
    histories: list[TrackingHistory] = []
    errors: list[CarrierError] = []
    for item in items:
        shipment = item.get("shipment")
        if isinstance(shipment, dict):
            histories.append(_history(shipment))
        else:
            errors.append(_error(item))
    return CarrierResponse(histories=tuple(histories), errors=tuple(errors))


def recognises(document: Document) -> bool:
    items = document if isinstance(document, list) else [document]
    return bool(items) and all(_looks_unitary(item) for item in items)


def _is_item(item: Any) -> bool:
    """A unitary response: a shipment, or La Poste's answer for an id it could not track."""
    if not isinstance(item, dict):
        return False
    return isinstance(item.get("shipment"), dict) or "returnCode" in item


def _looks_unitary(item: Any) -> bool:
    """Stricter, for recognition: fields only La Poste's answers have together."""
    if not isinstance(item, dict):
        return False
    shipment = item.get("shipment")
    if isinstance(shipment, dict):
        return "idShip" in shipment and ("event" in shipment or "timeline" in shipment)
    return "returnCode" in item and ("returnMessage" in item or "idShip" in item)


def _is_gateway_error(document: dict[str, Any]) -> bool:
    """The Okapi gateway's own refusal (bad key, quota); the spec shows no body for it, so it is
    read when it has a ``code`` and a ``message``."""
    return (
        "shipment" not in document
        and "returnCode" not in document
        and bool(text(document.get("code")))
        and bool(text(document.get("message")) or text(document.get("description")))
    )


def _words(document: dict[str, Any]) -> str:
    return text(document.get("message")) or text(document.get("description")) or "no message"


def _history(shipment: dict[str, Any]) -> TrackingHistory:
    number = text(shipment.get("idShip"))
    if number is None:
        raise PayloadError("a La Poste shipment without idShip")
    context = shipment.get("contextData")
    pickup = _pickup_point(dig(context, "removalPoint"))
    events = tuple(_event(event, pickup) for event in objects(shipment.get("event")))
    arrival = country_code(text(dig(context, "arrivalCountry")))
    return TrackingHistory(
        tracking_number=number,
        carrier=CARRIER,
        events=events,
        estimated_delivery=_estimate(shipment),
        destination=Location(country=arrival) if arrival else None,
    )


def _event(event: dict[str, Any], pickup: PickupPoint | None) -> CarrierEvent:
    value = text(event.get("date"))
    if value is None:
        raise PayloadError("a La Poste event without date")
    code = text(event.get("code"))
    group = text(event.get("group"))  # web back-end only: the Colissimo 6-letter code
    label = text(event.get("label"))
    country = country_code(text(event.get("country")))
    keys = tuple(key for key in (group, code) if key)  # the Colissimo code is the finer one
    codes = set(keys)
    return CarrierEvent(
        occurred_at=parse_iso(value),
        code="/".join(keys[::-1]) or None,
        description=label,
        location=Location(country=country) if country else None,
        mapping_keys=keys,
        pickup_point=pickup if codes & _AT_PICKUP_POINT else None,
        delivery_location_text=label if codes & _DELIVERED else None,
    )


def _pickup_point(point: Any) -> PickupPoint | None:
    if not isinstance(point, dict):
        return None
    name = text(point.get("name"))
    return PickupPoint(id=text(point.get("id")), name=name) if name else None


def _estimate(shipment: dict[str, Any]) -> datetime | date | None:
    estimate = text(shipment.get("estimDate"))
    if estimate is not None:
        return parse_iso(estimate)
    if shipment.get("isFinal") is True:
        return None
    for step in objects(shipment.get("timeline")):
        if step.get("id") == _FINAL_STEP and (when := text(step.get("date"))):
            return parse_iso(when)
    return None


def _error(item: dict[str, Any]) -> CarrierError:
    code = text(item.get("returnCode"))
    message = text(item.get("returnMessage")) or "no message"
    if code in _OK_CODES:
        message = f"answer without shipment: {message}"
    return CarrierError(code, message, text(item.get("idShip")))


FORMAT = SourceFormat(
    source=CarrierSource.LAPOSTE,
    kind="carrier",
    home_zone="Europe/Paris",  # every documented time has an offset; this is the fallback
    parse=parse,
    recognises=recognises,
)
