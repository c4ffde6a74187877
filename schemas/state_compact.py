"""State version 4: the compact stored form of ``ShipmentState`` (hand-written, no reflection).

Version 3 stored every field under its full name, nulls and empty lists included, and every time
as RFC 3339 text: 3.5 KB per shipment on the simulator's mix, and a generic encoder that took
longer than the rules. Version 4 stores the same information, exactly (the round trip gives an
equal state, offsets and microseconds included), in about a quarter of the bytes:

* short keys (the table below), and a field equal to its default (None, empty, 0, False,
  outbound) is left out; a part with nothing in it is left out;
* a time is an integer, seconds since the epoch, when its offset is the state's zone ``z``
  (minutes east of UTC; absent: 0) and it has whole seconds; else ``[seconds, offset minutes]``
  or ``[seconds, offset minutes, microseconds]``; an offset that is not whole minutes (never
  parsed from RFC 3339) is kept as ISO 8601 text (``+00:00:30``). ``z`` is the offset of the
  newest scan (else of the promise, else UTC): a shipment's scans and promise mostly share one
  zone;
* small records are arrays in their dataclass's field order, trailing nulls cut;
* an event id that begins with the shipment's tracking number (the carriers' usual scheme) is
  stored as ``~`` and the rest; an id that itself begins with ``~`` is wrapped in an array;
* a notification id that is parcelwatch's deterministic one (``deterministic_id("notification",
  tracking number, milestone)``, fixed by this contract whatever the rules do later) is left out;
* a scan's location equal to the previous scan's in the same list is ``0``.

Top level: ``v`` 4, ``tn`` tracking number, ``c`` carrier, ``z`` zone, ``o`` order, ``t``
tracking, ``r`` risk, ``out`` outputs, ``ck`` next check (time), ``hp`` home partition, ``seen``
event ids, ``d`` direction (``"return"``; absent: outbound), ``ret`` return of ``[order id,
partition, linked at]``. The timer stays at the top level so that the sweep reads it without the
rest.

* ``o``: ``id`` order id, ``sl`` service level, ``at`` ordered at, ``by`` promised by, ``from``
  and ``to`` places ``[postal code, region, country]``, ``cu`` customer ``[id, locale, timezone,
  [channels]]``, ``it`` items ``[[sku, quantity, category]]`` (``[]``: the order listed none;
  absent: not recorded);
* ``t``: ``st`` status (by its code, ``STATUS_CODES``: ``it`` is ``in_transit``), ``sr`` status
  reason, ``sa`` status at, ``fs`` first scan, ``ls`` last scan, ``da`` delivered at, ``ed``
  estimated delivery, ``n`` scan count, ``sc`` recent scans and ``x`` exceptions as ``[event id,
  status code, time, location, reason]`` with a location ``[city, region, postal code,
  country]``, ``xn`` exception count;
* ``r``: ``s`` score, ``mv`` model version, ``pd`` predicted delivery ``[expected, earliest,
  latest]``, ``ap`` at pickup and ``bp`` before promise ``[risk, model version, scan time]``;
* ``out``: ``ep`` open episodes ``[[kind, episode]]``, ``nf`` notified, ``rk`` raised kinds,
  ``fb`` feedback ids, ``oc`` outcome recorded (``1``), ``es`` escalated, ``al`` alert log
  ``[[kind, alert id, raised at, occurred at]]``, ``nl`` notification log ``[[kind, sent at,
  milestone, notification id]]`` (milestone null when it is the kind's value, and trailing nulls
  cut).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from parcelwatch.schemas.ids import deterministic_id
from parcelwatch.schemas.state import (
    AlertEntry,
    Direction,
    NotificationEntry,
    OrderTerms,
    OutputRecord,
    ReturnOf,
    RiskAtMoment,
    RiskReading,
    ScanRecord,
    ShipmentState,
    TimerSchedule,
    TrackingRecord,
)
from parcelwatch.schemas.types import (
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

COMPACT_STATE_VERSION = 4
ID_MARK = "~"  # "~-s3" is the tracking number followed by "-s3"
SAME_LOCATION = 0  # a scan's location: the previous scan's in the same list

# Scan statuses, the most repeated words of a state, by two-letter code. Fixed by the contract: a
# status added later has no code and is stored by its value, which is read as well.
STATUS_CODES = {
    ShipmentStatus.INFO_RECEIVED: "ir",
    ShipmentStatus.PICKED_UP: "pu",
    ShipmentStatus.IN_TRANSIT: "it",
    ShipmentStatus.OUT_FOR_DELIVERY: "od",
    ShipmentStatus.AVAILABLE_FOR_PICKUP: "ap",
    ShipmentStatus.DELIVERED: "dl",
    ShipmentStatus.ATTEMPT_FAILED: "af",
    ShipmentStatus.EXCEPTION: "ex",
    ShipmentStatus.RETURNING_TO_SENDER: "rs",
    ShipmentStatus.RETURNED_TO_SENDER: "rd",
    ShipmentStatus.CANCELLED: "cx",
    ShipmentStatus.UNKNOWN: "uk",
}
_STATUS_CODE = {status: STATUS_CODES.get(status, status.value) for status in ShipmentStatus}
# Enumerations by stored text: a dict lookup is several times cheaper than calling the enum class.
_STATUS = {**{m.value: m for m in ShipmentStatus}, **{c: m for m, c in STATUS_CODES.items()}}
_REASON = {member.value: member for member in ExceptionReason}
_ALERT = {member.value: member for member in AlertKind}
_NOTIFICATION = {member.value: member for member in NotificationKind}
_CHANNEL = {member.value: member for member in NotificationChannel}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ZONES: dict[int, timezone] = {0: UTC}  # offset minutes -> zone, for decoding
_MINUTES: dict[Any, int] = {UTC: 0}  # fixed zone -> offset minutes, for encoding


@lru_cache(maxsize=16_384)  # a shipment's few ids, derived on each of its writes and reads
def notification_id_of(tracking_number: str, milestone: str) -> str:
    """The notification id version 4 leaves out (it is derived again on reading)."""
    return deterministic_id("notification", tracking_number, milestone)


# ---------------------------------------------------------------------------------------------
# Encoding


class _Writer:
    """One state's encoding: its tracking number and zone, which ids and times are relative to."""

    __slots__ = ("tn", "zone")

    def __init__(self, tn: str, zone: int) -> None:
        self.tn = tn
        self.zone = zone

    def time(self, moment: datetime) -> int | list[int] | str:
        minutes = _MINUTES.get(moment.tzinfo)
        if minutes is None:
            minutes = _offset_minutes(moment)
            if minutes is None:
                return moment.isoformat()
        if moment.microsecond:
            delta = moment - _EPOCH
            return [delta.days * 86400 + delta.seconds, minutes, delta.microseconds]
        delta = moment - _EPOCH
        seconds = delta.days * 86400 + delta.seconds
        return seconds if minutes == self.zone else [seconds, minutes]

    def event_id(self, event_id: str) -> str | list[str]:
        tn = self.tn
        if tn and event_id.startswith(tn):
            return ID_MARK + event_id[len(tn) :]
        if event_id.startswith(ID_MARK):
            return [event_id]
        return event_id

    def scans(self, records: tuple[ScanRecord, ...]) -> list[list[Any]]:
        stored: list[list[Any]] = []
        previous: Location | None = None
        for record in records:
            item = [
                self.event_id(record.event_id),
                _STATUS_CODE[record.status],
                self.time(record.occurred_at),
            ]
            location, reason = record.location, record.reason
            if location is not None:
                if location == previous:
                    item.append(SAME_LOCATION)
                else:
                    item.append(
                        _trimmed(
                            [location.city, location.region, location.postal_code, location.country]
                        )
                    )
            elif reason is not None:
                item.append(None)
            if reason is not None:
                item.append(reason.value)
            previous = location
            stored.append(item)
        return stored


