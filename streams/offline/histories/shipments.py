"""One delivered shipment of a public history, as parcelwatch events, and what an import counted.

Each shipment becomes an order and two scans: ``info_received`` (the label) at ``ordered_at`` and
``delivered`` at the delivery time. The histories name no carrier and no pickup or transit scans.
Event ids are uuid5 of the dataset, the shipment and the event, so re-importing gives identical
files.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import orjson

from parcelwatch.schemas.codec import to_jsonable
from parcelwatch.schemas.types import (
    Limits,
    Location,
    Order,
    Place,
    Scan,
    ScanTimeZone,
    ShipmentStatus,
)

# A fixed namespace: the ids depend only on the dataset, the shipment and the event.
EVENT_NAMESPACE = uuid.UUID("5d1c3f0e-8a52-4d61-9a8e-2b7f0c6e4a19")
UNKNOWN_SERVICE_LEVEL = "unknown"
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_NOT_TRACKING = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class HistoricShipment:
    """A delivered shipment of a public history, in parcelwatch's terms."""

    dataset: str  # also the placeholder carrier: the histories name none
    shipment_id: str  # the dataset's own id (SCMS ``ASN/DN #``, DataCo ``Order Id``)
    service_level: str
    ordered_at: datetime
    promised_by: datetime
    delivered_at: datetime
    destination: Place | None
    time_zone: ScanTimeZone  # the zone the dataset's local dates and times were read in

    @property
    def tracking_number(self) -> str:
        return f"{self.dataset}-{_NOT_TRACKING.sub('-', self.shipment_id)}"[:64]

    @property
    def late(self) -> bool:
        return self.delivered_at > self.promised_by


@dataclass
class ImportReport:
    """What an import read, wrote and left out, and why."""

    rows: int = 0
    shipments: int = 0  # distinct shipment ids read
    written: int = 0
    late: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # reason → shipments
    notes: Counter[str] = field(default_factory=Counter)  # kept, but worth saying (conflicts…)
    examples: dict[str, str] = field(default_factory=dict)  # reason → its first case

    def skip(self, reason: str, example: str | None = None) -> None:
        self.skipped[reason] += 1
        if example is not None:
            self.examples.setdefault(reason, example)

    def lines(self) -> list[str]:
        share = f" ({self.late / self.written:.1%} late)" if self.written else ""
        said = [
            f"read {self.rows} rows, {self.shipments} shipments; "
            f"wrote {self.written} shipments{share}"
        ]
        for reason, count in sorted(self.skipped.items()):
            example = f" (first: {self.examples[reason]})" if reason in self.examples else ""
            said.append(f"skipped {count}: {reason}{example}")
        said += [f"note {count}: {what}" for what, count in sorted(self.notes.items())]
        return said


def contract_problem(shipment: HistoricShipment, limits: Limits | None = None) -> str | None:
    """Why ``shipment`` cannot be a valid history (the reason it is skipped), or None."""
    limits = limits or Limits()
    if shipment.delivered_at < shipment.ordered_at:
        return "delivered before it was ordered"
    if shipment.promised_by < shipment.ordered_at:
        return "promised before it was ordered"
    if shipment.promised_by - shipment.ordered_at > timedelta(days=limits.max_promise_days):
        return f"promise more than {limits.max_promise_days:g} days after the order"
    return None


def within_contract(
    shipments: Iterable[HistoricShipment], report: ImportReport
) -> list[HistoricShipment]:
    """The shipments that can be valid histories; the others are skipped in ``report``."""
    kept = []
    for shipment in shipments:
        if (problem := contract_problem(shipment)) is not None:
            report.skip(problem, shipment.shipment_id)
            continue
        kept.append(shipment)
    return kept


def slug(text: str) -> str:
    """A service level as the contract spells one: ``Air Charter`` → ``air_charter``."""
    return _NOT_SLUG.sub("_", text.lower()).strip("_")[:32] or UNKNOWN_SERVICE_LEVEL


def _event_id(shipment: HistoricShipment, event: str) -> str:
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{shipment.dataset}/{shipment.shipment_id}/{event}"))


def shipment_events(shipment: HistoricShipment) -> tuple[Order, Scan, Scan]:
    """The order, the label scan and the delivered scan of ``shipment``."""
    number, carrier = shipment.tracking_number, shipment.dataset
    order = Order(
        event_id=_event_id(shipment, "order"),
        order_id=shipment.shipment_id,
        tracking_number=number,
        carrier=carrier,
        service_level=shipment.service_level,
        ordered_at=shipment.ordered_at,
        promised_by=shipment.promised_by,
        destination=shipment.destination,
    )
    label = Scan(
        event_id=_event_id(shipment, "label"),
        tracking_number=number,
        carrier=carrier,
        status=ShipmentStatus.INFO_RECEIVED,
        occurred_at=shipment.ordered_at,
        description="order placed (label)",
        time_zone=shipment.time_zone,
    )
    destination = shipment.destination
    delivered = Scan(
        event_id=_event_id(shipment, "delivered"),
        tracking_number=number,
        carrier=carrier,
        status=ShipmentStatus.DELIVERED,
        occurred_at=shipment.delivered_at,
        description="delivered",
        location=None
        if destination is None
        else Location(region=destination.region, country=destination.country),
        time_zone=shipment.time_zone,
    )
    return order, label, delivered


def write_history(shipments: Iterable[HistoricShipment], folder: Path) -> tuple[Path, Path]:
    """``orders.jsonl`` and ``scans.jsonl`` in publish order: by time, then tracking number."""
    folder.mkdir(parents=True, exist_ok=True)
    orders: list[Order] = []
    scans: list[tuple[datetime, int, str, Scan]] = []
    for shipment in shipments:
        order, label, delivered = shipment_events(shipment)
        orders.append(order)
        scans.append((label.occurred_at, 0, order.tracking_number, label))
        scans.append((delivered.occurred_at, 1, order.tracking_number, delivered))
    orders.sort(key=lambda order: (order.ordered_at, order.tracking_number))
    scans.sort(key=lambda entry: entry[:3])
    orders_path, scans_path = folder / "orders.jsonl", folder / "scans.jsonl"
    orders_path.write_bytes(b"".join(orjson.dumps(to_jsonable(o)) + b"\n" for o in orders))
    scans_path.write_bytes(b"".join(orjson.dumps(to_jsonable(e[3])) + b"\n" for e in scans))
    return orders_path, scans_path
