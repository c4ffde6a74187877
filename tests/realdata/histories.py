"""The vendored public delivery histories (USAID SCMS, DataCo) as event streams of customers
around the world, and the moments a customer may ask about them.

Each shipment gets one of ``LOCALES`` and one of ``ZONES`` in turn (by its place in the data), so
every pairing occurs hundreds of times and the streams are the same on every run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from parcelwatch.schemas.state import ShipmentState
from parcelwatch.schemas.types import Customer, NotificationChannel, Scan, ShipmentStatus
from parcelwatch.streams.core.tracking import apply_event
from parcelwatch.streams.offline.histories import dataco, scms
from parcelwatch.streams.offline.histories.shipments import (
    HistoricShipment,
    ImportReport,
    shipment_events,
)

HISTORIES = Path(__file__).resolve().parents[1] / "data" / "histories"
TABLES = {
    scms.DATASET: (scms.read_shipments, HISTORIES / "scms" / "scms_delivery_history.tsv"),
    dataco.DATASET: (dataco.read_shipments, HISTORIES / "dataco" / "dataco_sample.tsv"),
}
LOCALES = ("en-US", "de-DE", "fr-FR")
# Both hemispheres' DST, a half-hour zone without DST, and a 45-minute one with it.
ZONES = (
    "America/Los_Angeles",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Pacific/Chatham",
)
ASKED_AFTER = timedelta(hours=1)


@cache
def shipments(dataset: str) -> tuple[HistoricShipment, ...]:
    reader, table = TABLES[dataset]
    return tuple(reader([table], ImportReport()))


@dataclass(frozen=True, slots=True)
class Stream:
    """One shipment's states as the worker holds them: after the order and its label scan, after
    a pickup (``moving``), after the delivered scan."""

    shipment: HistoricShipment
    locale: str
    zone: ZoneInfo
    labelled: ShipmentState
    moving: ShipmentState
    delivered: ShipmentState


def stream(shipment: HistoricShipment, index: int) -> Stream:
    """The histories have no scan between the label and the delivery; ``moving`` adds the one
    every real parcel has, a pickup, at the order time (the data does not say when it left)."""
    locale, zone = LOCALES[(index // len(ZONES)) % len(LOCALES)], ZONES[index % len(ZONES)]
    order, label, delivered = shipment_events(shipment)
    customer = Customer(f"cust-{index}", locale, zone, (NotificationChannel.EMAIL,))
    labelled = _applied(None, replace(order, customer=customer), label)
    pickup = replace(label, event_id=f"{label.event_id}-pickup", status=ShipmentStatus.PICKED_UP)
    moving = _applied(labelled, pickup)
    return Stream(shipment, locale, ZoneInfo(zone), labelled, moving, _applied(moving, delivered))


@cache
def streams(dataset: str) -> tuple[Stream, ...]:
    return tuple(stream(shipment, index) for index, shipment in enumerate(shipments(dataset)))


def _applied(state: ShipmentState | None, *events) -> ShipmentState:
    for event in events:
        moment = event.occurred_at if isinstance(event, Scan) else event.ordered_at
        state = apply_event(state, event, moment).state
    assert state is not None
    return state


def midway(shipment: HistoricShipment) -> datetime:
    return shipment.ordered_at + (shipment.delivered_at - shipment.ordered_at) / 2


def undelivered_past_promise(shipment: HistoricShipment) -> bool:
    """Whether a customer could ask, an hour after the promise, about a parcel not yet there."""
    return shipment.delivered_at > shipment.promised_by + ASKED_AFTER
