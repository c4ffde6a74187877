"""Bytes <-> contract types, with validation that names what is wrong.

Decoding never trusts its input: every failure raises :class:`InvalidEvent` with a short reason code
(the dead-letter ``reason``) and human words (the dead-letter ``error``). Unknown extra fields are
ignored so producers can add fields before parcelwatch reads them.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

import orjson

from parcelwatch.schemas import patterns
from parcelwatch.schemas.feedback import FeedbackTally, FeedbackTopic, FlagReason
from parcelwatch.schemas.ids import deterministic_id
from parcelwatch.schemas.model_monitoring import ModelOutcome, RiskMoment
from parcelwatch.schemas.pain_points import PainPointClose
from parcelwatch.schemas.timestamps import parse_rfc3339
from parcelwatch.schemas.types import (
    SCHEMA_VERSION,
    CarrierSource,
    Customer,
    DeadLetter,
    DeadLetterReason,
    DeliveryLocation,
    DeliveryLocationKind,
    ExceptionReason,
    Item,
    Limits,
    Location,
    NotificationChannel,
    Order,
    PickupPoint,
    Place,
    Scan,
    ScanTimeZone,
    ShipmentCheck,
    ShipmentStatus,
    TimeZoneSource,
)

SUPPORTED_SCHEMA_VERSIONS = frozenset({SCHEMA_VERSION})
_E = TypeVar("_E", bound=Enum)


class InvalidEvent(ValueError):
    """An input that cannot be applied; ``reason`` is the dead-letter code."""

    def __init__(self, reason: DeadLetterReason, error: str) -> None:
        super().__init__(f"{reason.value}: {error}")
        self.reason = reason
        self.error = error


# ---------------------------------------------------------------------------------------------
# Encoding


# orjson writes the contract's encoding natively, in C: dataclasses as objects with every field in
# declaration order, enums by value, tuples as arrays, aware datetimes as RFC 3339 with their own
# offset (microseconds only when non-zero, like ``datetime.isoformat``). That is about 5x faster
# than walking the objects in Python, and encoding the state is paid on every table write.
# parcelwatch never builds a naive datetime; should one slip through, it is written as UTC rather
# than as a timestamp without an offset that no parcelwatch decoder would accept.
_ENCODE_OPTIONS = orjson.OPT_NAIVE_UTC


def encode(event: Any) -> bytes:
    """A contract type (or plain JSON values) as JSON bytes."""
    return orjson.dumps(event, option=_ENCODE_OPTIONS)


def to_jsonable(value: Any) -> Any:
    """Contract types to plain JSON values, exactly as ``encode`` writes them."""
    return orjson.loads(encode(value))


# ---------------------------------------------------------------------------------------------
# Decoding


def _shown(value: Any, max_chars: int = 40) -> str:
    """A value quoted in an error's words: its repr, cut short (errors never carry payloads)."""
    text = repr(value)
    return text if len(text) <= max_chars else text[: max_chars - 3] + "..."


