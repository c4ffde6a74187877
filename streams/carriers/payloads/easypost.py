"""EasyPost: a Tracker (API response), a list of them, or a webhook Event wrapping one.

Documentation: https://docs.easypost.com/docs/trackers, https://docs.easypost.com/docs/webhooks,
https://docs.easypost.com/docs/errors; example bodies in github.com/EasyPost/examples.

Event times: EasyPost "assigns the appropriate local time zone to the event's datetime when enough
location information is present; when location information is incomplete, timestamps default to
UTC" (Trackers reference) — yet every published example writes a ``Z``, a Houston scan included.
So a ``Z`` time of an event with a location is read as the location's wall-clock time, and one
without a location as UTC; a time with a real offset is taken as written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from parcelwatch.schemas.types import CarrierSource, Location
from parcelwatch.streams.carriers.carrier_names import carrier_id
from parcelwatch.streams.carriers.documents import Document, dig, objects, text
from parcelwatch.streams.carriers.locations import assume_us, location_of
from parcelwatch.streams.carriers.model import (
    CarrierError,
    CarrierEvent,
    CarrierResponse,
    PayloadError,
    TrackingHistory,
)
from parcelwatch.streams.carriers.registry import SourceFormat
from parcelwatch.streams.carriers.times import parse_date, parse_iso

_DELIVERED = "delivered"


def parse(document: Document) -> CarrierResponse:
    if not isinstance(document, dict):
        raise PayloadError("an EasyPost body is a JSON object")
    if isinstance(document.get("error"), dict):
        return CarrierResponse(errors=(_error(document["error"]),))
    kind = document.get("object")
    if kind == "Event":
        result = document.get("result")
        # Other events (batch.*, shipment.*, ...) carry no tracking: nothing to normalise.
        if isinstance(result, dict) and result.get("object") == "Tracker":
            return CarrierResponse(histories=(_tracker(result),))
        return CarrierResponse()
    if kind == "Tracker":
        return CarrierResponse(histories=(_tracker(document),))
    if isinstance(document.get("trackers"), list):
        return CarrierResponse(histories=tuple(map(_tracker, objects(document["trackers"]))))
    raise PayloadError("neither an EasyPost Tracker, a list of Trackers, an Event nor an error")


def recognises(document: Document) -> bool:
    if not isinstance(document, dict):
        return False
    if document.get("object") == "Tracker":
        return True
    if document.get("object") == "Event":
        return isinstance(document.get("result"), dict) and "description" in document
    trackers = document.get("trackers")
    return isinstance(trackers, list) and all(
        isinstance(item, dict) and item.get("object") == "Tracker" for item in trackers
    )


def _tracker(tracker: dict[str, Any]) -> TrackingHistory:
    number = text(tracker.get("tracking_code"))
    if number is None:
        raise PayloadError("an EasyPost Tracker without tracking_code")
    signer = text(tracker.get("signed_by"))
    events = tuple(_event(detail, signer) for detail in objects(tracker.get("tracking_details")))
    return TrackingHistory(
        tracking_number=number,
        carrier=carrier_id(text(tracker.get("carrier"))),
        events=events,
        estimated_delivery=_estimate(tracker),
        destination=_location(dig(tracker, "carrier_detail", "destination_tracking_location")),
    )


def _event(detail: dict[str, Any], signer: str | None) -> CarrierEvent:
    status = text(detail.get("status")) or "unknown"
    status_detail = text(detail.get("status_detail"))
    location = _location(detail.get("tracking_location"))
    moment = _event_time(text(detail.get("datetime")), location)
    pair = f"{status}/{status_detail}" if status_detail else status
    keys = (pair, status_detail, status) if status_detail else (status,)
    message = text(detail.get("message")) or text(detail.get("description"))
    return CarrierEvent(
        occurred_at=moment,
        # The carrier's own code when EasyPost passes it on; else EasyPost's pair.
        code=text(detail.get("carrier_code")) or pair,
        description=message,
        location=location,
        mapping_keys=tuple(key for key in keys if key),
        signer=signer if status == _DELIVERED else None,
        return_to_sender=True if status == "return_to_sender" else None,
        delivery_location_text=message if status == _DELIVERED else None,
    )


def _event_time(value: str | None, location: Location | None) -> datetime:
    if value is None:
        raise PayloadError("an EasyPost tracking detail without datetime")
    moment = parse_iso(value)
    if moment.tzinfo is UTC and location is not None:
        return moment.replace(tzinfo=None)  # the location's wall clock (see the module docstring)
    return moment


def _estimate(tracker: dict[str, Any]) -> datetime | None:
    local_date = text(dig(tracker, "carrier_detail", "est_delivery_date_local"))
    if local_date is not None:
        day = parse_date(local_date, "%m/%d/%Y")
        local_time = text(dig(tracker, "carrier_detail", "est_delivery_time_local"))
        if local_time is not None:
            try:
                return parse_iso(f"{day.isoformat()}T{local_time}")
            except PayloadError:
                pass
        return datetime.combine(day, datetime.max.time()).replace(microsecond=0)
    estimate = text(tracker.get("est_delivery_date"))
    return parse_iso(estimate) if estimate is not None else None


def _location(value: Any) -> Location | None:
    if not isinstance(value, dict):
        return None
    return assume_us(
        location_of(value.get("city"), value.get("state"), value.get("zip"), value.get("country"))
    )


def _error(error: dict[str, Any]) -> CarrierError:
    details = [
        text(item.get("message")) if isinstance(item, dict) else text(item)
        for item in error.get("errors") or []
    ]
    message = text(error.get("message")) or "no message"
    extra = "; ".join(detail for detail in details if detail and detail != message)
    return CarrierError(text(error.get("code")), f"{message} ({extra})" if extra else message)


FORMAT = SourceFormat(
    source=CarrierSource.EASYPOST,
    kind="platform",
    home_zone=None,  # EasyPost passes on each carrier's times; without a location they are UTC
    parse=parse,
    recognises=recognises,
)
