"""Per-shipment state: the value of the ``shipments`` table.

It is written to the table's changelog topic and read back after a restart or a rebalance, possibly
by a newer parcelwatch, so it is a contract like the topic events: it carries ``state_version`` and
its encoding lives here, beside the other contracts: the stored form (version 4, compact) in
``state_compact.py``, the reading of earlier versions and the readable form (version 3) here.
The table writes that JSON object deflated (``stored_value.py``, the bytes of every table value).

The state is grouped by who writes what, so that a rule copies only its own part (and the few
top-level fields), never the whole state:

* ``order`` (``OrderTerms``): what was ordered and promised; written only by order events.
* ``tracking`` (``TrackingRecord``): what the carrier's scans say (status, scan times, the trail,
  the carrier's estimate); written only by scans.
* ``risk`` (``RiskReading``): what the delay-risk model said at the latest scored scan, and at
  the two moments the live model monitoring compares (pickup, 24 h before the promise); written
  only by the risk rule. Its hysteresis lives with the other alert episodes, in ``outputs``.
* ``outputs`` (``OutputRecord``): what parcelwatch has said about the shipment: the alert episodes
  raised and still open (one alert per episode), every alert kind ever raised, the milestones
  notified, and a bounded log of the alerts raised and notifications published, with their times
  (for the lookup API). Written by the alert, risk and silence rules (through
  ``ShipmentState.with_alert``) and by the follow-up (``ShipmentState.with_sent``).
* ``timer`` (``TimerSchedule``): where and when the silence timer should look again; written by the
  follow-up and by the pipeline, read by the timer's sweep straight from the stored JSON.

Beside them stay the identity (``tracking_number``, and ``carrier``, taken from whichever of
order or scan came first) and ``seen_event_ids``, which every input, order or scan, extends.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from parcelwatch.schemas.codec import to_jsonable
from parcelwatch.schemas.timestamps import parse_rfc3339
from parcelwatch.schemas.types import (
    Alert,
    AlertKind,
    Customer,
    ExceptionReason,
    Item,
    Location,
    NotificationChannel,
    NotificationKind,
    Place,
    PredictedDelivery,
    ShipmentStatus,
)

# Version 4 is compact (schemas/state_compact.py): short keys, defaults left out, times as
# integers. Version 3 (nested, full names) is still read, and is the readable form tools compare
# (``readable_state_json``). Versions 1 and 2 are flat (every field at the top level); they are
# read into the parts, so an upgrade needs no changelog migration. Version 1 lacks only the
# notification bookkeeping (``notified``, ``next_check_at``, ``home_partition``): it is read with
# those empty. An old state is rewritten as version 4 by its shipment's next write.
STATE_VERSION = 4
NESTED_STATE_VERSION = 3
FLAT_STATE_VERSIONS = frozenset({1, 2})
READABLE_STATE_VERSIONS = FLAT_STATE_VERSIONS | {NESTED_STATE_VERSION, STATE_VERSION}

# Bounds keep a table value small however long a shipment's history grows.
MAX_RECENT_SCANS = 20
MAX_EXCEPTIONS = 20
MAX_SEEN_EVENT_IDS = 500
MAX_NOTIFIED = 100
MAX_FEEDBACK_IDS = 100
MAX_ESCALATED = 20  # a shipment has a handful of cases at most (one per reason and episode)
MAX_ORDER_ITEMS = 50  # the first 50 lines of an order: enough to say what is in the parcel
MAX_ALERT_LOG = 50  # the latest alerts raised
MAX_NOTIFICATION_LOG = 50  # the latest notifications published


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
class OrderTerms:
    """From the latest order event: merchants re-send orders when a promise is renegotiated."""

    order_id: str | None = None
    service_level: str | None = None
    ordered_at: datetime | None = None
    promised_by: datetime | None = None
    origin: Place | None = None
    destination: Place | None = None
    customer: Customer | None = None
    # The order's first MAX_ORDER_ITEMS lines. Added within state_version 3: None in states
    # stored before it (not recorded), () when the order listed none.
    items: tuple[Item, ...] | None = None


@dataclass(frozen=True, slots=True)
class TrackingRecord:
    """From the carrier's scans, in whatever order they arrived."""

    status: ShipmentStatus | None = None  # None: no carrier scan yet (label only, or order only)
    status_reason: ExceptionReason | None = None
    status_at: datetime | None = None  # event time of the scan that set ``status``
    first_scan_at: datetime | None = None
    last_scan_at: datetime | None = None  # latest event time of any scan, in or out of order
    delivered_at: datetime | None = None
    estimated_delivery: datetime | None = None  # the carrier's, from its newest scan that gave one
    scan_count: int = 0
    recent_scans: tuple[ScanRecord, ...] = ()  # sorted by occurred_at, newest last
    exception_count: int = 0
    exceptions: tuple[ScanRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class RiskAtMoment:
    """A risk the model issued, kept for the live model monitoring: which version, on which scan
    time."""

    risk: float
    model_version: str
    scan_time: datetime


@dataclass(frozen=True, slots=True)
class RiskReading:
    """The delay-risk model's verdict at the latest scored scan (all None before any)."""

    score: float | None = None
    model_version: str | None = None
    predicted_delivery: PredictedDelivery | None = None
    # The risk at comparable moments of every shipment (streams/core/risk_rules.py says which
    # score each one keeps). Added within state_version 3: states stored before read as None.
    at_pickup: RiskAtMoment | None = None  # the first carrier movement
    before_promise: RiskAtMoment | None = None  # in force 24 h before promised_by


@dataclass(frozen=True, slots=True)
class AlertEntry:
    """One alert raised (published on ``shipment-alerts``), for the lookup API's answer."""

    kind: AlertKind
    alert_id: str
    raised_at: datetime  # when parcelwatch raised it (the processing clock)
    occurred_at: datetime | None = None  # when the trouble began (event time), if known


@dataclass(frozen=True, slots=True)
class NotificationEntry:
    """One notification published on ``customer-notifications``: milestones skipped are not
    logged, and one held for quiet hours is logged when it is actually published."""

    kind: NotificationKind
    milestone: str  # the milestone key (``outputs.notified``)
    notification_id: str
    sent_at: datetime  # when parcelwatch published it (the processing clock)


@dataclass(frozen=True, slots=True)
class OutputRecord:
    """What was raised and told, so that replays and redeliveries raise and tell nothing twice."""

    open_episodes: tuple[tuple[AlertKind, str], ...] = ()  # kind -> id of the opening episode
    # Milestones the customer has been told about (or that were deliberately skipped): one
    # notification per milestone, whatever is redelivered or replayed.
    notified: tuple[str, ...] = ()
    # Every kind ever raised, closed episodes included (sorted, unique): feedback is judged against
    # the whole history, and ``open_episodes`` forgets an episode once it closes. Added within
    # state version 3; states stored without it are read with it empty.
    raised_kinds: tuple[AlertKind, ...] = ()
    # Feedback flagged for this shipment (feedback_id), so a redelivery flags nothing twice.
    # Added within state_version 3: states written before it read as empty.
    feedback_ids: tuple[str, ...] = ()
    # The shipment's outcome records went out on ``model-outcomes`` (one set per shipment, however
    # often its deciding scan is redelivered). Added within state_version 3: absent reads False.
    outcome_recorded: bool = False
    # Support cases opened for this shipment (case_id), so a redelivery or a replay opens none
    # twice. Added within state_version 3: states written before it read as empty.
    escalated: tuple[str, ...] = ()
    # What was said and when, oldest first, bounded (MAX_ALERT_LOG, MAX_NOTIFICATION_LOG), each
    # entry once by its id. Added within state_version 3: states stored before read as empty.
    alert_log: tuple[AlertEntry, ...] = ()
    notification_log: tuple[NotificationEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class TimerSchedule:
    next_check_at: datetime | None = None  # when a timer should look at this shipment again
    # The input partition this state lives on. Timers address their checks to it, so a check
    # finds the state whatever partitioner the scan producers used (librdkafka's default is not
    # the Java client's murmur2).
    home_partition: int | None = None


class Direction(StrEnum):
    OUTBOUND = "outbound"  # to the customer: what every shipment is unless linked as a return
    RETURN = "return"  # a return parcel, on its way back to the merchant


@dataclass(frozen=True, slots=True)
class ReturnOf:
    """The order a return parcel belongs to, and where that order's return state lives."""

    order_id: str
    order_partition: int  # its scans are forwarded there (``return-scans``)
    linked_at: datetime


@dataclass(frozen=True, slots=True)
class ShipmentState:
    tracking_number: str
    carrier: str | None = None
    order: OrderTerms = OrderTerms()
    tracking: TrackingRecord = TrackingRecord()
    risk: RiskReading = RiskReading()
    outputs: OutputRecord = OutputRecord()
    timer: TimerSchedule = TimerSchedule()
    seen_event_ids: tuple[str, ...] = ()  # duplicate detection, orders and scans alike
    # Added within state_version 3 (issue 13): a return parcel is linked to its order by the
    # order's return label. States stored before read as outbound, with no ``return_of``.
    direction: Direction = Direction.OUTBOUND
    return_of: ReturnOf | None = None
    state_version: int = STATE_VERSION

    @property
    def is_return(self) -> bool:
        return self.direction is Direction.RETURN

    def was_notified(self, milestone: str) -> bool:
        return milestone in self.outputs.notified

    def has_seen(self, event_id: str) -> bool:
        return event_id in self.seen_event_ids

    def open_episode(self, kind: AlertKind) -> str | None:
        for open_kind, episode in self.outputs.open_episodes:  # a few pairs: no dict to build
            if open_kind == kind:
                return episode
        return None

    def with_episode(self, kind: AlertKind, episode: str | None) -> ShipmentState:
        """The state with ``kind``'s episode opened (``episode``) or closed (None); opening one
        also records ``kind`` among the kinds ever raised."""
        episodes = {k: v for k, v in self.outputs.open_episodes if k != kind}
        raised = self.outputs.raised_kinds
        if episode is not None:
            episodes[kind] = episode
            raised = tuple(sorted({*raised, kind}))
        outputs = replace(
            self.outputs, open_episodes=tuple(sorted(episodes.items())), raised_kinds=raised
        )
        return replace(self, outputs=outputs)

    def with_alert(self, alert: Alert, episode: str) -> ShipmentState:
        """The state with ``alert`` raised: its episode opened and the alert logged (once: an
        alert id already logged is not logged again). Every rule that raises an alert says so
        through here."""
        state = self.with_episode(alert.kind, episode)
        if any(entry.alert_id == alert.alert_id for entry in self.outputs.alert_log):
            return state
        entry = AlertEntry(alert.kind, alert.alert_id, alert.detected_at, alert.occurred_at)
        # In time order, not in order of raising: a batch raises its risk alerts after all its
        # rule alerts, and must leave the same log as one message at a time.
        log = sorted((*state.outputs.alert_log, entry), key=_raised_then_occurred)
        return replace(state, outputs=replace(state.outputs, alert_log=tuple(log[-MAX_ALERT_LOG:])))

    def with_sent(self, sent: tuple[NotificationEntry, ...]) -> ShipmentState:
        """The state with the notifications ``sent`` logged (each notification id once)."""
        logged = {entry.notification_id for entry in self.outputs.notification_log}
        fresh = tuple(entry for entry in sent if entry.notification_id not in logged)
        if not fresh:
            return self
        log = (*self.outputs.notification_log, *fresh)[-MAX_NOTIFICATION_LOG:]
        return replace(self, outputs=replace(self.outputs, notification_log=log))


def _raised_then_occurred(entry: AlertEntry) -> tuple[datetime, datetime]:
    return entry.raised_at, entry.occurred_at or entry.raised_at


def state_to_json(state: ShipmentState) -> dict[str, Any]:
    """The JSON object stored in the table, version 4 (Faust's json codec turns it into changelog
    bytes)."""
    return _compact.encode_compact(state)


def readable_state_json(state: ShipmentState) -> dict[str, Any]:
    """The state as a version 3 object (nested, every field by its full name): what tools compare
    field by field and people read. ``state_from_json`` reads it back."""
    return {**to_jsonable(state), "state_version": NESTED_STATE_VERSION}


def readable_stored(data: dict[str, Any]) -> dict[str, Any]:
    """A stored state of any readable version as its readable form: version 3 and earlier as they
    are, version 4 decoded (``readable_state_json``)."""
    return readable_state_json(state_from_json(data)) if "v" in data else data


def stored_tracking_number(data: dict[str, Any]) -> str | None:
    """The tracking number of a stored shipment state of any version; None for a value that is
    not one (the table's other rows: an order's feedback, a return, the input ledger)."""
    if "v" in data:
        return data.get("tn")
    return data.get("tracking_number") if "state_version" in data else None


def stored_version(data: dict[str, Any]) -> Any:
    """The ``state_version`` of a stored state (version 4 names it ``v``)."""
    return data.get("v", data.get("state_version"))


def state_from_json(data: dict[str, Any]) -> ShipmentState:
    """A stored state of any readable version, in the current shape."""
    if data.get("v") == STATE_VERSION:
        return _compact.decode_compact(data)
    version = stored_version(data)
    if version not in READABLE_STATE_VERSIONS or version == STATE_VERSION:
        raise UnsupportedStateVersion(
            f"state_version {version!r} (this build reads {sorted(READABLE_STATE_VERSIONS)})"
        )
    if version in FLAT_STATE_VERSIONS:
        data = _nested(data)
    order, tracking, risk = data["order"], data["tracking"], data["risk"]
    outputs, timer = data["outputs"], data["timer"]
    return ShipmentState(
        tracking_number=data["tracking_number"],
        carrier=data["carrier"],
        order=OrderTerms(
            order_id=order["order_id"],
            service_level=order["service_level"],
            ordered_at=_time(order["ordered_at"]),
            promised_by=_time(order["promised_by"]),
            origin=_place(order["origin"]),
            destination=_place(order["destination"]),
            customer=stored_customer(order["customer"]),
            # Additive within version 3: absent (not recorded) from states stored before it.
            items=_items(order.get("items")),
        ),
        tracking=TrackingRecord(
            status=_enum(ShipmentStatus, tracking["status"]),
            status_reason=_enum(ExceptionReason, tracking["status_reason"]),
            status_at=_time(tracking["status_at"]),
            first_scan_at=_time(tracking["first_scan_at"]),
            last_scan_at=_time(tracking["last_scan_at"]),
            delivered_at=_time(tracking["delivered_at"]),
            estimated_delivery=_time(tracking["estimated_delivery"]),
            scan_count=tracking["scan_count"],
            recent_scans=tuple(_scan_record(item) for item in tracking["recent_scans"]),
            exception_count=tracking["exception_count"],
            exceptions=tuple(_scan_record(item) for item in tracking["exceptions"]),
        ),
        risk=RiskReading(
            score=risk["score"],
            model_version=risk["model_version"],
            predicted_delivery=_prediction(risk["predicted_delivery"]),
            # Additive within version 3: absent from states stored before they existed.
            at_pickup=_risk_at_moment(risk.get("at_pickup")),
            before_promise=_risk_at_moment(risk.get("before_promise")),
        ),
        outputs=OutputRecord(
            open_episodes=tuple(
                (AlertKind(kind), episode) for kind, episode in outputs["open_episodes"]
            ),
            notified=tuple(outputs["notified"]),
            # Additive within version 3: absent from states stored before it existed.
            raised_kinds=tuple(AlertKind(kind) for kind in outputs.get("raised_kinds", ())),
            feedback_ids=tuple(outputs.get("feedback_ids", ())),
            outcome_recorded=outputs.get("outcome_recorded", False),
            escalated=tuple(outputs.get("escalated", ())),
            alert_log=tuple(_alert_entry(item) for item in outputs.get("alert_log", ())),
            notification_log=tuple(
                _notification_entry(item) for item in outputs.get("notification_log", ())
            ),
        ),
        timer=TimerSchedule(
            next_check_at=_time(timer["next_check_at"]),
            home_partition=timer["home_partition"],
        ),
        seen_event_ids=tuple(data["seen_event_ids"]),
        direction=Direction(data.get("direction", Direction.OUTBOUND)),
        return_of=_return_of(data.get("return_of")),
    )


def _return_of(value: dict[str, Any] | None) -> ReturnOf | None:
    if value is None:
        return None
    return ReturnOf(value["order_id"], value["order_partition"], parse_rfc3339(value["linked_at"]))


def stored_timer(data: dict[str, Any]) -> tuple[str | None, int | None]:
    """``next_check_at`` (as RFC 3339 text) and ``home_partition`` of a stored state of any
    readable version, read without decoding the rest: the timer's sweep looks at every row."""
    if "v" in data:  # version 4: the timer is at the top level
        check = data.get("ck")
        due = None if check is None else _compact.time_of(check, data.get("z", 0)).isoformat()
        return due, data.get("hp")
    timer = data.get("timer")
    if timer is None:  # a flat state (version 1 or 2)
        return data.get("next_check_at"), data.get("home_partition")
    return timer["next_check_at"], timer["home_partition"]


def stored_due(data: dict[str, Any]) -> datetime | None:
    """``next_check_at`` of a stored state of any readable version, as a time: the sweep's test of
    every row (a version 4 time is an integer, so no text is parsed)."""
    if "v" in data:
        check = data.get("ck")
        return None if check is None else _compact.time_of(check, data.get("z", 0))
    text, _ = stored_timer(data)
    return None if text is None else parse_rfc3339(text)


def stored_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A stored state's fields by dotted name (``"order.promised_by"``), for comparing states
    field by field. A version 4 state is named as its readable form (``readable_state_json``)."""
    fields: dict[str, Any] = {}
    for name, value in readable_stored(data).items():
        if isinstance(value, dict):  # a part
            fields.update({f"{name}.{inner}": item for inner, item in value.items()})
        else:
            fields[name] = value
    return fields


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    """A flat (version 1 or 2) stored state in the current shape. ``raised_alert_ids`` and
    ``updated_at``, written but never read, are dropped."""
    return {
        "tracking_number": flat["tracking_number"],
        "carrier": flat["carrier"],
        "order": {name: flat[name] for name in OrderTerms.__slots__ if name != "items"},
        "tracking": {name: flat[name] for name in TrackingRecord.__slots__},
        "risk": {
            "score": flat.get("risk"),
            "model_version": flat.get("risk_model_version"),
            "predicted_delivery": flat.get("predicted_delivery"),
        },
        "outputs": {"open_episodes": flat["open_episodes"], "notified": flat.get("notified", [])},
        "timer": {
            "next_check_at": flat.get("next_check_at"),
            "home_partition": flat.get("home_partition"),
        },
        "seen_event_ids": flat["seen_event_ids"],
    }


def _time(value: str | None) -> datetime | None:
    return None if value is None else parse_rfc3339(value)


def _enum(kind: Any, value: str | None) -> Any:
    return None if value is None else kind(value)


def _place(value: dict[str, Any] | None) -> Place | None:
    return None if value is None else Place(**value)


def stored_customer(value: dict[str, Any] | None) -> Customer | None:
    """A customer as stored in a table value (written by ``to_jsonable``)."""
    if value is None:
        return None
    channels = tuple(NotificationChannel(channel) for channel in value["channels"])
    return Customer(
        id=value["id"], locale=value["locale"], timezone=value["timezone"], channels=channels
    )


def _items(value: list[dict[str, Any]] | None) -> tuple[Item, ...] | None:
    return None if value is None else tuple(Item(**item) for item in value)


def _alert_entry(value: dict[str, Any]) -> AlertEntry:
    return AlertEntry(
        kind=AlertKind(value["kind"]),
        alert_id=value["alert_id"],
        raised_at=parse_rfc3339(value["raised_at"]),
        occurred_at=_time(value["occurred_at"]),
    )


def _notification_entry(value: dict[str, Any]) -> NotificationEntry:
    return NotificationEntry(
        kind=NotificationKind(value["kind"]),
        milestone=value["milestone"],
        notification_id=value["notification_id"],
        sent_at=parse_rfc3339(value["sent_at"]),
    )


def _prediction(value: dict[str, str] | None) -> PredictedDelivery | None:
    if value is None:
        return None
    return PredictedDelivery(
        expected=parse_rfc3339(value["expected"]),
        earliest=parse_rfc3339(value["earliest"]),
        latest=parse_rfc3339(value["latest"]),
    )


def _risk_at_moment(value: dict[str, Any] | None) -> RiskAtMoment | None:
    if value is None:
        return None
    return RiskAtMoment(
        risk=value["risk"],
        model_version=value["model_version"],
        scan_time=parse_rfc3339(value["scan_time"]),
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


# At the bottom: the compact codec reads this module's dataclasses (a module import, so that either
# module may be imported first).
from parcelwatch.schemas import state_compact as _compact  # noqa: E402
