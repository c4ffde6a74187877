"""AfterShip Tracking: a ``tracking_update`` webhook, or a Trackings API response.

Documentation: https://www.aftership.com/docs/tracking/webhook/webhook-specifications (webhook body
``{ts, event, event_id, is_tracking_first_tag, msg: <tracking>}``), the Tracking and Checkpoint
models (https://www.aftership.com/docs/tracking/model/checkpoint, AfterShip's generated Node SDK
``src/model/Tracking.ts``) and https://www.aftership.com/docs/tracking/quickstart/request-errors.

Shapes read: a webhook (every event type carries the whole tracking in ``msg``; ``edd_revise`` and
``tracking_pending_time`` resend the same checkpoints, which give the same scan ids); an API
response ``{meta, data}`` whose ``data`` is the tracking itself (versioned API), ``{tracking}``
(legacy v4), ``{trackings: [...]}`` (list endpoint) or ``{checkpoint}`` (``/last_checkpoint``);
and an error ``{meta: {code, type, message}}``. Field names of both generations are accepted:
``country_region``/``country_region_name`` (2024-04 on) and ``country_iso3``/``country_name``.

Times: ``checkpoint_time`` "uses the timezone of the checkpoint" and is written with or without an
offset depending on the carrier: with one it is taken as written, without one it is the
checkpoint's wall clock (resolved from its location). Estimated delivery dates are in the
recipient's zone, so the tracking's destination resolves them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from parcelwatch.schemas.types import (
    CarrierSource,
    DeliveryLocationKind,
    Location,
    PickupPoint,
)
from parcelwatch.streams.carriers.carrier_names import carrier_id
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

_OK_CODES = frozenset({200, 201})
_DELIVERED = "Delivered"
_PICKUP = "AvailableForPickup"
# Checkpoint ``events[].code`` values (https://www.aftership.com/docs/tracking/enum/events) that
# say more than the subtag about where the parcel went.
_NEIGHBOUR_EVENTS = frozenset({"delivered_to_neighbor"})
_NEIGHBOUR = DeliveryLocationKind.NEIGHBOUR
_RETURN_EVENTS = frozenset({"return_to_sender_requested", "returned_to_sender"})


def parse(document: Document) -> CarrierResponse:
    if not isinstance(document, dict):
        raise PayloadError("an AfterShip body is a JSON object")
    if isinstance(document.get("msg"), dict):
        return CarrierResponse(histories=(_tracking(document["msg"]),))
    meta = document.get("meta")
    if not isinstance(meta, dict):
        raise PayloadError("neither an AfterShip webhook (msg) nor an API response (meta, data)")
    code = meta.get("code")
    if not isinstance(code, int):
        raise PayloadError("an AfterShip response whose meta has no numeric code")
    if code not in _OK_CODES:
        number = text(dig(document, "data", "tracking_number")) or text(
            dig(document, "data", "tracking", "tracking_number")
        )
        message = text(meta.get("message")) or text(meta.get("type")) or "no message"
        return CarrierResponse(errors=(CarrierError(text(code), message, number),))
    return CarrierResponse(histories=_histories(document.get("data")))


def recognises(document: Document) -> bool:
    if not isinstance(document, dict):
        return False
    message = document.get("msg")
    if isinstance(message, dict):
        return isinstance(document.get("event"), str) and "tracking_number" in message
    meta = document.get("meta")
    if not isinstance(meta, dict) or not isinstance(meta.get("code"), int):
        return False
    data = document.get("data")
    if meta["code"] not in _OK_CODES:
        return "type" in meta and "message" in meta
    if not isinstance(data, dict):
        return False
    wrapped = any(key in data for key in ("tracking", "trackings", "checkpoint"))
    return wrapped or ("tracking_number" in data and ("slug" in data or "checkpoints" in data))


def _histories(data: Any) -> tuple[TrackingHistory, ...]:
    if not isinstance(data, dict):
        raise PayloadError("an AfterShip response without a data object")
    if isinstance(data.get("trackings"), list):
        return tuple(_tracking(item) for item in objects(data["trackings"]))
    if isinstance(data.get("tracking"), dict):
        return (_tracking(data["tracking"]),)
    if isinstance(data.get("checkpoint"), dict):  # GET /last_checkpoint
        return (_tracking({**data, "checkpoints": [data["checkpoint"]]}),)
    if "tracking_number" in data:
        return (_tracking(data),)
    raise PayloadError("an AfterShip response whose data holds no tracking")


def _tracking(tracking: dict[str, Any]) -> TrackingHistory:
    number = text(tracking.get("tracking_number"))
    if number is None:
        raise PayloadError("an AfterShip tracking without tracking_number")
    events = tuple(_event(item, tracking) for item in objects(tracking.get("checkpoints")))
    return TrackingHistory(
        tracking_number=number,
        carrier=carrier_id(text(tracking.get("slug"))),
        events=events,
        estimated_delivery=_estimate(tracking),
        destination=_place(
            tracking,
            city="destination_city",
            region="destination_state",
            postal_code="destination_postal_code",
            countries=("destination_country_region", "destination_country_iso3"),
        ),
    )


def _event(checkpoint: dict[str, Any], tracking: dict[str, Any]) -> CarrierEvent:
    tag = text(checkpoint.get("tag"))
    subtag = text(checkpoint.get("subtag"))
    location = _checkpoint_location(checkpoint)
    event_codes = [
        code for item in objects(checkpoint.get("events")) if (code := text(item.get("code")))
    ]
    delivered = tag == _DELIVERED
    description = text(checkpoint.get("message")) or text(checkpoint.get("subtag_message"))
    return CarrierEvent(
        occurred_at=_checkpoint_time(checkpoint),
        # The carrier's own status when AfterShip passes it on, else AfterShip's subtag.
        code=text(checkpoint.get("raw_tag")) or subtag or tag,
        description=description,
        location=location,
        mapping_keys=_mapping_keys(subtag, tag, event_codes),
        signer=text(tracking.get("signed_by")) if delivered else None,
        delivery_location=(
            _NEIGHBOUR if delivered and _NEIGHBOUR_EVENTS.intersection(event_codes) else None
        ),
        # Where it was left: AfterShip's delivery_location_type, else the carrier's words.
        delivery_location_text=(
            text(tracking.get("delivery_location_type")) or description if delivered else None
        ),
        pickup_point=_pickup_point(tracking, location) if tag == _PICKUP else None,
        return_to_sender=True if _RETURN_EVENTS.intersection(event_codes) else None,
    )


def _mapping_keys(subtag: str | None, tag: str | None, event_codes: list[str]) -> tuple[str, ...]:
    """``<subtag>/<event code>`` first: a generic subtag (``Exception_001``) with an event such as
    ``held_by_customs`` says why (the table lists the pairs that do); then the subtag, the tag."""
    pairs = [f"{subtag}/{code}" for code in event_codes] if subtag else []
    return tuple(dict.fromkeys(key for key in (*pairs, subtag, tag) if key))


def _checkpoint_time(checkpoint: dict[str, Any]) -> datetime:
    written = text(checkpoint.get("checkpoint_time"))
    if written is not None:
        return parse_iso(written)
    # Without the carrier's time, when AfterShip recorded the checkpoint (UTC) is the best known.
    added = text(checkpoint.get("created_at"))
    if added is not None:
        return parse_iso(added)
    raise PayloadError("an AfterShip checkpoint without checkpoint_time")


def _checkpoint_location(checkpoint: dict[str, Any]) -> Location | None:
    location = _place(
        checkpoint,
        city="city",
        region="state",
        postal_code="zip",
        countries=("country_region", "country_iso3", "country_region_name", "country_name"),
    )
    if location is None and (words := text(checkpoint.get("location"))):
        # Only the carrier's free text: kept as written so the scan does not lose it.
        return Location(city=words, country=country_code(words))
    return location


def _place(
    value: dict[str, Any],
    *,
    city: str,
    region: str,
    postal_code: str,
    countries: tuple[str, ...],
) -> Location | None:
    country = next(
        (code for key in countries if (code := country_code(text(value.get(key))))), None
    )
    return assume_us(
        location_of(value.get(city), value.get(region), value.get(postal_code), country)
    )


def _pickup_point(tracking: dict[str, Any], location: Location | None) -> PickupPoint | None:
    name = text(tracking.get("pickup_location"))
    if name is None and location is None:
        return None
    return PickupPoint(name=name, location=location)


def _estimate(tracking: dict[str, Any]) -> datetime | date | None:
    """The carrier's estimate: ``courier_estimated_delivery_date``, else the latest or first EDD
    when the carrier gave it, else the legacy ``expected_delivery``."""
    courier = tracking.get("courier_estimated_delivery_date")
    candidates = [
        dig(courier, "estimated_delivery_date"),
        dig(courier, "estimated_delivery_date_max"),
    ]
    for field in ("latest_estimated_delivery", "first_estimated_delivery"):
        estimate = tracking.get(field)
        source = (text(dig(estimate, "source")) or "carrier").casefold()
        if "carrier" in source:
            candidates += [dig(estimate, "datetime"), dig(estimate, "datetime_max")]
    candidates.append(tracking.get("expected_delivery"))
    written = next((found for value in candidates if (found := text(value))), None)
    if written is None:
        return None
    if len(written) == 10:
        return date.fromisoformat(written) if _is_iso_date(written) else None
    try:
        return parse_iso(written)
    except PayloadError:
        return None  # an estimate AfterShip wrote oddly is not worth losing the scans


def _is_iso_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


FORMAT = SourceFormat(
    source=CarrierSource.AFTERSHIP,
    kind="platform",
    home_zone=None,  # AfterShip passes on each carrier's times; their location resolves them
    parse=parse,
    recognises=recognises,
)
