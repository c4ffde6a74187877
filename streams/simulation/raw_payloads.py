"""Simulated scans sent as a carrier's or tracking platform's own payloads, on ``carrier-raw``.

A source resends a parcel's whole history every time, so each scan a journey publishes becomes one
raw message holding the history so far (every scan of that parcel published by then, oldest
first), as the source would write it; the worker's normaliser turns it back into scans, and the
history's older scans come back with the ids they had, as duplicates. A scan sent twice (a webhook
redelivered) is the same body again.

Codes come from the source's mapping table (``streams/carriers/mapping/<source>.json``): the
first code whose status and reason are the scan's; else the first with the status and no reason
(the normaliser then reads the reason from the carrier's words, which the scan keeps); else the
first with the status. A status the source has no code for is sent as the nearest one it has
(``picked_up`` as ``in_transit``). So statuses may come back coarser, and reasons coarser or as
the normaliser reads them from the words. Adding a source: a ``RawFormat`` with its renderer in
``RAW_FORMATS``.

Pure: the rendered bytes are a function of the scans and the publication times.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import orjson

from parcelwatch.schemas.carrier_raw import raw_payload_for
from parcelwatch.schemas.types import (
    SETTLED_STATUSES,
    CarrierSource,
    ExceptionReason,
    Location,
    Scan,
    ShipmentStatus,
)
from parcelwatch.streams.carriers.mapping import mapping_table
from parcelwatch.streams.carriers.timezones import resolve_zone
from parcelwatch.streams.simulation.config import SimulatedEvent

# A status a source cannot say, sent as the nearest one it can (picked_up and in_transit the
# core treats alike: both are moving and "shipped").
_NEAREST: dict[ShipmentStatus, ShipmentStatus] = {
    ShipmentStatus.PICKED_UP: ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.RETURNED_TO_SENDER: ShipmentStatus.RETURNING_TO_SENDER,
}


@dataclass(frozen=True)
class RawFormat:
    """How one source writes a parcel's history: ``render(history, sent_at)`` → the body."""

    source: CarrierSource
    content_type: str
    render: Callable[[Sequence[Scan], datetime], bytes]


# Cached: every resend renders the parcel's whole history again, each scan asking anew.
@functools.cache
def source_code(
    source: CarrierSource | str, status: ShipmentStatus, reason: ExceptionReason | None
) -> str:
    """The code ``source`` would write for ``status`` and ``reason`` (see the module docstring)."""
    codes = mapping_table(CarrierSource(source).value).codes
    wanted: ShipmentStatus | None = status
    while wanted is not None:
        same_status = [code for code, mapping in codes.items() if mapping.status is wanted]
        for fits in (
            lambda code: codes[code].reason is reason,
            lambda code: codes[code].reason is None,
            lambda code: True,
        ):
            found = next(filter(fits, same_status), None)
            if found is not None:
                return found
        wanted = _NEAREST.get(wanted)
    raise ValueError(f"{CarrierSource(source).value} has no code for {status.value}")


def as_raw_payloads(
    events: Sequence[SimulatedEvent], source: CarrierSource | str
) -> list[SimulatedEvent]:
    """``events`` with every scan replaced by ``source``'s payload of its parcel's history so far
    (keyed and timed as the scan was); orders and feedback unchanged, order kept."""
    chosen = RAW_FORMATS[CarrierSource(source).value]
    published: dict[bytes, dict[str, Scan]] = {}  # per parcel, the scans sent so far
    bodies: dict[tuple[bytes, str], bytes] = {}  # (parcel, scan) → the body first sent for it
    result = list(events)
    # The history so far is what was published before: walk in publication order.
    for position in sorted(range(len(result)), key=lambda index: result[index].emit_at):
        item = result[position]
        scan = item.event
        if item.topic_kind != "scan" or not isinstance(scan, Scan):
            continue
        body = bodies.get((item.key, scan.event_id))
        if body is None:
            history = published.setdefault(item.key, {})
            history[scan.event_id] = scan
            in_order = sorted(history.values(), key=lambda known: known.occurred_at)
            body = bodies[item.key, scan.event_id] = chosen.render(in_order, item.emit_at)
        raw = raw_payload_for(
            chosen.source,
            body,
            received_at=item.emit_at,
            tracking_number=scan.tracking_number,
            content_type=chosen.content_type,
        )
        result[position] = replace(item, topic_kind="raw", event=raw)
    return result


# ---------------------------------------------------------------------------------------------
# EasyPost: a Tracker webhook Event (tracker.updated) with the whole history in tracking_details.
# https://docs.easypost.com/docs/trackers, https://docs.easypost.com/docs/webhooks