def encode_compact(state: ShipmentState) -> dict[str, Any]:
    tn = state.tracking_number
    zone = _zone_of(state)
    out = _Writer(tn, zone)
    data: dict[str, Any] = {"v": COMPACT_STATE_VERSION, "tn": tn}
    if state.carrier is not None:
        data["c"] = state.carrier
    if zone:
        data["z"] = zone
    _put(data, "o", _order(state.order, out))
    _put(data, "t", _tracking(state.tracking, out))
    _put(data, "r", _risk(state.risk, out))
    _put(data, "out", _outputs(state.outputs, out))
    timer = state.timer
    if timer.next_check_at is not None:
        data["ck"] = out.time(timer.next_check_at)
    if timer.home_partition is not None:
        data["hp"] = timer.home_partition
    if state.seen_event_ids:
        data["seen"] = [out.event_id(event_id) for event_id in state.seen_event_ids]
    if state.direction is not Direction.OUTBOUND:
        data["d"] = state.direction.value
    if state.return_of is not None:
        link = state.return_of
        data["ret"] = [link.order_id, link.order_partition, out.time(link.linked_at)]
    return data


def _zone_of(state: ShipmentState) -> int:
    scans = state.tracking.recent_scans
    moment = scans[-1].occurred_at if scans else state.order.promised_by
    if moment is None:
        return 0
    minutes = _MINUTES.get(moment.tzinfo)
    if minutes is None:
        minutes = _offset_minutes(moment)
    return minutes or 0


