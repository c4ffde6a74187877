"""Python types of the topic contracts.

The JSON Schema files in ``schemas/json/`` are the contract for consumers in any language; these
dataclasses are the same contract for parcelwatch itself. ``tests/schemas/test_schema_sync.py``
keeps
the two in step (field names, required fields, enumerations, and verdicts on sample events).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

SCHEMA_VERSION = 1
MAX_CLOCK_SKEW_HOURS = 366 * 24.0  # the cap on Limits.max_clock_skew_hours


class ShipmentStatus(StrEnum):
    """Normalised tracking status (the union of the AfterShip / EasyPost / karrio top levels)."""

    INFO_RECEIVED = "info_received"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    ATTEMPT_FAILED = "attempt_failed"
    EXCEPTION = "exception"
    RETURNING_TO_SENDER = "returning_to_sender"
    RETURNED_TO_SENDER = "returned_to_sender"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


# Final outcomes: once a shipment reaches one, no later scan changes its status and there is
# nothing left to predict.
SETTLED_STATUSES = frozenset(
    {ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED_TO_SENDER, ShipmentStatus.CANCELLED}
)


class ExceptionReason(StrEnum):
    """Why a shipment is delayed, failed or in exception (carrier codes are mapped onto these)."""

    WEATHER_DELAY = "weather_delay"
    CARRIER_DELAY = "carrier_delay"
    CUSTOMS_DELAY = "customs_delay"
    ADDRESS_ISSUE = "address_issue"
    RECIPIENT_UNAVAILABLE = "recipient_unavailable"
    REFUSED = "refused"
    DAMAGED = "damaged"
    LOST = "lost"
    HELD_FOR_PAYMENT = "held_for_payment"
    MISSORTED = "missorted"
    OTHER = "other"


class AlertKind(StrEnum):
    CARRIER_EXCEPTION = "carrier_exception"
    ATTEMPT_FAILED = "attempt_failed"
    RETURNED = "returned"
    MISSED_PROMISE = "missed_promise"
    DELAY_RISK = "delay_risk"
    # Silences, found by timers rather than by a scan (added within schema_version 1)
    FORGOTTEN = "forgotten"  # label created, no carrier pickup
    STALLED = "stalled"  # in transit, no scan for too long
    EXPIRED = "expired"  # no update at all for a long time: tracking has gone dead
    # Returns and refunds, about an order rather than one shipment (added within schema_version 1)
    REFUND_FAILED = "refund_failed"  # the payment provider could not pay the refund
    REFUND_OVERDUE = "refund_overdue"  # the return arrived; no refund followed in time
    RETURN_STALLED = "return_stalled"  # the return parcel went silent on its way back


RETURN_ALERT_KINDS = frozenset(
    {AlertKind.REFUND_FAILED, AlertKind.REFUND_OVERDUE, AlertKind.RETURN_STALLED}
)


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class DeadLetterReason(StrEnum):
    """Short codes for why an input message could not be applied."""

    PAYLOAD_TOO_LARGE = "payload_too_large"
    MALFORMED_JSON = "malformed_json"
    NOT_AN_OBJECT = "not_an_object"
    UNSUPPORTED_SCHEMA_VERSION = "unsupported_schema_version"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    INVALID_VALUE = "invalid_value"
    UNKNOWN_STATUS = "unknown_status"
    UNKNOWN_REASON = "unknown_reason"
    INVALID_TIMESTAMP = "invalid_timestamp"
    IMPOSSIBLE_TIMESTAMP = "impossible_timestamp"
    KEY_MISMATCH = "key_mismatch"
    UNKNOWN_TOPIC = "unknown_topic"
    PROCESSING_ERROR = "processing_error"  # a parcelwatch bug: kept here to replay once fixed


class NotificationKind(StrEnum):
    """What a customer notification is about (``customer-notifications``)."""

    ORDER_CONFIRMED = "order_confirmed"
    SHIPPED = "shipped"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    ATTEMPT_FAILED = "attempt_failed"
    EXCEPTION = "exception"
    DELAYED = "delayed"
    REVIEW_REQUEST = "review_request"
    # Returns and refunds (added within schema_version 1): one of each per order
    RETURN_LABEL_READY = "return_label_ready"
    RETURN_IN_TRANSIT = "return_in_transit"
    RETURN_RECEIVED = "return_received"
    REFUND_ISSUED = "refund_issued"
    REFUND_DELAYED = "refund_delayed"


RETURN_NOTIFICATION_KINDS = frozenset(
    {
        NotificationKind.RETURN_LABEL_READY,
        NotificationKind.RETURN_IN_TRANSIT,
        NotificationKind.RETURN_RECEIVED,
        NotificationKind.REFUND_ISSUED,
        NotificationKind.REFUND_DELAYED,
    }
)


class EstimateSource(StrEnum):
    """Where a notification's expected delivery time comes from."""

    MODEL = "model"
    CARRIER = "carrier"
    PROMISE = "promise"


class NotificationChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"


@dataclass(frozen=True, slots=True)
class Location:
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None


class CarrierSource(StrEnum):
    """Where a ``carrier-raw`` payload comes from: a carrier's tracking API or a platform."""

    UPS = "ups"
    FEDEX = "fedex"
    USPS = "usps"
    DHL_EXPRESS = "dhl_express"
    DHL_PARCEL_DE = "dhl_parcel_de"
    CANADAPOST = "canadapost"
    ROYALMAIL = "royalmail"
    DPD = "dpd"
    GLS = "gls"
    LAPOSTE = "laposte"
    POSTNL = "postnl"
    AUSTRALIAPOST = "australiapost"
    CORREIOS = "correios"
    EASYPOST = "easypost"
    AFTERSHIP = "aftership"
    SHIPPO = "shippo"
    SEVENTEEN_TRACK = "17track"


class TimeZoneSource(StrEnum):
    """How a scan's event time got its UTC offset (carriers often write local times without one)."""

    OFFSET = "offset"  # the source wrote the offset (or UTC) itself
    LOCATION = "location"  # the event location's zone (postal code, region or country)
    CARRIER_HOME = "carrier_home"  # the carrier's home zone: the location named no zone
    UTC = "utc"  # nothing better known: the local time was read as UTC


@dataclass(frozen=True, slots=True)
class ScanTimeZone:
    """The zone a scan's local time was read in; None when the source wrote the offset."""

    resolved_by: TimeZoneSource
    zone: str | None = None


class DeliveryLocationKind(StrEnum):
    """Where a delivered parcel was left, as far as the carrier says."""

    RECIPIENT = "recipient"  # handed to the addressee
    FRONT_DOOR = "front_door"
    BACK_DOOR = "back_door"
    PORCH = "porch"
    GARAGE = "garage"
    MAILBOX = "mailbox"
    PARCEL_LOCKER = "parcel_locker"
    PICKUP_POINT = "pickup_point"
    NEIGHBOUR = "neighbour"
    RECEPTION = "reception"  # front desk, mail room, concierge
    SAFE_PLACE = "safe_place"  # a place the recipient chose
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class DeliveryLocation:
    """Where the parcel was left: a kind, and the carrier's own words."""

    kind: DeliveryLocationKind
    description: str | None = None


@dataclass(frozen=True, slots=True)
class PickupPoint:
    """A locker, post office or shop holding the parcel for collection."""

    id: str | None = None
    name: str | None = None
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class Place:
    """Origin or destination of an order: coarse enough to derive a lane, never a street address."""

    postal_code: str | None = None
    region: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    locale: str | None = None
    timezone: str | None = None
    channels: tuple[NotificationChannel, ...] = ()


@dataclass(frozen=True, slots=True)
class Item:
    sku: str
    quantity: int
    category: str | None = None


@dataclass(frozen=True, slots=True)
class Scan:
    """One carrier tracking event, on ``carrier-scans`` keyed by tracking number."""

    event_id: str
    tracking_number: str
    carrier: str
    status: ShipmentStatus
    occurred_at: datetime
    reason: ExceptionReason | None = None
    carrier_status_code: str | None = None
    description: str | None = None
    location: Location | None = None
    estimated_delivery: datetime | None = None
    # Carried over from carrier payloads (carrier-raw); other producers may send them too.
    source: CarrierSource | None = None  # the carrier-raw source the scan was normalised from
    time_zone: ScanTimeZone | None = None
    signer: str | None = None
    delivery_location: DeliveryLocation | None = None
    return_to_sender: bool | None = None
    pickup_point: PickupPoint | None = None
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class Order:
    """The merchant's side of a shipment, on ``orders`` keyed by tracking number."""

    event_id: str
    order_id: str
    tracking_number: str
    carrier: str
    service_level: str
    ordered_at: datetime
    promised_by: datetime
    origin: Place | None = None
    destination: Place | None = None
    customer: Customer | None = None
    items: tuple[Item, ...] = ()
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class PredictedDelivery:
    """A model's delivery estimate: the expected time within an 80% interval."""

    expected: datetime
    earliest: datetime
    latest: datetime


