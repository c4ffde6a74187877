"""UPS: a Track API response (``trackResponse``), an error body, or one Track Alert webhook event.

Documentation: the UPS Track API OpenAPI spec (github.com/UPS-API/api-documentation
``Tracking.yaml``), the Track Alert specs (``UPSTrackAlert.yaml``, ``UPSTrackAlertEnhanced.yaml``)
and UPS's sample app (github.com/UPS-API/java-api-examples ``track/readme.md``).

Codes: an activity has a status ``type`` (M, I, X, D, ...), a 2-character ``code`` and a 3-digit
``statusCode`` (Track Alert: ``descriptionCode``). The scan keeps ``"<type>/<code>"``; the table is
tried with the code, then the 3-digit code, then the words, and only then ``type:<type>`` (a
failed attempt or a return with an unlisted code says so in its words, not in its type). Type
``D`` is never tried on its own: UPS files out-for-delivery under it too.

Times: ``date``/``time`` (Track Alert: ``localActivityDate``/``Time``) are the local wall clock.
With ``gmtOffset`` the time is aware; else with the GMT date and time it is read as UTC; else it
stays naive and normalisation reads it in the location's zone.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from parcelwatch.schemas.types import CarrierSource, Location
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
from parcelwatch.streams.carriers.times import parse_with, utc_offset

CARRIER = "ups"
_DELIVERED_TYPE = "D"
# Estimated delivery: a rescheduled date wins over the scheduled one (deliveryDate[].type).
_ESTIMATE_TYPES = ("RDD", "SDD")
# deliveryTime types whose endTime is the end of the promised window (not the delivered time).
_WINDOW_TYPES = frozenset({"EDW", "CDW", "IDW", "CMT", "EOD"})
_UPS_ERROR_CODE = re.compile(r"(UJ|VSS)?\d{3,6}")


def parse(document: Document) -> CarrierResponse:
    if not isinstance(document, dict):
        raise PayloadError("a UPS body is a JSON object")
    errors = _errors(document)
    if errors is not None:
        return CarrierResponse(errors=errors)
    if isinstance(document.get("trackResponse"), dict):
        return _track_response(document["trackResponse"])
    if _is_alert(document):
        return CarrierResponse(histories=(_alert(document),))
    raise PayloadError("neither a UPS trackResponse, a Track Alert event nor a UPS error body")


def recognises(document: Document) -> bool:
    if not isinstance(document, dict):
        return False
    if isinstance(dig(document, "trackResponse", "shipment"), list):
        return True
    if _is_alert(document):
        return True
    errors = _errors(document)
    if errors is None:
        return False
    # A bare {"errors": [...]} is common to many APIs: claim it only with UPS-style codes.
    return "response" in document or all(_UPS_ERROR_CODE.fullmatch(e.code or "") for e in errors)


def _is_alert(document: dict[str, Any]) -> bool:
    return (
        "trackingNumber" in document
        and isinstance(document.get("activityStatus"), dict)
        and ("localActivityDate" in document or "gmtActivityDate" in document)
    )


def _errors(document: dict[str, Any]) -> tuple[CarrierError, ...] | None:
    """UPS's error body: ``{"response": {"errors": [...]}}``, or (older spec, Track Alert 401)
    ``{"errors": [...]}`` alone. None when the document is not one."""
    if set(document) == {"response"}:
        found = dig(document, "response", "errors")
    elif set(document) == {"errors"}:
        found = document["errors"]
    else:
        return None
    items = list(objects(found))
    if not items or not all("code" in item and "message" in item for item in items):
        return None
    return tuple(
        CarrierError(text(item.get("code")), text(item.get("message")) or "no message")
        for item in items
    )


# --- Track API


def _track_response(response: dict[str, Any]) -> CarrierResponse:
    histories: list[TrackingHistory] = []
    errors: list[CarrierError] = []
    for shipment in objects(response.get("shipment")):
        packages = list(objects(shipment.get("package")))
        histories.extend(_package(package, shipment) for package in packages)
        if not packages:
            # A number UPS could not answer comes back as a shipment with warnings only.
            number = text(shipment.get("inquiryNumber"))
            errors.extend(
                CarrierError(text(item.get("code")), text(item.get("message")) or "no text", number)
                for item in objects(shipment.get("warnings"))
            )
    return CarrierResponse(histories=tuple(histories), errors=tuple(errors))


def _package(package: dict[str, Any], shipment: dict[str, Any]) -> TrackingHistory:
    number = text(package.get("trackingNumber")) or text(shipment.get("inquiryNumber"))
    if number is None:
        raise PayloadError("a UPS package without trackingNumber")
    delivery = package.get("deliveryInformation")
    delivery = delivery if isinstance(delivery, dict) else {}
    events = [_activity(activity) for activity in objects(package.get("activity"))]
    # Activities come newest first; the signer and place belong to the newest delivery.
    delivered = next((i for i, event in enumerate(events) if _is_delivery(event)), None)
    if delivered is not None:
        events[delivered] = replace(
            events[delivered],
            signer=text(delivery.get("receivedBy")),
            delivery_location_text=text(delivery.get("location")),
        )
    return TrackingHistory(
        tracking_number=number,
        carrier=CARRIER,
        events=tuple(events),
        estimated_delivery=_estimate(package),
        destination=_destination(package),
    )


def _activity(activity: dict[str, Any]) -> CarrierEvent:
    status = activity.get("status")
    status = status if isinstance(status, dict) else {}
    location = _location(dig(activity, "location", "address"))
    moment = _moment(
        text(activity.get("date")),
        text(activity.get("time")),
        text(activity.get("gmtOffset")),
        text(activity.get("gmtDate")),
        text(activity.get("gmtTime")),
    )
    return _event(
        moment,
        text(status.get("type")),
        text(status.get("code")),
        text(status.get("statusCode")),
        text(status.get("description")) or text(status.get("simplifiedTextDescription")),
        location,
    )


def _estimate(package: dict[str, Any]) -> datetime | date | None:
    dates = {
        text(item.get("type")): text(item.get("date"))
        for item in objects(package.get("deliveryDate"))
    }
    found = next((dates[kind] for kind in _ESTIMATE_TYPES if dates.get(kind)), None)
    if found is None:
        return None
    day = parse_with(found, "%Y%m%d").date()
    window = package.get("deliveryTime")
    if isinstance(window, dict) and text(window.get("type")) in _WINDOW_TYPES:
        end = text(window.get("endTime"))
        if end is not None:
            return parse_with(f"{found} {end.zfill(6)}", "%Y%m%d %H%M%S")
    return day


def _destination(package: dict[str, Any]) -> Location | None:
    for item in objects(package.get("packageAddress")):
        if "DESTINATION" in (text(item.get("type")) or "").upper():
            return _location(item.get("address"))
    return None


# --- Track Alert webhook: one event per POST, no envelope


def _alert(event: dict[str, Any]) -> TrackingHistory:
    number = text(event.get("trackingNumber"))
    if number is None:
        raise PayloadError("a UPS Track Alert event without trackingNumber")
    status = event["activityStatus"]
    moment = _moment(
        text(event.get("localActivityDate")),
        text(event.get("localActivityTime")),
        text(event.get("gmtOffset")),
        text(event.get("gmtActivityDate")),
        text(event.get("gmtActivityTime")),
    )
    found = _event(
        moment,
        text(status.get("type")),
        text(status.get("code")),
        text(status.get("descriptionCode")),
        text(status.get("description")),
        _location(event.get("activityLocation")),
    )
    if _is_delivery(found):
        found = replace(found, signer=text(event.get("receivedBy")))
    scheduled = text(event.get("scheduledDeliveryDate"))
    return TrackingHistory(
        tracking_number=number,
        carrier=CARRIER,
        events=(found,),
        estimated_delivery=parse_with(scheduled, "%Y%m%d").date() if scheduled else None,
    )


# --- shared


def _event(
    moment: datetime,
    kind: str | None,
    code: str | None,
    status_code: str | None,
    description: str | None,
    location: Location | None,
) -> CarrierEvent:
    if status_code is not None and status_code.isdigit():
        status_code = status_code.zfill(3)  # Track Alert v2 may send 011 as the number 11
    keys = tuple(key for key in (code, status_code) if key)
    # The status type only after the words: they say more than "I" or "X" does.
    fallback = (f"type:{kind}",) if kind and kind != _DELIVERED_TYPE else ()
    own = "/".join(part for part in (kind, code) if part) or status_code
    return CarrierEvent(
        occurred_at=moment,
        code=own,
        description=description,
        location=location,
        mapping_keys=keys,
        fallback_keys=fallback,
        return_to_sender=True if kind == "RS" else None,
    )


def _is_delivery(event: CarrierEvent) -> bool:
    return (event.code or "").startswith(f"{_DELIVERED_TYPE}/") or "011" in event.mapping_keys


def _moment(
    local_date: str | None,
    local_time: str | None,
    offset: str | None,
    gmt_date: str | None,
    gmt_time: str | None,
) -> datetime:
    if local_date is None:
        if gmt_date is None:
            raise PayloadError("a UPS activity without a date")
        return _clock(gmt_date, gmt_time).replace(tzinfo=UTC)
    local = _clock(local_date, local_time)
    zone = utc_offset(offset)  # -05:00 (Track API) or -04.00 (Track Alert v2)
    if zone is not None:
        return local.replace(tzinfo=zone)
    if gmt_date is not None and gmt_time is not None:
        return _clock(gmt_date, gmt_time).replace(tzinfo=UTC)
    return local


def _clock(day: str, clock: str | None) -> datetime:
    # YYYYMMDD and HHMMSS, but UPS drops the leading zero of times (the spec's own gmtTime
    # example is '74700'), and separators are accepted too ("2024-04-23", "13:50:04").
    digits = "".join(char for char in clock or "0" if char.isdigit())
    day = "".join(char for char in day if char.isdigit())
    return parse_with(f"{day} {digits.zfill(6)}", "%Y%m%d %H%M%S")


def _location(value: Any) -> Location | None:
    if not isinstance(value, dict):
        return None
    return location_of(
        value.get("city"),
        value.get("stateProvince"),
        value.get("postalCode"),
        text(value.get("countryCode")) or text(value.get("country")),
    )


FORMAT = SourceFormat(
    source=CarrierSource.UPS,
    kind="carrier",
    home_zone="America/New_York",
    parse=parse,
    recognises=recognises,
)