class _Fields:
    """Typed access to one JSON object, raising InvalidEvent that names the field's path."""

    def __init__(self, data: dict[str, Any], path: str = "") -> None:
        self._data = data
        self._path = path

    def _name(self, name: str) -> str:
        return f"{self._path}{name}"

    def _get(self, name: str, required: bool) -> Any:
        value = self._data.get(name)
        if value is None and required:
            raise InvalidEvent(
                DeadLetterReason.MISSING_FIELD, f"required field '{self._name(name)}' is missing"
            )
        return value

    def _wrong_type(self, name: str, expected: str, value: Any) -> InvalidEvent:
        return InvalidEvent(
            DeadLetterReason.WRONG_TYPE,
            f"field '{self._name(name)}' must be {expected}, got {type(value).__name__}",
        )

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        max_length: int = 200,
        pattern: re.Pattern[str] | None = None,
    ) -> str | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._wrong_type(name, "a string", value)
        if not value or len(value) > max_length:
            raise InvalidEvent(
                DeadLetterReason.INVALID_VALUE,
                f"field '{self._name(name)}' must be 1 to {max_length} characters long",
            )
        if pattern is not None and not pattern.fullmatch(value):
            raise InvalidEvent(
                DeadLetterReason.INVALID_VALUE,
                f"field '{self._name(name)}' has an invalid format (expected {pattern.pattern})",
            )
        return value

    def required_text(self, name: str, **kwargs: Any) -> str:
        value = self.text(name, required=True, **kwargs)
        assert value is not None  # text(required=True) raises instead of returning None
        return value

    def choice(
        self, name: str, enum: type[_E], unknown: DeadLetterReason, *, required: bool = False
    ) -> _E | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._wrong_type(name, "a string", value)
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(member.value for member in enum)  # type: ignore[attr-defined]
            raise InvalidEvent(
                unknown, f"field '{self._name(name)}' is {_shown(value)}, not one of: {allowed}"
            ) from None

    def timestamp(self, name: str, *, required: bool = False) -> datetime | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._wrong_type(name, "an RFC 3339 string", value)
        try:
            return parse_rfc3339(value)
        except ValueError as exc:
            raise InvalidEvent(
                DeadLetterReason.INVALID_TIMESTAMP, f"field '{self._name(name)}': {exc}"
            ) from None

    def required_timestamp(self, name: str) -> datetime:
        value = self.timestamp(name, required=True)
        assert value is not None
        return value

    def integer(self, name: str, *, minimum: int, maximum: int) -> int:
        value = self._get(name, True)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong_type(name, "a whole number", value)
        if not minimum <= value <= maximum:
            raise InvalidEvent(
                DeadLetterReason.INVALID_VALUE,
                f"field '{self._name(name)}' must be between {minimum} and {maximum}",
            )
        return value

    def optional_integer(self, name: str, *, minimum: int, maximum: int) -> int | None:
        if self._get(name, False) is None:
            return None
        return self.integer(name, minimum=minimum, maximum=maximum)

    def number(self, name: str, *, minimum: float, maximum: float) -> float:
        value = self._get(name, True)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._wrong_type(name, "a number", value)
        if not minimum <= value <= maximum:
            raise InvalidEvent(
                DeadLetterReason.INVALID_VALUE,
                f"field '{self._name(name)}' must be between {minimum:g} and {maximum:g}",
            )
        return float(value)

    def flag(self, name: str) -> bool | None:
        value = self._get(name, False)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise self._wrong_type(name, "true or false", value)
        return value

    def obj(self, name: str) -> _Fields | None:
        value = self._get(name, False)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self._wrong_type(name, "an object", value)
        return _Fields(value, f"{self._name(name)}.")

    def array(self, name: str, max_items: int = 200) -> list[Any]:
        value = self._get(name, False)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._wrong_type(name, "an array", value)
        if len(value) > max_items:
            raise InvalidEvent(
                DeadLetterReason.INVALID_VALUE,
                f"field '{self._name(name)}' has more than {max_items} items",
            )
        return value

    def objects(self, name: str) -> list[_Fields]:
        result = []
        for index, item in enumerate(self.array(name)):
            if not isinstance(item, dict):
                raise self._wrong_type(f"{name}[{index}]", "an object", item)
            result.append(_Fields(item, f"{self._name(name)}[{index}]."))
        return result


_TRACKING_NUMBER = patterns.compile_full(patterns.TRACKING_NUMBER)
_CARRIER = patterns.compile_full(patterns.CARRIER)
_SERVICE_LEVEL = patterns.compile_full(patterns.SERVICE_LEVEL)
_COUNTRY = patterns.compile_full(patterns.COUNTRY)
_LOCALE = patterns.compile_full(patterns.LOCALE)
_TIMEZONE = patterns.compile_full(patterns.TIMEZONE)