@dataclass(frozen=True, slots=True)
class Alert:
    """A detected problem, on ``shipment-alerts`` keyed by tracking number.

    ``alert_id`` is deterministic (same shipment, kind and episode give the same id), so consumers
    de-duplicate redeliveries by it.
    """

    alert_id: str
    tracking_number: str
    carrier: str
    kind: AlertKind
    severity: Severity
    status: ShipmentStatus
    message: str
    detected_at: datetime
    occurred_at: datetime
    source_event_id: str
    order_id: str | None = None
    service_level: str | None = None
    reason: ExceptionReason | None = None
    promised_by: datetime | None = None
    # delay_risk alerts only (null / empty otherwise)
    risk: float | None = None
    predicted_delivery: PredictedDelivery | None = None
    model_version: str | None = None
    reasons: tuple[str, ...] = ()
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class Notification:
    """Something the customer should hear, on ``customer-notifications`` keyed by tracking number.

    parcelwatch does not send it: email, SMS and push services subscribe to the topic.
    ``notification_id`` is deterministic (one per milestone per shipment), so a redelivery after a
    worker crash carries the same id and subscribers de-duplicate by it.
    """

    notification_id: str
    tracking_number: str
    order_id: str
    customer: Customer
    kind: NotificationKind
    carrier: str
    status: ShipmentStatus
    locale: str  # the locale ``message`` is written in (the customer's, or the fallback)
    message: str
    created_at: datetime  # when parcelwatch decided to speak
    occurred_at: datetime  # when the milestone happened (carrier event time where there is one)
    expected_delivery: datetime | None = None
    expected_delivery_source: EstimateSource | None = None
    promised_by: datetime | None = None
    pickup_location: Location | None = None
    reason: ExceptionReason | None = None
    next_step: str | None = None  # what the customer can do, in ``locale``
    alert_id: str | None = None  # the shipment-alerts alert this notification goes with
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class ShipmentCheck:
    """Internal: "look at this shipment (or order) again", on ``shipment-checks`` keyed by
    tracking number (or order id).

    Timers send it so that silences are judged where the shipment's state lives, by the worker
    that owns the partition, through the same path (and guarantees) as a scan.
    """

    tracking_number: str | None  # the shipment to look at; None in an order's check
    requested_at: datetime
    # An order's check (added within schema_version 1): its waiting feedback may be due to go
    # out unmatched. A check names exactly one of tracking_number and order_id.
    order_id: str | None = None
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An input message that could not be applied, with why, on ``dead-letter``."""

    dead_letter_id: str
    reason: DeadLetterReason
    error: str
    source_topic: str
    source_partition: int
    source_offset: int
    received_at: datetime
    # The original bytes, cut to a fixed budget (see schemas/codec.py), so the dead letter itself
    # always fits on the topic; size and SHA-256 identify the original whatever was cut.
    payload: str
    payload_encoding: str  # "utf-8" or "base64"
    payload_size: int  # bytes of the original payload
    payload_sha256: str  # hex SHA-256 of the original payload
    payload_truncated: bool = False
    key: str | None = None  # UTF-8, invalid bytes replaced; None when the message had no key
    key_size: int | None = None
    key_sha256: str | None = None
    key_truncated: bool = False
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class Limits:
    """Input limits, from settings: what counts as oversize or as an impossible timestamp.

    Every input timestamp is bounded on both sides, so every time parcelwatch computes with, stores
    or shows a customer stays far inside what ``datetime`` can represent in any time zone.
    """

    max_payload_bytes: int = 64 * 1024
    max_clock_skew_hours: float = 24.0  # event times: at most this far after the worker's clock
    earliest_year: int = 2000  # every timestamp: not before this year
    # A promise is for this order: no shop promises delivery more than a year after the order.
    max_promise_days: float = 365.0
    # A carrier's estimate is about this parcel: within a year of the scan that gives it (either
    # side: an estimate may be stale when the carrier has not updated it).
    max_estimate_days: float = 365.0
    max_text_length: int = 1000
    id_max_length: int = 200

    @property
    def clock_skew(self) -> timedelta:
        """``max_clock_skew_hours``, at most a year (a clock a year off is not skew): the bound
        must stay a bound whatever the setting, and never overflow a datetime."""
        return _clock_skew(self.max_clock_skew_hours)  # read per decoded event


@lru_cache(maxsize=8)
def _clock_skew(hours: float) -> timedelta:
    return timedelta(hours=min(hours, MAX_CLOCK_SKEW_HOURS) if hours >= 0 else 0.0)