def _offset_minutes(moment: datetime) -> int | None:
    """The offset in whole minutes (remembered for fixed zones), or None if it is not whole."""
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("refusing to store a naive datetime")
    minutes, rest = divmod(offset.days * 86400 + offset.seconds, 60)
    if rest:
        return None
    if isinstance(moment.tzinfo, timezone):
        _MINUTES[moment.tzinfo] = minutes
    return minutes


def _put(data: dict[str, Any], key: str, part: dict[str, Any]) -> None:
    if part:
        data[key] = part


def _trimmed(values: list[Any]) -> list[Any]:
    while values and values[-1] is None:
        values.pop()
    return values


def _order(order: OrderTerms, out: _Writer) -> dict[str, Any]:
    part: dict[str, Any] = {}
    if order.order_id is not None:
        part["id"] = order.order_id
    if order.service_level is not None:
        part["sl"] = order.service_level
    if order.ordered_at is not None:
        part["at"] = out.time(order.ordered_at)
    if order.promised_by is not None:
        part["by"] = out.time(order.promised_by)
    if order.origin is not None:
        part["from"] = _place(order.origin)
    if order.destination is not None:
        part["to"] = _place(order.destination)
    if order.customer is not None:
        customer = order.customer
        channels = [channel.value for channel in customer.channels] or None
        part["cu"] = _trimmed([customer.id, customer.locale, customer.timezone, channels])
    if order.items is not None:
        part["it"] = [_trimmed([item.sku, item.quantity, item.category]) for item in order.items]
    return part


def _place(place: Place) -> list[Any]:
    return _trimmed([place.postal_code, place.region, place.country])


def _tracking(tracking: TrackingRecord, out: _Writer) -> dict[str, Any]:
    part: dict[str, Any] = {}
    if tracking.status is not None:
        part["st"] = _STATUS_CODE[tracking.status]
    if tracking.status_reason is not None:
        part["sr"] = tracking.status_reason.value
    for key, moment in (
        ("sa", tracking.status_at),
        ("fs", tracking.first_scan_at),
        ("ls", tracking.last_scan_at),
        ("da", tracking.delivered_at),
        ("ed", tracking.estimated_delivery),
    ):
        if moment is not None:
            part[key] = out.time(moment)
    if tracking.scan_count:
        part["n"] = tracking.scan_count
    if tracking.recent_scans:
        part["sc"] = out.scans(tracking.recent_scans)
    if tracking.exception_count:
        part["xn"] = tracking.exception_count
    if tracking.exceptions:
        part["x"] = out.scans(tracking.exceptions)
    return part


def _risk(risk: RiskReading, out: _Writer) -> dict[str, Any]:
    part: dict[str, Any] = {}
    if risk.score is not None:
        part["s"] = risk.score
    if risk.model_version is not None:
        part["mv"] = risk.model_version
    if risk.predicted_delivery is not None:
        prediction = risk.predicted_delivery
        part["pd"] = [
            out.time(prediction.expected),
            out.time(prediction.earliest),
            out.time(prediction.latest),
        ]
    for key, moment in (("ap", risk.at_pickup), ("bp", risk.before_promise)):
        if moment is not None:
            part[key] = [moment.risk, moment.model_version, out.time(moment.scan_time)]
    return part