def _load_object(payload: bytes, limits: Limits) -> _Fields:
    if len(payload) > limits.max_payload_bytes:
        raise InvalidEvent(
            DeadLetterReason.PAYLOAD_TOO_LARGE,
            f"payload is {len(payload)} bytes; the limit is {limits.max_payload_bytes}",
        )
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(
            DeadLetterReason.MALFORMED_JSON, f"not valid UTF-8 JSON: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise InvalidEvent(
            DeadLetterReason.NOT_AN_OBJECT, f"expected a JSON object, got {type(data).__name__}"
        )
    _check_schema_version(data.get("schema_version"))
    return _Fields(data)


def _check_schema_version(version: Any) -> None:
    """``schema_version`` must be present and name a supported version.

    Any other value of any JSON type is ``unsupported_schema_version`` (the one code that tells a
    producer to look at its version field): a string ``"1"``, ``true``, ``[1]`` or ``{}`` as much
    as ``2``. Numbers compare by value, as in JSON Schema's ``const``, so ``1.0`` is version 1.
    The check never hashes the value: ``[1] in frozenset`` would raise TypeError.
    """
    if version is None:
        raise InvalidEvent(
            DeadLetterReason.MISSING_FIELD, "required field 'schema_version' is missing"
        )
    is_number = isinstance(version, int | float) and not isinstance(version, bool)
    if not is_number:
        raise InvalidEvent(
            DeadLetterReason.UNSUPPORTED_SCHEMA_VERSION,
            f"field 'schema_version' must be a number, got {type(version).__name__} "
            f"(supported: {sorted(SUPPORTED_SCHEMA_VERSIONS)})",
        )
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        raise InvalidEvent(
            DeadLetterReason.UNSUPPORTED_SCHEMA_VERSION,
            f"schema_version {_shown(version)} is not supported (supported: "
            f"{sorted(SUPPORTED_SCHEMA_VERSIONS)})",
        )


# Timestamp bounds. Each check names the field and the bound it breaks; together they keep every
# accepted time within about a year of the worker's clock (see ``Limits``), so no date arithmetic
# or time-zone conversion downstream can leave the range ``datetime`` represents.


def _impossible(name: str, why: str) -> InvalidEvent:
    return InvalidEvent(DeadLetterReason.IMPOSSIBLE_TIMESTAMP, f"field '{name}' {why}")


def _check_not_too_early(name: str, moment: datetime, limits: Limits) -> None:
    if moment.year < limits.earliest_year:
        raise _impossible(name, f"is before the year {limits.earliest_year}")


def _check_event_time(name: str, moment: datetime, now: datetime, limits: Limits) -> None:
    """When something happened: not before ``earliest_year``, not after the clock (+ skew)."""
    _check_not_too_early(name, moment, limits)
    skew = limits.clock_skew
    if moment > now + skew:
        raise _impossible(name, f"is more than {skew.total_seconds() / 3600:g} h in the future")


def _check_within(
    name: str,
    moment: datetime,
    anchor_name: str,
    anchor: datetime,
    *,
    days_before: float,
    days_after: float,
    limits: Limits,
) -> None:
    """A time that belongs to another one: within ``days_before`` / ``days_after`` of it."""
    _check_not_too_early(name, moment, limits)
    if moment < anchor - timedelta(days=days_before):
        raise _impossible(
            name,
            f"is before '{anchor_name}'"
            if days_before == 0
            else f"is more than {days_before:g} days before '{anchor_name}'",
        )
    if moment > anchor + timedelta(days=days_after):
        raise _impossible(name, f"is more than {days_after:g} days after '{anchor_name}'")


# Passed as ``key`` when decoding events that never were Kafka messages (JSONL history files).
NO_MESSAGE_KEY = object()


def _check_key(key: bytes | object | None, expected: str, field: str = "tracking_number") -> None:
    if key is NO_MESSAGE_KEY:
        return
    # Every input topic is partitioned by its key (the tracking number, or the order id for
    # feedback); a wrong key would put the event on the wrong partition, so it cannot be applied
    # safely.
    words = field.replace("_", " ")
    if key is None:
        raise InvalidEvent(
            DeadLetterReason.KEY_MISMATCH,
            f"message has no key; key input messages by their {words}",
        )
    if key != expected.encode():
        raise InvalidEvent(
            DeadLetterReason.KEY_MISMATCH,
            f"message key differs from the event's {field}; key messages by {words}",
        )