# EasyPost's own top-level Tracker statuses; its other codes are status_details, written under
# the top-level status of the scan's status (an exception under "in_transit", as EasyPost does).
_EASYPOST_STATUSES = frozenset(
    {
        "unknown",
        "pre_transit",
        "in_transit",
        "out_for_delivery",
        "delivered",
        "available_for_pickup",
        "return_to_sender",
        "failure",
        "cancelled",
        "error",
    }
)
# The carrier names EasyPost writes (carrier accounts' types); others pass as written.
_EASYPOST_CARRIERS = {"ups": "UPS", "fedex": "FedEx", "usps": "USPS", "dhl": "DHLExpress"}


def _easypost_status(scan: Scan) -> tuple[str, str | None]:
    code = source_code(CarrierSource.EASYPOST, scan.status, scan.reason)
    if "/" in code:
        status, detail = code.split("/", 1)
        return status, detail
    if code in _EASYPOST_STATUSES:
        return code, None
    top = source_code(CarrierSource.EASYPOST, scan.status, None)
    if top not in _EASYPOST_STATUSES:
        top = "failure" if scan.status is ShipmentStatus.ATTEMPT_FAILED else "in_transit"
    return top.split("/", 1)[0], code


def _easypost_time(moment: datetime, location: Location | None) -> str:
    """Local wall-clock time with a ``Z``, as EasyPost's examples write event times (the normaliser
    reads it in the location's zone); where that would not read back (no known zone, or the hour a
    clock change repeats) the time with its real offset, which EasyPost also documents."""
    moment = moment.replace(microsecond=0)
    if location is None:
        return _utc(moment)  # EasyPost: without a location, times are UTC
    zone = resolve_zone(location, None).zone
    wall = moment.astimezone(zone).replace(tzinfo=None)
    if wall.replace(tzinfo=zone).astimezone(UTC) == moment.astimezone(UTC):
        return wall.isoformat() + "Z"
    return moment.isoformat()


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _easypost_location(location: Location | None) -> dict[str, Any] | None:
    if location is None:
        return None
    return {
        "object": "TrackingLocation",
        "city": location.city,
        "state": location.region,
        "country": location.country,
        "zip": location.postal_code,
    }


def _easypost_detail(scan: Scan) -> dict[str, Any]:
    status, detail = _easypost_status(scan)
    return {
        "object": "TrackingDetail",
        "message": scan.description,
        "description": scan.description,
        "status": status,
        "status_detail": detail,
        "datetime": _easypost_time(scan.occurred_at, scan.location),
        "source": _EASYPOST_CARRIERS.get(scan.carrier, scan.carrier),
        "carrier_code": scan.carrier_status_code,
        "tracking_location": _easypost_location(scan.location),
    }


def _short_id(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:32]


def render_easypost(history: Sequence[Scan], sent_at: datetime) -> bytes:
    """The ``tracker.updated`` Event EasyPost posts after ``history[-1]`` (oldest first)."""
    if not history:
        raise ValueError("a history has at least one scan")
    newest = history[-1]
    number = newest.tracking_number
    details = [_easypost_detail(scan) for scan in history]
    estimates = [scan.estimated_delivery for scan in history if scan.estimated_delivery]
    earlier = _easypost_status(history[-2])[0] if len(history) > 1 else None
    tracker = {
        "id": f"trk_{_short_id('tracker', number)}",
        "object": "Tracker",
        "mode": "production",
        "tracking_code": number,
        "status": details[-1]["status"],
        "status_detail": details[-1]["status_detail"],
        "created_at": _utc(history[0].occurred_at),
        "updated_at": _utc(sent_at),
        "signed_by": None,
        "weight": None,
        "est_delivery_date": _utc(estimates[-1]) if estimates else None,
        "shipment_id": None,
        "carrier": _EASYPOST_CARRIERS.get(newest.carrier, newest.carrier),
        "tracking_details": details,
        "carrier_detail": {
            "object": "CarrierDetail",
            "service": None,
            "origin_tracking_location": details[0]["tracking_location"],
            "destination_tracking_location": None,
        },
        "finalized": newest.status in SETTLED_STATUSES,
        "is_return": False,
        "public_url": None,
        "fees": [],
    }
    event = {
        "object": "Event",
        "id": f"evt_{_short_id('event', number, newest.event_id)}",
        "mode": "production",
        "description": "tracker.updated",
        "previous_attributes": {} if earlier is None else {"status": earlier},
        "pending_urls": [],
        "completed_urls": [],
        "created_at": _utc(sent_at),
        "updated_at": _utc(sent_at),
        "result": tracker,
    }
    return orjson.dumps(event)


EASYPOST = RawFormat(CarrierSource.EASYPOST, "application/json", render_easypost)

# Source name (``carrier-raw``'s) → how that source writes a history.
RAW_FORMATS: dict[str, RawFormat] = {EASYPOST.source.value: EASYPOST}

__all__ = [
    "RAW_FORMATS",
    "RawFormat",
    "as_raw_payloads",
    "render_easypost",
    "source_code",
]
