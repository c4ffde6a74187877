"""Australia Post Shipping and Tracking API: ``GET /shipping/v1/track?tracking_ids=a,b`` (JSON),
for Australia Post articles and consignments (eParcel) and StarTrack consignments.

Documentation: https://developers.auspost.com.au/apis/shipping-and-tracking/reference/track-items
and the status reference
https://developers.auspost.com.au/content/apis/shipping-and-tracking/reference-statuses.html.

``tracking_results`` holds one result per id asked: ``trackable_items`` (articles; a StarTrack
consignment nests its freight items in ``items``), a ``consignment`` summary (an object or a list),
or ``errors`` for an id Australia Post could not answer, next to the others' results.

Events have **no code**: only ``description``, an optional free-text ``location`` ("CHULLORA NSW",
"Ballina, NSW") and ``date`` (ISO 8601 with offset; wrappers sometimes drop it). The table maps the
description: the documented status words as exact keys, else patterns on Australia Post's
phrasing. The item/consignment ``status`` describes only the current state and is not given to
past events. Each article is its own parcel: a result with several articles gives one history per
``article_id``; a single article keeps the number that was asked.
"""

from __future__ import annotations

import re
from typing import Any

from parcelwatch.schemas.types import CarrierSource, Location
from parcelwatch.streams.carriers.documents import Document, as_list, objects, text
from parcelwatch.streams.carriers.model import (
    CarrierError,
    CarrierEvent,
    CarrierResponse,
    PayloadError,
    TrackingHistory,
)
from parcelwatch.streams.carriers.registry import SourceFormat
from parcelwatch.streams.carriers.times import parse_iso

CARRIER = "australiapost"
AUSTRALIA = "AU"
_STATES = ("NSW", "VIC", "QLD", "SA", "WA", "TAS", "NT", "ACT", "JBT")
# "SUBURB STATE", "Suburb, STATE" or "SUBURB STATE 2000".
_PLACE = re.compile(
    rf"^(?P<city>.*?)[\s,]+(?P<state>{'|'.join(_STATES)})(?:[\s,]+(?P<postcode>\d{{4}}))?$",
    re.IGNORECASE,
)
# Error fields differ between Australia Post's APIs and gateway (code / error_code / error, ...).
_CODE_FIELDS = ("code", "error_code", "error")
_MESSAGE_FIELDS = ("message", "error_description", "error_message", "name", "error_name")
# "Delivered - Left in a safe place", "Item delivered to ...": words that may name the place
# (not "Delivered to sender", a return).
_DELIVERED_WHERE = re.compile(r"^(item |article )?delivered\b(?!.*\bsender\b)\W+\w", re.IGNORECASE)


def parse(document: Document) -> CarrierResponse:
    if not isinstance(document, dict):
        raise PayloadError("an Australia Post tracking body is a JSON object")
    errors = [_error(item, None) for item in _error_items(document)]
    results = document.get("tracking_results")
    if results is None:
        if errors:
            return CarrierResponse(errors=tuple(errors))
        raise PayloadError("neither Australia Post tracking_results nor errors")
    histories: list[TrackingHistory] = []
    for result in objects(results):
        number = text(result.get("tracking_id"))
        errors.extend(_error(item, number) for item in objects(result.get("errors")))
        histories.extend(_histories(result, number))
    return CarrierResponse(histories=tuple(histories), errors=tuple(errors))


def recognises(document: Document) -> bool:
    if not isinstance(document, dict):
        return False
    results = document.get("tracking_results")
    return (
        isinstance(results, list)
        and bool(results)
        and all(isinstance(result, dict) and "tracking_id" in result for result in results)
    )


def _histories(result: dict[str, Any], number: str | None) -> list[TrackingHistory]:
    articles = [
        (text(article.get("article_id")) or text(item.get("consignment_id")), article)
        for item in objects(result.get("trackable_items"))
        for article in (list(objects(item.get("items"))) or [item])
    ]
    if not articles:
        # No articles: the consignment summary's events, if any, are the parcel's.
        events = [
            event
            for consignment in objects(result.get("consignment"))
            for event in objects(consignment.get("events"))
        ]
        if number is None or (not events and result.get("errors")):
            return []
        return [TrackingHistory(number, CARRIER, tuple(map(_event, events)))]
    histories = []
    for article_id, article in articles:
        own_number = number if len(articles) == 1 and number else article_id or number
        if own_number is None:
            raise PayloadError("an Australia Post result without tracking_id or article_id")
        events = tuple(_event(event) for event in objects(article.get("events")))
        histories.append(TrackingHistory(own_number, CARRIER, events))
    return histories


def _event(event: dict[str, Any]) -> CarrierEvent:
    moment = text(event.get("date"))
    if moment is None:
        raise PayloadError("an Australia Post event without date")
    description = text(event.get("description"))
    delivered = description is not None and _DELIVERED_WHERE.search(description) is not None
    return CarrierEvent(
        occurred_at=parse_iso(moment),
        description=description,
        location=_location(text(event.get("location"))),
        mapping_keys=(description,) if description else (),
        delivery_location_text=description if delivered else None,
    )


def _location(place: str | None) -> Location | None:
    if place is None:
        return None
    found = _PLACE.match(place)
    if found is None:
        # A facility or overseas place without a state: kept as written, no country assumed.
        return Location(city=place)
    city = found.group("city").strip(" ,") or None
    return Location(
        city=city,
        region=found.group("state").upper(),
        postal_code=found.group("postcode"),
        country=AUSTRALIA,
    )


def _error_items(document: dict[str, Any]) -> list[dict[str, Any]]:
    items = list(objects(document.get("errors")))
    if not items and any(document.get(field) for field in ("error_code", "error")):
        items = [document]  # the gateway's own error body (e.g. API_001 on bad credentials)
    return items


def _error(item: dict[str, Any], number: str | None) -> CarrierError:
    code = next((text(item.get(field)) for field in _CODE_FIELDS if text(item.get(field))), None)
    words = [text(item.get(field)) for field in _MESSAGE_FIELDS]
    message = "; ".join(dict.fromkeys(word for word in words if word)) or "no message"
    number = number or next((text(value) for value in as_list(item.get("tracking_id"))), None)
    return CarrierError(code, message, number)


FORMAT = SourceFormat(
    source=CarrierSource.AUSTRALIAPOST,
    kind="carrier",
    home_zone="Australia/Sydney",  # event dates carry an offset; this is the fallback
    parse=parse,
    recognises=recognises,
)
