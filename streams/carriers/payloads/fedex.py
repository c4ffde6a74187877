"""FedEx: a Track API ``trackingnumbers`` response, an AIV webhook push, or an error body.

Documentation: the FedEx "Basic Integrated Visibility" OpenAPI spec (TrackingNumbers-Resource.json,
https://developer.fedex.com/api/en-us/catalog/track.html), the FedEx API reference guide's
"Tracking Status Codes" and "Status Code and Statuses for Webhook Tracking Events" tables
(https://developer.fedex.com/api/en-us/guides/api-reference.html) and the AIV test-webhook schema.

A response holds ``output.completeTrackResults[]`` (one per requested number), each with
``trackResults[]`` (one per package; several for a duplicate number); a package FedEx could not
answer carries ``error`` inside the 200. An AIV webhook push has the same ``output`` plus
``outputMetaData``; a few codes mean something else there (DY "Delivery updated", AR "Arrived at
Port of Entry", TR "Enroute to delivery"...), so webhook events try ``webhook:<code>`` first.

Codes: ``eventType``; with an ``exceptionCode`` the scan keeps ``"<eventType>/<exceptionCode>"``
and the table is tried with that pair first (DE/007 is a failed attempt, DE/03 an address
problem). Times: ``scanEvents[].date`` carries the local offset.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from parcelwatch.schemas.types import CarrierSource, DeliveryLocationKind, Location, PickupPoint
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
from parcelwatch.streams.carriers.times import parse_iso

CARRIER = "fedex"
_DELIVERED = "DL"
_HELD = frozenset({"HL", "HP"})
_ESTIMATES = ("ESTIMATED_DELIVERY", "APPOINTMENT_DELIVERY", "COMMITMENT")
# deliveryDetails.locationType (the spec's enum) → where the parcel was left.
_PLACES = {
    "RECEPTIONIST_OR_FRONT_DESK": DeliveryLocationKind.RECEPTION,
    "SHIPPING_RECEIVING": DeliveryLocationKind.RECEPTION,
    "MAILROOM": DeliveryLocationKind.RECEPTION,
    "GUARD_OR_SECURITY_STATION": DeliveryLocationKind.RECEPTION,
    "GATE_HOUSE": DeliveryLocationKind.RECEPTION,
    "MANAGER_OFFICE": DeliveryLocationKind.RECEPTION,
    "MAIN_OFFICE": DeliveryLocationKind.RECEPTION,
    "LEASING_OFFICE": DeliveryLocationKind.RECEPTION,
    "RENTAL_OFFICE": DeliveryLocationKind.RECEPTION,
    "APARTMENT_OFFICE": DeliveryLocationKind.RECEPTION,
    "FEDEX_LOCATION": DeliveryLocationKind.PICKUP_POINT,
}


def parse(document: Document) -> CarrierResponse:
    if not isinstance(document, dict):
        raise PayloadError("a FedEx body is a JSON object")
    results = dig(document, "output", "completeTrackResults")
    if isinstance(results, list):
        webhook = "outputMetaData" in document
        return _results(results, webhook)
    if isinstance(document.get("errors"), list):
        return CarrierResponse(errors=tuple(_error(item) for item in objects(document["errors"])))
    raise PayloadError("neither a FedEx track response (output.completeTrackResults) nor errors")


def recognises(document: Document) -> bool:
    if not isinstance(document, dict):
        return False
    if isinstance(dig(document, "output", "completeTrackResults"), list):
        return True
    return "transactionId" in document and isinstance(document.get("errors"), list)


def _results(results: list[Any], webhook: bool) -> CarrierResponse:
    histories: list[TrackingHistory] = []
    errors: list[CarrierError] = []
    for complete in objects(results):
        requested = text(complete.get("trackingNumber"))
        for result in objects(complete.get("trackResults")):
            number = text(dig(result, "trackingNumberInfo", "trackingNumber")) or requested
            if isinstance(result.get("error"), dict):
                errors.append(_error(result["error"], number))
                continue
            if number is None:
                raise PayloadError("a FedEx trackResult without trackingNumberInfo.trackingNumber")
            histories.append(_history(number, result, webhook))
    return CarrierResponse(histories=tuple(histories), errors=tuple(errors))


def _history(number: str, result: dict[str, Any], webhook: bool) -> TrackingHistory:
    details = result.get("deliveryDetails")
    details = details if isinstance(details, dict) else {}
    signer = text(details.get("signedByName")) or text(details.get("receivedByName"))
    place_kind = _PLACES.get(text(details.get("locationType")) or "")
    place_text = text(details.get("locationDescription"))
    pickup = _pickup_point(result.get("holdAtLocation"))
    events = []
    for scan in objects(result.get("scanEvents")):
        event = _event(scan, webhook)
        code = text(scan.get("eventType"))
        if code == _DELIVERED:
            event = replace(
                event,
                signer=signer,
                delivery_location=place_kind,
                delivery_location_text=place_text,
            )
        elif code in _HELD and pickup is not None:
            event = replace(event, pickup_point=pickup)
        events.append(event)
    return TrackingHistory(
        tracking_number=number,
        carrier=CARRIER,
        events=tuple(events),
        estimated_delivery=_estimate(result),
        destination=_destination(result),
    )


def _event(scan: dict[str, Any], webhook: bool) -> CarrierEvent:
    moment = text(scan.get("date"))
    if moment is None:
        raise PayloadError("a FedEx scanEvent without date")
    code = text(scan.get("eventType"))
    derived = text(scan.get("derivedStatusCode"))
    exception = text(scan.get("exceptionCode"))
    keys: list[str] = []
    if code and exception:
        keys.extend(f"{code}/{variant}" for variant in _zero_variants(exception))
    if code:
        if webhook:
            keys.append(f"webhook:{code}")
        keys.append(code)
    if derived and derived != code:
        keys.append(derived)
    words = [text(scan.get("eventDescription")), text(scan.get("exceptionDescription"))]
    description = ": ".join(dict.fromkeys(word for word in words if word)) or text(
        scan.get("derivedStatus")
    )
    return CarrierEvent(
        occurred_at=parse_iso(moment),
        code=f"{code}/{exception}" if code and exception else code or derived,
        description=description,
        location=_location(scan.get("scanLocation")),
        mapping_keys=tuple(dict.fromkeys(keys)),
    )


def _zero_variants(code: str) -> list[str]:
    """FedEx writes exception codes with and without leading zeros ("07", "007")."""
    if not code.isdigit():
        return [code]
    return list(dict.fromkeys((code, code.lstrip("0") or "0", code.zfill(2), code.zfill(3))))


def _estimate(result: dict[str, Any]) -> datetime | date | None:
    """The end of the estimated window, else the estimated (appointment, commitment) day."""
    moments = {
        text(item.get("type")): text(item.get("dateTime"))
        for item in objects(result.get("dateAndTimes"))
    }
    window_end = text(dig(result, "estimatedDeliveryTimeWindow", "window", "ends"))
    found = window_end or next((moments[kind] for kind in _ESTIMATES if moments.get(kind)), None)
    if found is None:
        return None
    moment = parse_iso(found)
    # "Format: YYYY-MM-DD" in the spec, written as midnight: a day, not a time.
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return moment.date()
    return moment


def _destination(result: dict[str, Any]) -> Location | None:
    address = dig(result, "destinationLocation", "locationContactAndAddress", "address")
    return _location(address) or _location(dig(result, "recipientInformation", "address"))


def _pickup_point(value: Any) -> PickupPoint | None:
    if not isinstance(value, dict):
        return None
    contact = dig(value, "locationContactAndAddress", "contact")
    name = text(dig(contact, "companyName")) if isinstance(contact, dict) else None
    point = PickupPoint(
        id=text(value.get("locationId")),
        name=name,
        location=_location(dig(value, "locationContactAndAddress", "address")),
    )
    return None if point == PickupPoint() else point


def _location(value: Any) -> Location | None:
    if not isinstance(value, dict):
        return None
    return location_of(
        value.get("city"),
        value.get("stateOrProvinceCode"),
        value.get("postalCode"),
        text(value.get("countryCode")) or text(value.get("countryName")),
    )


def _error(error: dict[str, Any], number: str | None = None) -> CarrierError:
    return CarrierError(text(error.get("code")), text(error.get("message")) or "no message", number)


FORMAT = SourceFormat(
    source=CarrierSource.FEDEX,
    kind="carrier",
    home_zone="America/Chicago",
    parse=parse,
    recognises=recognises,
)
