"""Per-shipment state: the value of the ``shipments`` table.

It is written to the table's changelog topic and read back after a restart or a rebalance, possibly
by a newer parcelwatch, so it is a contract like the topic events: it carries ``state_version`` and
its encoding lives here, beside the other contracts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from parcelwatch.schemas.codec import to_jsonable
from parcelwatch.schemas.timestamps import parse_rfc3339
from parcelwatch.schemas.types import (
    AlertKind,
    Customer,
    ExceptionReason,
    Location,
    NotificationChannel,
    Place,
    PredictedDelivery,
    ShipmentStatus,
)

STATE_VERSION = 2
# Version 1 lacks only the notification bookkeeping (``notified``, ``next_check_at``,
# ``home_partition``): it is read with those empty, so an upgrade needs no changelog migration.
READABLE_STATE_VERSIONS = frozenset({1, STATE_VERSION})

# Bounds keep a table value small however long a shipment's history grows.
MAX_RECENT_SCANS = 20
MAX_EXCEPTIONS = 20
MAX_SEEN_EVENT_IDS = 500
MAX_RAISED_ALERT_IDS = 100
MAX_NOTIFIED = 100


class UnsupportedStateVersion(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ScanRecord:
    """What the trail keeps of one scan."""

    event_id: str
    status: ShipmentStatus
    occurred_at: datetime
    reason: ExceptionReason | None = None
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class ShipmentState:
    tracking_number: str
    carrier: str | None = None
    # From the order
    order_id: str | None = None
    service_level: str | None = None
    ordered_at: datetime | None = None
    promised_by: datetime | None = None
    origin: Place | None = None
    destination: Place | None = None
    customer: Customer | None = None
    # From the scans
    status: ShipmentStatus | None = None  # None: no carrier scan yet (label only, or order only)
    status_reason: ExceptionReason | None = None
    status_at: datetime | None = None  # event time of the scan that set ``status``
    first_scan_at: datetime | None = None
    last_scan_at: datetime | None = None  # latest event time of any scan, in or out of order
    delivered_at: datetime | None = None
    estimated_delivery: datetime | None = None
    scan_count: int = 0
    recent_scans: tuple[ScanRecord, ...] = ()  # sorted by occurred_at, newest last
    exception_count: int = 0
    exceptions: tuple[ScanRecord, ...] = ()
    # From the delay-risk model, at the latest scored scan
    risk: float | None = None
    risk_model_version: str | None = None
    predicted_delivery: PredictedDelivery | None = None
    # Bookkeeping for exactly-one-alert-per-episode and duplicate detection
    seen_event_ids: tuple[str, ...] = ()
    open_episodes: tuple[tuple[AlertKind, str], ...] = ()  # kind -> id of the opening episode
    raised_alert_ids: tuple[str, ...] = ()
    # Milestones the customer has been told about (or that were deliberately skipped): one
    # notification per milestone, whatever is redelivered or replayed.
    notified: tuple[str, ...] = ()
    next_check_at: datetime | None = None  # when a timer should look at this shipment again
    # The input partition this state lives on. Timers address their checks to it, so a check
    # finds the state whatever partitioner the scan producers used (librdkafka's default is not
    # the Java client's murmur2).
    home_partition: int | None = None
    updated_at: datetime | None = None  # processing time of the last applied input
    state_version: int = field(default=STATE_VERSION)

    def was_notified(self, milestone: str) -> bool:
        return milestone in self.notified

    def has_seen(self, event_id: str) -> bool:
        return event_id in self.seen_event_ids

    def open_episode(self, kind: AlertKind) -> str | None:
        return dict(self.open_episodes).get(kind)

    def with_episode(self, kind: AlertKind, episode: str | None) -> ShipmentState:
        episodes = {k: v for k, v in self.open_episodes if k != kind}
        if episode is not None:
            episodes[kind] = episode
        return replace(self, open_episodes=tuple(sorted(episodes.items())))


def state_to_json(state: ShipmentState) -> dict[str, Any]:
    """The JSON object stored in the table (Faust's json codec turns it into changelog bytes)."""
    return to_jsonable(state)


def state_from_json(data: dict[str, Any]) -> ShipmentState:
    version = data.get("state_version")
    if version not in READABLE_STATE_VERSIONS:
        raise UnsupportedStateVersion(
            f"state_version {version!r} (this build reads {sorted(READABLE_STATE_VERSIONS)})"
        )
    return ShipmentState(
        tracking_number=data["tracking_number"],
        carrier=data["carrier"],
        order_id=data["order_id"],
        service_level=data["service_level"],
        ordered_at=_time(data["ordered_at"]),
        promised_by=_time(data["promised_by"]),
        origin=_place(data["origin"]),
        destination=_place(data["destination"]),
        customer=_customer(data["customer"]),
        status=_enum(ShipmentStatus, data["status"]),
        status_reason=_enum(ExceptionReason, data["status_reason"]),
        status_at=_time(data["status_at"]),
        first_scan_at=_time(data["first_scan_at"]),
        last_scan_at=_time(data["last_scan_at"]),
        delivered_at=_time(data["delivered_at"]),
        estimated_delivery=_time(data["estimated_delivery"]),
        scan_count=data["scan_count"],
        recent_scans=tuple(_scan_record(item) for item in data["recent_scans"]),
        exception_count=data["exception_count"],
        exceptions=tuple(_scan_record(item) for item in data["exceptions"]),
        risk=data.get("risk"),
        risk_model_version=data.get("risk_model_version"),
        predicted_delivery=_prediction(data.get("predicted_delivery")),
        seen_event_ids=tuple(data["seen_event_ids"]),
        open_episodes=tuple((AlertKind(kind), episode) for kind, episode in data["open_episodes"]),
        raised_alert_ids=tuple(data["raised_alert_ids"]),
        notified=tuple(data.get("notified", ())),
        next_check_at=_time(data.get("next_check_at")),
        home_partition=data.get("home_partition"),
        updated_at=_time(data["updated_at"]),
    )


def _time(value: str | None) -> datetime | None:
    return None if value is None else parse_rfc3339(value)


def _enum(kind: Any, value: str | None) -> Any:
    return None if value is None else kind(value)


def _place(value: dict[str, Any] | None) -> Place | None:
    return None if value is None else Place(**value)


def _customer(value: dict[str, Any] | None) -> Customer | None:
    if value is None:
        return None
    channels = tuple(NotificationChannel(channel) for channel in value["channels"])
    return Customer(
        id=value["id"], locale=value["locale"], timezone=value["timezone"], channels=channels
    )


def _prediction(value: dict[str, str] | None) -> PredictedDelivery | None:
    if value is None:
        return None
    return PredictedDelivery(
        expected=parse_rfc3339(value["expected"]),
        earliest=parse_rfc3339(value["earliest"]),
        latest=parse_rfc3339(value["latest"]),
    )


def _scan_record(value: dict[str, Any]) -> ScanRecord:
    location = value["location"]
    return ScanRecord(
        event_id=value["event_id"],
        status=ShipmentStatus(value["status"]),
        occurred_at=parse_rfc3339(value["occurred_at"]),
        reason=_enum(ExceptionReason, value["reason"]),
        location=None if location is None else Location(**location),
    )
