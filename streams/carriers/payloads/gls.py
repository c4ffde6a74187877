"""GLS Track And Trace V1: ``{"parcels": [...]}`` (one entry per requested parcel), or an error.

Documentation: the GLS OpenAPI spec "Track And Trace V1" 1.0.7 (developer portal
https://dev-portal.gls-group.net/, vendored unchanged at github.com/karrioapi/karrio@a4b48c99:
modules/connectors/gls/vendor/ecitrackandtrace.yaml).

* A parcel the API could not answer carries ``errorCode``/``errorMessage`` next to ``requested``
  inside an HTTP 200 body, beside the parcels it could answer.
* Events are ``{code, description, eventDateTime, city, postalCode, country}``; the code is
  ``CATEGORY.SUBTYPE`` (``DELIVD.PARCELSHOP``) and times carry an offset (``+0200``). Empty
  strings stand for missing places.
* With ``showEvents=false`` a parcel has only its ``status``/``statusDateTime``: that becomes one
  event with the status as its code.
* HTTP errors come as RFC 7807 problems (``type``/``title``/``status``/``detail``) or as the API
  gateway's ``{"fault": {"faultstring", "detail": {"errorcode"}}}``.
"""

from __future__ import annotations

from typing import Any

from parcelwatch.schemas.types import CarrierSource
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

CARRIER = "gls"
_PARCEL_FIELDS = ("events", "status", "statusDateTime", "errorCode")


def parse(document: Document) -> CarrierResponse:
    if not isinstance(document, dict):
        raise PayloadError("a GLS Track And Trace body is a JSON object")
    if isinstance(document.get("parcels"), list):
        histories: list[TrackingHistory] = []
        errors: list[CarrierError] = []
        for parcel in objects(document["parcels"]):
            if text(parcel.get("errorCode")) is not None:
                errors.append(_parcel_error(parcel))
            else:
                histories.append(_parcel(parcel))
        return CarrierResponse(histories=tuple(histories), errors=tuple(errors))
    problem = _problem(document)
    if problem is not None:
        return CarrierResponse(errors=(problem,))
    raise PayloadError("neither a GLS parcels list nor a GLS error body")


def recognises(document: Document) -> bool:
    if not isinstance(document, dict) or not isinstance(document.get("parcels"), list):
        return False
    parcels = document["parcels"]
    return bool(parcels) and all(
        isinstance(parcel, dict)
        and ("requested" in parcel or "unitno" in parcel)
        and any(key in parcel for key in _PARCEL_FIELDS)
        for parcel in parcels
    )


def _parcel(parcel: dict[str, Any]) -> TrackingHistory:
    number = text(parcel.get("unitno")) or text(parcel.get("requested"))
    if number is None:
        raise PayloadError("a GLS parcel without unitno or requested")
    events = [_event(event) for event in objects(parcel.get("events"))]
    status = text(parcel.get("status"))
    moment = text(parcel.get("statusDateTime"))
    if not events and status is not None and moment is not None:
        # showEvents=false: the parcel's status is all there is.
        events.append(CarrierEvent(occurred_at=parse_iso(moment), code=status))
    return TrackingHistory(tracking_number=number, carrier=CARRIER, events=tuple(events))


def _event(event: dict[str, Any]) -> CarrierEvent:
    moment = text(event.get("eventDateTime"))
    if moment is None:
        raise PayloadError("a GLS event without eventDateTime")
    code = text(event.get("code"))
    # The category (DELIVD, INBOUD, ...) stands in for subtypes the table does not list.
    category = code.split(".", 1)[0] if code and "." in code else None
    location = location_of(event.get("city"), None, event.get("postalCode"), event.get("country"))
    return CarrierEvent(
        occurred_at=parse_iso(moment),
        code=code,
        description=text(event.get("description")),
        location=location,
        mapping_keys=tuple(key for key in (code, category) if key),
    )


def _parcel_error(parcel: dict[str, Any]) -> CarrierError:
    return CarrierError(
        text(parcel.get("errorCode")),
        text(parcel.get("errorMessage")) or "no message",
        text(parcel.get("requested")) or text(parcel.get("unitno")),
    )


def _problem(document: dict[str, Any]) -> CarrierError | None:
    fault = document.get("fault")
    if isinstance(fault, dict):
        return CarrierError(
            text(dig(fault, "detail", "errorcode")), text(fault.get("faultstring")) or "no message"
        )
    if "title" in document and "status" in document:
        title = text(document.get("title")) or "error"
        detail = text(document.get("detail"))
        message = f"{title}: {detail}" if detail else title
        return CarrierError(text(document.get("status")), message)
    return None


FORMAT = SourceFormat(
    source=CarrierSource.GLS,
    kind="carrier",
    home_zone="Europe/Berlin",  # times carry offsets; the home zone is only a last resort
    parse=parse,
    recognises=recognises,
)