def _location(fields: _Fields | None) -> Location | None:
    if fields is None:
        return None
    return Location(
        city=fields.text("city"),
        region=fields.text("region", max_length=100),
        postal_code=fields.text("postal_code", max_length=20),
        country=fields.text("country", pattern=_COUNTRY),
    )


def _scan_time_zone(fields: _Fields | None) -> ScanTimeZone | None:
    if fields is None:
        return None
    return ScanTimeZone(
        resolved_by=_required(
            fields.choice(
                "resolved_by", TimeZoneSource, DeadLetterReason.INVALID_VALUE, required=True
            )
        ),
        zone=fields.text("zone", max_length=64, pattern=_TIMEZONE),
    )


def _delivery_location(fields: _Fields | None) -> DeliveryLocation | None:
    if fields is None:
        return None
    return DeliveryLocation(
        kind=_required(
            fields.choice(
                "kind", DeliveryLocationKind, DeadLetterReason.INVALID_VALUE, required=True
            )
        ),
        description=fields.text("description"),
    )


def _pickup_point(fields: _Fields | None) -> PickupPoint | None:
    if fields is None:
        return None
    return PickupPoint(
        id=fields.text("id", max_length=100),
        name=fields.text("name"),
        location=_location(fields.obj("location")),
    )


def _place(fields: _Fields | None) -> Place | None:
    if fields is None:
        return None
    return Place(
        postal_code=fields.text("postal_code", max_length=20),
        region=fields.text("region", max_length=100),
        country=fields.text("country", pattern=_COUNTRY),
    )


def _customer(fields: _Fields | None) -> Customer | None:
    if fields is None:
        return None
    channels = []
    for index, value in enumerate(fields.array("channels", max_items=10)):
        if not isinstance(value, str):
            raise InvalidEvent(
                DeadLetterReason.WRONG_TYPE, f"field 'customer.channels[{index}]' must be a string"
            )
        try:
            channels.append(NotificationChannel(value))
        except ValueError:
            raise InvalidEvent(
                DeadLetterReason.INVALID_VALUE,
                f"field 'customer.channels[{index}]' is {_shown(value)}, not one of: "
                + ", ".join(channel.value for channel in NotificationChannel),
            ) from None
    return Customer(
        id=fields.required_text("id"),
        locale=fields.text("locale", max_length=35, pattern=_LOCALE),
        timezone=fields.text("timezone", max_length=64, pattern=_TIMEZONE),
        channels=tuple(dict.fromkeys(channels)),
    )


def _item(fields: _Fields) -> Item:
    return Item(
        sku=fields.required_text("sku"),
        quantity=fields.integer("quantity", minimum=1, maximum=1_000_000),
        category=fields.text("category"),
    )


def decode_scan(
    payload: bytes, *, key: bytes | object | None, now: datetime, limits: Limits
) -> Scan:
    fields = _load_object(payload, limits)
    scan = Scan(
        event_id=fields.required_text("event_id", max_length=limits.id_max_length),
        tracking_number=fields.required_text("tracking_number", pattern=_TRACKING_NUMBER),
        carrier=fields.required_text("carrier", pattern=_CARRIER),
        status=_required(
            fields.choice("status", ShipmentStatus, DeadLetterReason.UNKNOWN_STATUS, required=True)
        ),
        occurred_at=fields.required_timestamp("occurred_at"),
        reason=fields.choice("reason", ExceptionReason, DeadLetterReason.UNKNOWN_REASON),
        carrier_status_code=fields.text("carrier_status_code", max_length=64),
        description=fields.text("description", max_length=limits.max_text_length),
        location=_location(fields.obj("location")),
        estimated_delivery=fields.timestamp("estimated_delivery"),
        source=fields.choice("source", CarrierSource, DeadLetterReason.INVALID_VALUE),
        time_zone=_scan_time_zone(fields.obj("time_zone")),
        signer=fields.text("signer"),
        delivery_location=_delivery_location(fields.obj("delivery_location")),
        return_to_sender=fields.flag("return_to_sender"),
        pickup_point=_pickup_point(fields.obj("pickup_point")),
    )
    _check_event_time("occurred_at", scan.occurred_at, now, limits)
    if scan.estimated_delivery is not None:
        _check_within(
            "estimated_delivery", scan.estimated_delivery, "occurred_at", scan.occurred_at,
            days_before=limits.max_estimate_days, days_after=limits.max_estimate_days,
            limits=limits,
        )  # fmt: skip
    _check_key(key, scan.tracking_number)
    return scan


