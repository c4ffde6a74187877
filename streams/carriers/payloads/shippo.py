"""Shippo: a ``track_updated`` webhook ``{event, test, data: <Track>}`` or a ``GET /tracks`` Track.

Documentation: https://docs.goshippo.com/docs/tracking/tracking/ (Track object, status and
substatus definitions), https://docs.goshippo.com/docs/tracking/webhooks (event types), Shippo's
generated SDK models (``docs/models/components/track.md``, ``trackingstatus.md``,
``webhookpayloadtrack.md`` in github.com/goshippo/shippo-javascript-sdk).

``tracking_history`` is the whole history, oldest first; ``tracking_status`` is the latest event
(also the last entry of the history; read on its own only when the history is empty). Shippo
passes on no carrier code: the scan's code is Shippo's ``STATUS/substatus`` pair.

Times: ``status_date`` "is displayed in UTC" (TrackingStatus model); test-mode payloads write it
without an offset, and that is read as UTC too. ``eta`` arrives as midnight UTC for carriers that
give only a day (a known Shippo quirk), so a midnight ``eta`` is read as that calendar day at the
destination.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from parcelwatch.schemas.types import CarrierSource, Location, PickupPoint
from parcelwatch.streams.carriers.carrier_names import carrier_id
from parcelwatch.streams.carriers.documents import Document, as_list, objects, text
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

_TRACK_EVENT = "track_updated"
# Every webhook event type Shippo documents; only track_updated carries tracking.
_EVENTS = frozenset(
    {"track_updated", "transaction_created", "transaction_updated", "batch_created",
     "batch_purchased"}
)  # fmt: skip
_DELIVERED = "DELIVERED"
_UNKNOWN = "UNKNOWN"
_PICKUP_AVAILABLE = "pickup_available"
# Shippo's own mapper treats a TRANSIT substatus that needs action as a failed delivery; the table
# says so under this key, tried after the exact pair (for substatuses added after it was written).
_NEEDS_ACTION = "action_required"


def parse(document: Document) -> CarrierResponse:
    if not isinstance(document, dict):
        raise PayloadError("a Shippo body is a JSON object")
    event = document.get("event")
    if isinstance(event, str) and "data" in document:
        if event != _TRACK_EVENT:
            return CarrierResponse()  # transaction/batch events carry no tracking
        track = document.get("data")
        if not isinstance(track, dict):
            raise PayloadError("a Shippo track_updated webhook without a Track in data")
        return _track_response(track)
    if "tracking_number" in document:
        return _track_response(document)
    if "detail" in document:  # Shippo's error body, e.g. {"detail": "Not found."}
        return CarrierResponse(errors=(CarrierError(None, text(document["detail"]) or "error"),))
    raise PayloadError("neither a Shippo Track, a track_updated webhook nor an error body")


def recognises(document: Document) -> bool:
    if not isinstance(document, dict):
        return False
    event = document.get("event")
    if isinstance(event, str):
        data = document.get("data")
        if event != _TRACK_EVENT:
            return event in _EVENTS and isinstance(data, dict)
        return isinstance(data, dict) and _looks_like_track(data)
    return _looks_like_track(document)


def _looks_like_track(value: dict[str, Any]) -> bool:
    # A Transaction also has tracking_number and a tracking_status, but as a plain string.
    return "tracking_number" in value and (
        isinstance(value.get("tracking_history"), list)
        or isinstance(value.get("tracking_status"), dict)
    )


def _track_response(track: dict[str, Any]) -> CarrierResponse:
    number = text(track.get("tracking_number"))
    if number is None:
        raise PayloadError("a Shippo Track without tracking_number")
    statuses = _statuses(track)
    if all(text(status.get("status")) == _UNKNOWN for status in statuses):
        # "The package has not been found via the carrier's tracking system" (UNKNOWN), or no
        # status at all with Shippo's messages saying why: the number is not tracked.
        said = [text(status.get("status_details")) for status in statuses]
        message = "; ".join(dict.fromkeys(word for word in (*said, _messages(track)) if word))
        if statuses or message:
            code = _UNKNOWN if statuses else None
            return CarrierResponse(errors=(CarrierError(code, message or "not found", number),))
    history = TrackingHistory(
        tracking_number=number,
        carrier=carrier_id(text(track.get("carrier"))),
        events=tuple(_event(status) for status in statuses),
        estimated_delivery=_estimate(text(track.get("eta"))),
        destination=_location(track.get("address_to")),
    )
    return CarrierResponse(histories=(history,))


def _statuses(track: dict[str, Any]) -> list[dict[str, Any]]:
    # The history is "a full history of all tracking statuses": the latest status is its last
    # entry, and stands alone only when the history is empty (e.g. a GET answered from cache).
    history = list(objects(track.get("tracking_history")))
    latest = track.get("tracking_status")
    if not history and isinstance(latest, dict):
        history = [latest]
    # A status without any time is Shippo's placeholder for "nothing yet", not an event.
    return [status for status in history if _written_time(status) is not None]


def _messages(track: dict[str, Any]) -> str | None:
    words = []
    for message in as_list(track.get("messages")):
        if isinstance(message, dict):
            words.append(text(message.get("text")) or text(message.get("message")))
        else:
            words.append(text(message))
    found = [word for word in words if word]
    return "; ".join(found) if found else None


def _event(status: dict[str, Any]) -> CarrierEvent:
    main = text(status.get("status"))
    substatus = status.get("substatus") if isinstance(status.get("substatus"), dict) else {}
    sub = text(substatus.get("code"))
    pair = f"{main}/{sub}" if main and sub else main or sub
    keys = [pair]
    if main and substatus.get("action_required") is True:
        keys.append(f"{main}/{_NEEDS_ACTION}")
    keys.append(main)
    location = _location(status.get("location"))
    description = text(status.get("status_details")) or text(substatus.get("text"))
    return CarrierEvent(
        occurred_at=_event_time(status),
        code=pair,
        description=description,
        location=location,
        mapping_keys=tuple(dict.fromkeys(key for key in keys if key)),
        delivery_location_text=description if main == _DELIVERED else None,
        pickup_point=(
            PickupPoint(location=location) if sub == _PICKUP_AVAILABLE and location else None
        ),
    )


def _written_time(status: dict[str, Any]) -> str | None:
    # object_created is when Shippo stored the status: only a stand-in for a missing status_date.
    return text(status.get("status_date")) or text(status.get("object_created"))


def _event_time(status: dict[str, Any]) -> datetime:
    written = _written_time(status)
    if written is None:
        raise PayloadError("a Shippo tracking status without status_date")
    moment = parse_iso(written)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _estimate(written: str | None) -> datetime | date | None:
    if written is None:
        return None
    try:
        moment = parse_iso(written)
    except PayloadError:
        return None  # an estimate Shippo wrote oddly is not worth losing the scans
    if moment.time() == time(0) and moment.utcoffset() in (None, UTC.utcoffset(None)):
        return moment.date()
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _location(value: Any) -> Location | None:
    if not isinstance(value, dict):
        return None
    return assume_us(
        location_of(value.get("city"), value.get("state"), value.get("zip"), value.get("country"))
    )


FORMAT = SourceFormat(
    source=CarrierSource.SHIPPO,
    kind="platform",
    home_zone=None,  # status_date is UTC by Shippo's documentation
    parse=parse,
    recognises=recognises,
)
