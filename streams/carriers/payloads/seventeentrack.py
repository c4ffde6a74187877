"""17TRACK Tracking API v2.x: a webhook push or a ``gettrackinfo`` response.

Documentation: https://api.17track.net/en/doc?version=v2.4 (and v2.2); statuses and error codes
from 17TRACK's help centre (https://help.17track.net/hc/en-us/articles/37471096573337,
https://help.17track.net/hc/en-us/articles/37570440168473). The per-number object is the same in
both shapes::

    push:         {"event": "TRACKING_UPDATED" | "TRACKING_STOPPED", "data": <number>}
    gettrackinfo: {"code": 0, "data": {"accepted": [<number>...], "rejected": [<error>...]}}
    <number>:     {"number", "carrier", "track_info": {"latest_status", "latest_event",
                   "shipping_info", "time_metrics", "tracking": {"providers": [
                   {"provider": {...}, "events": [...]}]}}}

A response holds up to 40 numbers, some accepted and some rejected (each with its own error).
Every carrier leg (``providers[]``) has its own events; all of them are the parcel's history.
17TRACK passes on no carrier code: an event's code is its ``sub_status`` (newer schema) or
``stage``; events with neither (older schema) are read from the carrier's words, except the latest
event, which ``latest_status`` classifies.

Times: each event has ``time_iso`` (local, with the offset when the carrier gave one) and
``time_utc``. The local form is kept when it has an offset; else the UTC instant; else the local
time alone, resolved from the event's location; else ``time_raw`` as the carrier wrote it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from parcelwatch.schemas.types import CarrierSource, Location, PickupPoint
from parcelwatch.streams.carriers.carrier_names import UNKNOWN_CARRIER, carrier_id
from parcelwatch.streams.carriers.countries import country_code
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
from parcelwatch.streams.carriers.times import parse_iso

_EVENTS = frozenset({"TRACKING_UPDATED", "TRACKING_STOPPED"})
_NOT_FOUND = "NotFound"
_PICKUP = "AvailableForPickup"
_DELIVERED = "Delivered"
# 17TRACK's own words for the NotFound sub-statuses, when sub_status_descr is empty.
_NOT_FOUND_WORDS = {
    "NotFound_Other": "The carrier did not provide any information.",
    "NotFound_InvalidCode": "The tracking number is invalid.",
}
# 17TRACK's numeric keys of carriers parcelwatch knows by name, from 17TRACK's carrier list
# (https://res.17track.net/asset/carrier/info/apicarrier.all.json) as quoted in public integration
# notes (the list itself was not read): only these few; any other key resolves by the name of its
# provider in the payload.
_CARRIER_KEYS = {
    100001: "DHL Express",
    100002: "UPS",
    100003: "FedEx",
    21051: "USPS",
    11031: "Royal Mail",
    1151: "Australia Post",
}


def parse(document: Document) -> CarrierResponse:
    if not isinstance(document, dict):
        raise PayloadError("a 17TRACK body is a JSON object")
    if document.get("event") in _EVENTS:
        return _numbers(list(objects(document.get("data"))))
    code = document.get("code")
    if not isinstance(code, int):
        raise PayloadError("neither a 17TRACK push (event, data) nor an API response (code, data)")
    data = document.get("data") if isinstance(document.get("data"), dict) else {}
    if code != 0:
        return CarrierResponse(errors=_request_errors(code, document, data))
    response = _numbers(list(objects(data.get("accepted"))))
    rejected = tuple(_rejected(item) for item in objects(data.get("rejected")))
    return CarrierResponse(response.histories, response.errors + rejected)


def recognises(document: Document) -> bool:
    if not isinstance(document, dict):
        return False
    if document.get("event") in _EVENTS:
        return all("number" in item for item in objects(document.get("data")))
    code, data = document.get("code"), document.get("data")
    if not isinstance(code, int) or isinstance(code, bool):
        return False
    if isinstance(data, dict):
        return any(key in data for key in ("accepted", "rejected", "errors"))
    # A refused call may come with no data at all: only 17TRACK's -1801xxxx codes then.
    return data is None and set(document) <= {"code", "data", "message"} and code < 0


def _numbers(items: list[dict[str, Any]]) -> CarrierResponse:
    histories = []
    errors = []
    for item in items:
        found = _number(item)
        if isinstance(found, CarrierError):
            errors.append(found)
        else:
            histories.append(found)
    return CarrierResponse(tuple(histories), tuple(errors))


def _number(item: dict[str, Any]) -> TrackingHistory | CarrierError:
    number = text(item.get("number"))
    if number is None:
        raise PayloadError("a 17TRACK tracking without number")
    info = item.get("track_info") if isinstance(item.get("track_info"), dict) else {}
    latest = info.get("latest_status") if isinstance(info.get("latest_status"), dict) else {}
    events = _events(info, latest)
    if not events and text(latest.get("status")) == _NOT_FOUND:
        # "The inquiry succeeded, but no tracking information was found for this tracking number."
        sub = text(latest.get("sub_status")) or _NOT_FOUND
        said = text(latest.get("sub_status_descr")) or _NOT_FOUND_WORDS.get(
            sub, "No tracking information was found for this tracking number."
        )
        return CarrierError(sub, said, number)
    return TrackingHistory(
        tracking_number=number,
        carrier=_carrier(item, info),
        events=events,
        estimated_delivery=_estimate(dig(info, "time_metrics", "estimated_delivery_date")),
        destination=_location(dig(info, "shipping_info", "recipient_address")),
    )


def _events(info: dict[str, Any], latest: dict[str, Any]) -> tuple[CarrierEvent, ...]:
    newest = info.get("latest_event") if isinstance(info.get("latest_event"), dict) else None
    events = []
    for provider in objects(dig(info, "tracking", "providers")):
        for event in objects(provider.get("events")):
            is_newest = newest is not None and _same_event(event, newest)
            events.append(_event(event, latest if is_newest else {}))
    if not events and newest is not None and _has_time(newest):
        events.append(_event(newest, latest))
    return tuple(events)


def _same_event(event: dict[str, Any], other: dict[str, Any]) -> bool:
    fields = ("time_utc", "time_iso", "description")
    return all(event.get(field) == other.get(field) for field in fields)


def _event(event: dict[str, Any], latest: dict[str, Any]) -> CarrierEvent:
    sub = text(event.get("sub_status"))
    stage = text(event.get("stage"))
    if sub is None and stage is None:
        # Older schema: only the latest event is classified, by the number's latest status.
        sub, stage = text(latest.get("sub_status")), text(latest.get("status"))
    location = _event_location(event)
    description = text(event.get("description")) or text(
        dig(event, "description_translation", "description")
    )
    code = sub or stage
    return CarrierEvent(
        occurred_at=_event_time(event),
        code=code,
        description=description,
        location=location,
        mapping_keys=tuple(dict.fromkeys(key for key in (sub, stage) if key)),
        pickup_point=(
            PickupPoint(location=location) if location and _PICKUP in (code or "") else None
        ),
        delivery_location_text=description if (code or "").startswith(_DELIVERED) else None,
    )


def _has_time(event: dict[str, Any]) -> bool:
    return any(text(event.get(field)) for field in ("time_iso", "time_utc")) or bool(
        text(dig(event, "time_raw", "date"))
    )


def _event_time(event: dict[str, Any]) -> datetime:
    local_time = _optional_time(text(event.get("time_iso")))
    if local_time is not None and local_time.tzinfo is not None:
        return local_time
    utc = _optional_time(text(event.get("time_utc")))
    if utc is not None:
        return utc if utc.tzinfo is not None else utc.replace(tzinfo=UTC)
    if local_time is not None:
        return local_time  # the carrier's wall clock: the location resolves it
    raw_date = text(dig(event, "time_raw", "date"))
    if raw_date is not None:
        raw_time = text(dig(event, "time_raw", "time")) or "00:00"
        offset = text(dig(event, "time_raw", "timezone")) or ""
        return parse_iso(f"{raw_date}T{raw_time}{offset}")
    raise PayloadError("a 17TRACK event without time_iso, time_utc or time_raw")


def _optional_time(written: str | None) -> datetime | None:
    """A time the event may also give in another form: None when absent or unreadable."""
    if written is None:
        return None
    try:
        return parse_iso(written)
    except PayloadError:
        return None


def _event_location(event: dict[str, Any]) -> Location | None:
    location = _location(event.get("address"))
    if location is None and (words := text(event.get("location"))):
        return Location(city=words, country=country_code(words))  # the carrier's free text
    return location


def _location(value: Any) -> Location | None:
    if not isinstance(value, dict):
        return None
    return assume_us(
        location_of(
            value.get("city"), value.get("state"), value.get("postal_code"), value.get("country")
        )
    )


def _carrier(item: dict[str, Any], info: dict[str, Any]) -> str:
    key = item.get("carrier")
    known = _CARRIER_KEYS.get(key) if isinstance(key, int) else None
    if known is not None:
        return carrier_id(known)
    providers = [dig(entry, "provider") for entry in objects(dig(info, "tracking", "providers"))]
    named = next((p for p in providers if isinstance(p, dict) and p.get("key") == key), None)
    name = text(dig(named or (providers[0] if providers else None), "name"))
    if name is not None:
        return carrier_id(name)
    return carrier_id(f"17track {key}") if text(key) else UNKNOWN_CARRIER


def _estimate(window: Any) -> datetime | date | None:
    """The end of 17TRACK's estimated delivery window (``to``), else its start."""
    written = text(dig(window, "to")) or text(dig(window, "from"))
    if written is None:
        return None
    try:
        moment = parse_iso(written)
    except PayloadError:
        return None  # an estimate written oddly is not worth losing the scans
    return moment.date() if len(written) == 10 else moment


def _rejected(item: dict[str, Any]) -> CarrierError:
    error = item.get("error") if isinstance(item.get("error"), dict) else {}
    return CarrierError(
        text(error.get("code")),
        text(error.get("message")) or "rejected",
        text(item.get("number")),
    )


def _request_errors(
    code: int, document: dict[str, Any], data: dict[str, Any]
) -> tuple[CarrierError, ...]:
    errors = tuple(
        CarrierError(text(error.get("code")) or str(code), text(error.get("message")) or "error")
        for error in objects(data.get("errors"))
    )
    if errors:
        return errors
    return (CarrierError(str(code), text(document.get("message")) or "17TRACK refused the call"),)


FORMAT = SourceFormat(
    source=CarrierSource.SEVENTEEN_TRACK,
    kind="platform",
    home_zone=None,  # 17TRACK writes offsets or UTC; a bare local time is the event location's
    parse=parse,
    recognises=recognises,
)