def _outputs(outputs: OutputRecord, out: _Writer) -> dict[str, Any]:
    part: dict[str, Any] = {}
    if outputs.open_episodes:
        part["ep"] = [[kind.value, episode] for kind, episode in outputs.open_episodes]
    if outputs.notified:
        part["nf"] = list(outputs.notified)
    if outputs.raised_kinds:
        part["rk"] = [kind.value for kind in outputs.raised_kinds]
    if outputs.feedback_ids:
        part["fb"] = list(outputs.feedback_ids)
    if outputs.outcome_recorded:
        part["oc"] = 1
    if outputs.escalated:
        part["es"] = list(outputs.escalated)
    if outputs.alert_log:
        part["al"] = [
            _trimmed(
                [
                    entry.kind.value,
                    entry.alert_id,
                    out.time(entry.raised_at),
                    None if entry.occurred_at is None else out.time(entry.occurred_at),
                ]
            )
            for entry in outputs.alert_log
        ]
    if outputs.notification_log:
        part["nl"] = [_notification(entry, out) for entry in outputs.notification_log]
    return part


def _notification(entry: NotificationEntry, out: _Writer) -> list[Any]:
    milestone = entry.milestone
    derived = entry.notification_id == notification_id_of(out.tn, milestone)
    return _trimmed(
        [
            entry.kind.value,
            out.time(entry.sent_at),
            None if milestone == entry.kind.value else milestone,
            None if derived else entry.notification_id,
        ]
    )


# ---------------------------------------------------------------------------------------------
# Decoding


class _Reader:
    """One stored state's decoding: its tracking number and zone."""

    __slots__ = ("tn", "zone")

    def __init__(self, tn: str, zone: timezone) -> None:
        self.tn = tn
        self.zone = zone

    def time(self, value: int | list[int] | str) -> datetime:
        if isinstance(value, int):
            return datetime.fromtimestamp(value, self.zone)
        return _explicit_time(value)

    def optional_time(self, value: Any) -> datetime | None:
        return None if value is None else self.time(value)

    def event_id(self, value: str | list[str]) -> str:
        if isinstance(value, list):
            return value[0]
        return self.tn + value[1:] if value.startswith(ID_MARK) else value

    def scans(self, stored: list[list[Any]]) -> tuple[ScanRecord, ...]:
        records: list[ScanRecord] = []
        previous: Location | None = None
        for item in stored:
            size = len(item)
            location = item[3] if size > 3 else None
            if location == SAME_LOCATION:
                location = previous
            elif location is not None:
                location = Location(*location)
            reason = item[4] if size > 4 else None
            records.append(
                ScanRecord(
                    event_id=self.event_id(item[0]),
                    status=_STATUS[item[1]],
                    occurred_at=self.time(item[2]),
                    reason=None if reason is None else _REASON[reason],
                    location=location,
                )
            )
            previous = location
        return tuple(records)


def time_of(value: int | list[int] | str, zone: int = 0) -> datetime:
    """A stored version 4 time, in a state of zone ``zone`` (offset minutes)."""
    if isinstance(value, int):
        return datetime.fromtimestamp(value, _zone(zone))
    return _explicit_time(value)


def _explicit_time(value: list[int] | str) -> datetime:
    if isinstance(value, str):  # our own isoformat: fromisoformat reads offsets with seconds too
        return datetime.fromisoformat(value)
    seconds, minutes, *micros = value
    moment = datetime.fromtimestamp(seconds, _zone(minutes))
    return moment.replace(microsecond=micros[0]) if micros else moment


def _zone(minutes: int) -> timezone:
    zone = _ZONES.get(minutes)
    if zone is None:
        zone = _ZONES.setdefault(minutes, timezone(timedelta(minutes=minutes)))
    return zone


def decode_compact(data: dict[str, Any]) -> ShipmentState:
    tn = data["tn"]
    read = _Reader(tn, _zone(data.get("z", 0)))
    order, tracking = data.get("o"), data.get("t")
    risk, outputs = data.get("r"), data.get("out")
    check, link = data.get("ck"), data.get("ret")
    return ShipmentState(
        tracking_number=tn,
        carrier=data.get("c"),
        order=OrderTerms() if order is None else _order_terms(order, read),
        tracking=TrackingRecord() if tracking is None else _tracking_record(tracking, read),
        risk=RiskReading() if risk is None else _risk_reading(risk, read),
        outputs=OutputRecord() if outputs is None else _output_record(outputs, read),
        timer=TimerSchedule(next_check_at=read.optional_time(check), home_partition=data.get("hp")),
        seen_event_ids=tuple(read.event_id(item) for item in data.get("seen", ())),
        direction=Direction(data["d"]) if "d" in data else Direction.OUTBOUND,
        return_of=None if link is None else ReturnOf(link[0], link[1], read.time(link[2])),
    )