def decode_order(
    payload: bytes, *, key: bytes | object | None, now: datetime, limits: Limits
) -> Order:
    fields = _load_object(payload, limits)
    order = Order(
        event_id=fields.required_text("event_id", max_length=limits.id_max_length),
        order_id=fields.required_text("order_id", max_length=limits.id_max_length),
        tracking_number=fields.required_text("tracking_number", pattern=_TRACKING_NUMBER),
        carrier=fields.required_text("carrier", pattern=_CARRIER),
        service_level=fields.required_text("service_level", pattern=_SERVICE_LEVEL),
        ordered_at=fields.required_timestamp("ordered_at"),
        promised_by=fields.required_timestamp("promised_by"),
        origin=_place(fields.obj("origin")),
        destination=_place(fields.obj("destination")),
        customer=_customer(fields.obj("customer")),
        items=tuple(_item(item) for item in fields.objects("items")),
    )
    _check_event_time("ordered_at", order.ordered_at, now, limits)
    _check_within(
        "promised_by", order.promised_by, "ordered_at", order.ordered_at,
        days_before=0, days_after=limits.max_promise_days, limits=limits,
    )  # fmt: skip
    _check_key(key, order.tracking_number)
    return order


def decode_check(
    payload: bytes, *, key: bytes | object | None, now: datetime, limits: Limits
) -> ShipmentCheck:
    """An internal timer message; validated like any input, since anyone can write to a topic."""
    fields = _load_object(payload, limits)
    check = ShipmentCheck(
        tracking_number=fields.text("tracking_number", pattern=_TRACKING_NUMBER),
        requested_at=fields.required_timestamp("requested_at"),
        order_id=fields.text("order_id", max_length=limits.id_max_length),
    )
    _check_event_time("requested_at", check.requested_at, now, limits)
    if check.order_id is not None and check.tracking_number is None:
        _check_key(key, check.order_id, "order_id")
    elif check.tracking_number is not None and check.order_id is None:
        _check_key(key, check.tracking_number)
    else:
        raise InvalidEvent(
            DeadLetterReason.INVALID_VALUE,
            "a check names exactly one of 'tracking_number' and 'order_id'",
        )
    return check


def _check_carrier_key(key: bytes | object | None, carrier: str) -> None:
    # feedback-tallies is partitioned by carrier: one worker owns each carrier's windows.
    if key is NO_MESSAGE_KEY:
        return
    if key != carrier.encode():
        raise InvalidEvent(
            DeadLetterReason.KEY_MISMATCH,
            "message key differs from the event's carrier; key feedback-tallies by carrier",
        )


def _feedback_topics(fields: _Fields) -> tuple[FeedbackTopic, ...]:
    fields._get("topics", True)  # required, even when empty
    topics = []
    for index, value in enumerate(fields.array("topics", max_items=20)):
        if not isinstance(value, str):
            raise InvalidEvent(
                DeadLetterReason.WRONG_TYPE, f"field 'topics[{index}]' must be a string"
            )
        try:
            topics.append(FeedbackTopic(value))
        except ValueError:
            raise InvalidEvent(
                DeadLetterReason.INVALID_VALUE,
                f"field 'topics[{index}]' is {_shown(value)}, not one of: "
                + ", ".join(topic.value for topic in FeedbackTopic),
            ) from None
    return tuple(dict.fromkeys(topics))


