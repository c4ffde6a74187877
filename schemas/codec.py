"""Bytes <-> contract types, with validation that names what is wrong.

Decoding never trusts its input: every failure raises :class:`InvalidEvent` with a short reason code
(the dead-letter ``reason``) and human words (the dead-letter ``error``). Unknown extra fields are
ignored so producers can add fields before parcelwatch reads them.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

import orjson

from schemas import patterns
from schemas.ids import deterministic_id
from schemas.timestamps import parse_rfc3339
from schemas.types import (
    SCHEMA_VERSION,
    Customer,
    DeadLetter,
    DeadLetterReason,
    ExceptionReason,
    Item,
    Limits,
    Location,
    NotificationChannel,
    Order,
    Place,
    Scan,
    ShipmentCheck,
    ShipmentStatus,
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
                unknown, f"field '{self._name(name)}' is {value!r}, not one of: {allowed}"
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
    version = data.get("schema_version")
    if version is None:
        raise InvalidEvent(
            DeadLetterReason.MISSING_FIELD, "required field 'schema_version' is missing"
        )
    if isinstance(version, bool) or version not in SUPPORTED_SCHEMA_VERSIONS:
        raise InvalidEvent(
            DeadLetterReason.UNSUPPORTED_SCHEMA_VERSION,
            f"schema_version {version!r} is not supported (supported: "
            f"{sorted(SUPPORTED_SCHEMA_VERSIONS)})",
        )
    return _Fields(data)


def _check_plausible(name: str, moment: datetime, now: datetime, limits: Limits) -> None:
    if moment.year < limits.earliest_year:
        raise InvalidEvent(
            DeadLetterReason.IMPOSSIBLE_TIMESTAMP,
            f"field '{name}' is before {limits.earliest_year}",
        )
    if moment > now + timedelta(hours=limits.max_clock_skew_hours):
        raise InvalidEvent(
            DeadLetterReason.IMPOSSIBLE_TIMESTAMP,
            f"field '{name}' is more than {limits.max_clock_skew_hours:g} h in the future",
        )


# Passed as ``key`` when decoding events that never were Kafka messages (JSONL history files).
NO_MESSAGE_KEY = object()


def _check_key(key: bytes | object | None, tracking_number: str) -> None:
    if key is NO_MESSAGE_KEY:
        return
    # Both input topics are partitioned by tracking number; a wrong key would put this shipment's
    # state on the wrong partition, so the event cannot be applied safely.
    if key is None:
        raise InvalidEvent(
            DeadLetterReason.KEY_MISMATCH,
            "message has no key; key input messages by their tracking number",
        )
    if key != tracking_number.encode():
        raise InvalidEvent(
            DeadLetterReason.KEY_MISMATCH,
            "message key differs from the event's tracking_number; key messages by tracking number",
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
                f"field 'customer.channels[{index}]' is {value!r}, not one of: "
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
    )
    _check_plausible("occurred_at", scan.occurred_at, now, limits)
    if scan.estimated_delivery is not None and scan.estimated_delivery.year < limits.earliest_year:
        raise InvalidEvent(
            DeadLetterReason.IMPOSSIBLE_TIMESTAMP,
            f"field 'estimated_delivery' is before {limits.earliest_year}",
        )
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
    _check_plausible("ordered_at", order.ordered_at, now, limits)
    if order.promised_by < order.ordered_at:
        raise InvalidEvent(
            DeadLetterReason.IMPOSSIBLE_TIMESTAMP, "field 'promised_by' is before 'ordered_at'"
        )
    _check_key(key, order.tracking_number)
    return order


def decode_check(
    payload: bytes, *, key: bytes | object | None, now: datetime, limits: Limits
) -> ShipmentCheck:
    """An internal timer message; validated like any input, since anyone can write to a topic."""
    fields = _load_object(payload, limits)
    check = ShipmentCheck(
        tracking_number=fields.required_text("tracking_number", pattern=_TRACKING_NUMBER),
        requested_at=fields.required_timestamp("requested_at"),
    )
    _check_plausible("requested_at", check.requested_at, now, limits)
    _check_key(key, check.tracking_number)
    return check


def _required(value: _E | None) -> _E:
    assert value is not None  # choice(required=True) raises instead of returning None
    return value


# ---------------------------------------------------------------------------------------------
# Dead letters


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
    """Wrap an unusable input so nothing is lost: original bytes (bounded), reason and origin."""
    truncated = len(payload) > limits.max_payload_bytes
    kept = payload[: limits.max_payload_bytes]
    try:
        text, encoding = kept.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(kept).decode("ascii"), "base64"
    return DeadLetter(
        dead_letter_id=deterministic_id(
            "dead-letter", source_topic, str(source_partition), str(source_offset)
        ),
        reason=error.reason,
        error=error.error,
        source_topic=source_topic,
        source_partition=source_partition,
        source_offset=source_offset,
        received_at=received_at,
        payload=text,
        payload_encoding=encoding,
        payload_truncated=truncated,
        key=None if key is None else key.decode("utf-8", errors="replace"),
    )