def _padded(values: list[Any], size: int) -> list[Any]:
    return values + [None] * (size - len(values)) if len(values) < size else values


def _order_terms(part: dict[str, Any], read: _Reader) -> OrderTerms:
    origin, destination = part.get("from"), part.get("to")
    customer, items = part.get("cu"), part.get("it")
    return OrderTerms(
        order_id=part.get("id"),
        service_level=part.get("sl"),
        ordered_at=read.optional_time(part.get("at")),
        promised_by=read.optional_time(part.get("by")),
        origin=None if origin is None else Place(*origin),
        destination=None if destination is None else Place(*destination),
        customer=None if customer is None else _customer(customer),
        items=None if items is None else tuple(Item(*item) for item in items),
    )


def _customer(value: list[Any]) -> Customer:
    customer_id, locale, zone, channels = _padded(value, 4)
    return Customer(
        id=customer_id,
        locale=locale,
        timezone=zone,
        channels=tuple(_CHANNEL[channel] for channel in channels or ()),
    )


def _tracking_record(part: dict[str, Any], read: _Reader) -> TrackingRecord:
    status, reason = part.get("st"), part.get("sr")
    return TrackingRecord(
        status=None if status is None else _STATUS[status],
        status_reason=None if reason is None else _REASON[reason],
        status_at=read.optional_time(part.get("sa")),
        first_scan_at=read.optional_time(part.get("fs")),
        last_scan_at=read.optional_time(part.get("ls")),
        delivered_at=read.optional_time(part.get("da")),
        estimated_delivery=read.optional_time(part.get("ed")),
        scan_count=part.get("n", 0),
        recent_scans=read.scans(part.get("sc", ())),
        exception_count=part.get("xn", 0),
        exceptions=read.scans(part.get("x", ())),
    )


def _risk_reading(part: dict[str, Any], read: _Reader) -> RiskReading:
    prediction, at_pickup, before_promise = part.get("pd"), part.get("ap"), part.get("bp")
    return RiskReading(
        score=part.get("s"),
        model_version=part.get("mv"),
        predicted_delivery=None
        if prediction is None
        else PredictedDelivery(*(read.time(item) for item in prediction)),
        at_pickup=None if at_pickup is None else _risk_at_moment(at_pickup, read),
        before_promise=None if before_promise is None else _risk_at_moment(before_promise, read),
    )


def _risk_at_moment(value: list[Any], read: _Reader) -> RiskAtMoment:
    return RiskAtMoment(risk=value[0], model_version=value[1], scan_time=read.time(value[2]))


def _output_record(part: dict[str, Any], read: _Reader) -> OutputRecord:
    return OutputRecord(
        open_episodes=tuple((_ALERT[kind], episode) for kind, episode in part.get("ep", ())),
        notified=tuple(part.get("nf", ())),
        raised_kinds=tuple(_ALERT[kind] for kind in part.get("rk", ())),
        feedback_ids=tuple(part.get("fb", ())),
        outcome_recorded=bool(part.get("oc", False)),
        escalated=tuple(part.get("es", ())),
        alert_log=tuple(_alert_entry(item, read) for item in part.get("al", ())),
        notification_log=tuple(_notification_entry(item, read) for item in part.get("nl", ())),
    )


def _alert_entry(value: list[Any], read: _Reader) -> AlertEntry:
    kind, alert_id, raised_at, occurred_at = _padded(value, 4)
    return AlertEntry(_ALERT[kind], alert_id, read.time(raised_at), read.optional_time(occurred_at))


def _notification_entry(value: list[Any], read: _Reader) -> NotificationEntry:
    kind_value, sent_at, milestone, notification_id = _padded(value, 4)
    milestone = kind_value if milestone is None else milestone
    if notification_id is None:
        notification_id = notification_id_of(read.tn, milestone)
    return NotificationEntry(
        _NOTIFICATION[kind_value], milestone, notification_id, read.time(sent_at)
    )