def decode_pain_point_input(
    payload: bytes, *, key: bytes | object | None, now: datetime, limits: Limits
) -> FeedbackTally | PainPointClose:
    """A message on the internal ``feedback-tallies`` topic: a ``FeedbackTally`` (it has a
    ``feedback_id``) or a timer's ``PainPointClose``. Validated like any input."""
    fields = _load_object(payload, limits)
    event: FeedbackTally | PainPointClose
    if fields._get("feedback_id", False) is None and fields._get("requested_at", False) is not None:
        event = PainPointClose(
            carrier=fields.required_text("carrier", pattern=_CARRIER),
            requested_at=fields.required_timestamp("requested_at"),
        )
        _check_event_time("requested_at", event.requested_at, now, limits)
    else:
        event = FeedbackTally(
            feedback_id=fields.required_text("feedback_id", max_length=limits.id_max_length),
            carrier=fields.required_text("carrier", pattern=_CARRIER),
            region=fields.required_text("region", max_length=100),
            reason=_required(
                fields.choice("reason", FlagReason, DeadLetterReason.INVALID_VALUE, required=True)
            ),
            topics=_feedback_topics(fields),
            received_at=fields.required_timestamp("received_at"),
        )
        _check_event_time("received_at", event.received_at, now, limits)
    _check_carrier_key(key, event.carrier)
    return event


def decode_model_outcome(
    payload: bytes, *, key: bytes | object | None, now: datetime, limits: Limits
) -> ModelOutcome:
    """A message on the internal ``model-outcomes`` topic, keyed by its model version."""
    fields = _load_object(payload, limits)
    service_level = fields.text("service_level", pattern=_SERVICE_LEVEL)
    outcome = ModelOutcome(
        outcome_id=fields.required_text("outcome_id", max_length=limits.id_max_length),
        model_version=fields.required_text("model_version"),
        moment=_required(
            fields.choice("moment", RiskMoment, DeadLetterReason.INVALID_VALUE, required=True)
        ),
        risk=fields.number("risk", minimum=0.0, maximum=1.0),
        late=_required_flag(fields, "late"),
        alerted=_required_flag(fields, "alerted"),
        decided_at=fields.required_timestamp("decided_at"),
        carrier=fields.text("carrier", pattern=_CARRIER),
        service_level=service_level,
    )
    _check_event_time("decided_at", outcome.decided_at, now, limits)
    if key is not NO_MESSAGE_KEY and key != outcome.model_version.encode():
        raise InvalidEvent(
            DeadLetterReason.KEY_MISMATCH,
            "message key differs from the outcome's model_version; key model-outcomes by it",
        )
    return outcome


def _required_flag(fields: _Fields, name: str) -> bool:
    value = fields.flag(name)
    if value is None:
        raise InvalidEvent(DeadLetterReason.MISSING_FIELD, f"required field '{name}' is missing")
    return value


def _required(value: _E | None) -> _E:
    assert value is not None  # choice(required=True) raises instead of returning None
    return value


# ---------------------------------------------------------------------------------------------
# Dead letters

# Byte budgets of the copies a dead letter keeps, measured *after* JSON encoding (escaping can
# turn one input byte into six, ``\u0000``; base64 into 4/3). With the error's words capped too,
# an encoded dead letter stays under ``MAX_DEAD_LETTER_BYTES``, far below the producer's 1 MiB
# message limit, whatever the input and whatever ``max_payload_bytes`` is set to.
DEAD_LETTER_PAYLOAD_BUDGET = 256 * 1024
DEAD_LETTER_KEY_BUDGET = 1024
DEAD_LETTER_ERROR_MAX_CHARS = 1000  # at most 6 bytes each once encoded
MAX_DEAD_LETTER_BYTES = (
    DEAD_LETTER_PAYLOAD_BUDGET + DEAD_LETTER_KEY_BUDGET + 6 * DEAD_LETTER_ERROR_MAX_CHARS + 4096
)


@dataclass(frozen=True, slots=True)
class BoundedCopy:
    """Part of some original bytes, as JSON text that encodes within a byte budget."""

    text: str
    encoding: str  # "utf-8" or "base64"
    truncated: bool
    size: int  # bytes of the original
    sha256: str  # of the original


def _json_size(text: str) -> int:
    return len(orjson.dumps(text))


def _longest_prefix_within(text: str, budget: int) -> str:
    """The longest prefix of ``text`` whose JSON string encoding takes at most ``budget`` bytes."""
    text = text[:budget]  # every character encodes to at least one byte
    if _json_size(text) <= budget:
        return text
    fits, too_long = 0, len(text)  # binary search: the encoded size grows with the prefix
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        if _json_size(text[:middle]) <= budget:
            fits = middle
        else:
            too_long = middle
    return text[:fits]


def _utf8_prefix(data: bytes, cut: bool) -> str | None:
    """``data`` as text, or None if it is not UTF-8. When ``data`` was cut from longer bytes, a
    character split by the cut is dropped rather than making the whole copy base64."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        if cut and error.reason == "unexpected end of data" and error.start >= len(data) - 3:
            return data[: error.start].decode("utf-8")
        return None


def bounded_copy(data: bytes, *, max_bytes: int, budget: int) -> BoundedCopy:
    """At most ``max_bytes`` of ``data``: as text when it is UTF-8 (else base64), cut further so
    its JSON encoding fits ``budget`` bytes."""
    limit = max(0, min(len(data), max_bytes, budget))  # the encoding is never shorter
    text = _utf8_prefix(data[:limit], cut=limit < len(data))
    if text is not None:
        text = _longest_prefix_within(text, budget)
        encoding, kept = "utf-8", len(text.encode("utf-8"))
    else:
        kept = max(0, min(limit, (budget - 2) // 4 * 3))  # base64: 4 characters per 3 bytes
        text, encoding = base64.b64encode(data[:kept]).decode("ascii"), "base64"
    return BoundedCopy(
        text=text,
        encoding=encoding,
        truncated=kept < len(data),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _bounded_key(key: bytes) -> tuple[str, bool]:
    """The key as UTF-8 text (invalid bytes replaced, as before), cut to its budget."""
    text = key[:DEAD_LETTER_KEY_BUDGET].decode("utf-8", errors="replace")
    kept = _longest_prefix_within(text, DEAD_LETTER_KEY_BUDGET)
    return kept, len(key) > DEAD_LETTER_KEY_BUDGET or len(kept) < len(text)


def _bounded_error(words: str) -> str:
    if len(words) <= DEAD_LETTER_ERROR_MAX_CHARS:
        return words
    return words[: DEAD_LETTER_ERROR_MAX_CHARS - 3] + "..."


def make_dead_letter(
    *,
    error: InvalidEvent,
    source_topic: str,
    source_partition: int,
    source_offset: int,
    key: bytes | None,
    payload: bytes,
    received_at: datetime,
    limits: Limits,
) -> DeadLetter:
    """Wrap an unusable input so nothing is lost: original bytes (bounded, with the original's
    size and SHA-256), reason and origin."""
    copy = bounded_copy(
        payload, max_bytes=limits.max_payload_bytes, budget=DEAD_LETTER_PAYLOAD_BUDGET
    )
    key_text, key_truncated = _bounded_key(key) if key is not None else (None, False)
    return DeadLetter(
        dead_letter_id=deterministic_id(
            "dead-letter", source_topic, str(source_partition), str(source_offset)
        ),
        reason=error.reason,
        error=_bounded_error(error.error),
        source_topic=source_topic,
        source_partition=source_partition,
        source_offset=source_offset,
        received_at=received_at,
        payload=copy.text,
        payload_encoding=copy.encoding,
        payload_size=copy.size,
        payload_sha256=copy.sha256,
        payload_truncated=copy.truncated,
        key=key_text,
        key_size=None if key is None else len(key),
        key_sha256=None if key is None else hashlib.sha256(key).hexdigest(),
        key_truncated=key_truncated,
    )
