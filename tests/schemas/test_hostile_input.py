"""Properties for hostile input: no input is ever a parcelwatch bug.

(a) Whatever bytes arrive, a decoder returns a valid event or raises InvalidEvent with a specific
    reason, never anything else, and never ``processing_error``; what it returns the core applies.
(b) Any sequence of valid events, in any order, with extreme-but-valid dates, in every locale and
    time zone, goes through ``apply_event`` and ``follow_up`` without raising, and what comes out
    encodes, with customer messages free of control characters.
(c) A dead letter fits its byte budget whatever the key, the payload and ``max_payload_bytes``.

The examples are deterministic in CI (the ``ci`` profile in tests/conftest.py).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jsonschema
import orjson
from hypothesis import given
from hypothesis import strategies as st

from parcelwatch.schemas.codec import (
    MAX_DEAD_LETTER_BYTES,
    InvalidEvent,
    decode_check,
    decode_order,
    decode_scan,
    encode,
    make_dead_letter,
    to_jsonable,
)
from parcelwatch.schemas.state import state_from_json, state_to_json
from parcelwatch.schemas.types import (
    Customer,
    DeadLetterReason,
    ExceptionReason,
    Limits,
    Location,
    NotificationChannel,
    Order,
    Place,
    Scan,
    ShipmentCheck,
    ShipmentStatus,
)
from parcelwatch.streams.core.follow_up import FollowUpPolicy, follow_up
from parcelwatch.streams.core.notification_text import customer_text
from parcelwatch.streams.core.notifications import NotificationPolicy
from parcelwatch.streams.core.tracking import Applied, apply_event
from parcelwatch.streams.message_templates import load_templates
from tests.factories import TRACKING, order_json, scan_json
from tests.schemas.test_schema_sync import load
from tests.streams.core.test_notification_text import UNSAFE

LIMITS = Limits()
KEY = TRACKING.encode()
TEMPLATES = load_templates()
POLICIES = (FollowUpPolicy(), FollowUpPolicy(notifications=NotificationPolicy(quiet_hours=None)))
EARLIEST = datetime(LIMITS.earliest_year, 1, 2, tzinfo=UTC)  # a day's margin for any offset
# Only the decoder's bounds keep times far from here: the strategies stop short of datetime.max
# just by the day any UTC offset needs.
LATEST = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)
DECODERS = (decode_scan, decode_order, decode_check)
DECODER_OF = {Scan: decode_scan, Order: decode_order, ShipmentCheck: decode_check}

# ---------------------------------------------------------------------------------------------
# Strategies: hostile values


def _timestamp_text(parts: tuple[int, int, int, int, int, int, str, str]) -> str:
    year, month, day, hour, minute, second, fraction, offset = parts
    return (
        f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{fraction}{offset}"
    )


# Strings shaped like RFC 3339, with every part pushed to and past its limits.
timestamp_texts = st.tuples(
    st.sampled_from([0, 1, 1969, 1999, 2000, 2026, 2027, 9998, 9999]) | st.integers(0, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 24),
    st.integers(0, 60),
    st.integers(0, 61),
    st.sampled_from(["", ".5", ".123456789", ".000000000001"]),
    st.sampled_from(["Z", "z", "+00:00", "-23:59", "+23:59", "+24:00", "-99:99", "+14:00", ""]),
).map(_timestamp_text)

hostile_texts = st.one_of(
    st.text(max_size=30),
    st.lists(
        st.sampled_from([*UNSAFE, "\x1b[31m", "\x1b]8;;x\x07", "A", "é", "😀"]), max_size=15
    ).map("".join),
    st.sampled_from(["", " ", "x" * 201, "x" * 1001, "\ud7ff" * 5, "null", "1", "[]"]),
    st.builds(lambda n: "x" * n, st.integers(60_000, 70_000)),  # around max_payload_bytes
)
numbers = st.one_of(
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, -1, 1.0, 1.5, 2**53 + 1, 1e308, -0.0]),
)
json_scalars = st.none() | st.booleans() | numbers | hostile_texts | timestamp_texts
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

# ---------------------------------------------------------------------------------------------
# Strategies: mutations of valid events (wrong types, nesting, bounds) at every field

DELETE = object()
SCAN_PATHS = [
    ("schema_version",), ("event_id",), ("tracking_number",), ("carrier",), ("status",),
    ("occurred_at",), ("reason",), ("carrier_status_code",), ("description",), ("location",),
    ("location", "city"), ("location", "region"), ("location", "postal_code"),
    ("location", "country"), ("estimated_delivery",),
]  # fmt: skip
ORDER_PATHS = [
    ("schema_version",), ("event_id",), ("order_id",), ("tracking_number",), ("carrier",),
    ("service_level",), ("ordered_at",), ("promised_by",), ("origin",), ("destination",),
    ("destination", "country"), ("destination", "postal_code"), ("customer",), ("customer", "id"),
    ("customer", "locale"), ("customer", "timezone"), ("customer", "channels"),
    ("customer", "channels", 0), ("items",), ("items", 0), ("items", 0, "quantity"),
    ("items", 0, "sku"), ("items", 0, "category"),
]  # fmt: skip
CHECK_PATHS = [("schema_version",), ("tracking_number",), ("requested_at",)]
CHECK_JSON = {"schema_version": 1, "tracking_number": TRACKING, "requested_at": ""}


def _mutated(base: dict[str, Any], changes: list[tuple[tuple[Any, ...], Any]]) -> dict[str, Any]:
    """``base`` with each (path, value) applied; a path through a non-container is skipped."""
    data = copy.deepcopy(base)
    for path, value in changes:
        parent: Any = data
        for step in path[:-1]:
            has_step = isinstance(parent, dict) and step in parent
            in_list = isinstance(parent, list) and isinstance(step, int) and step < len(parent)
            parent = parent[step] if has_step or in_list else None
        last = path[-1]
        if isinstance(parent, dict) and isinstance(last, str):
            if value is DELETE:
                parent.pop(last, None)
            else:
                parent[last] = value
        elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
            parent[last] = None if value is DELETE else value
    return data


def mutations(base: dict[str, Any], paths: list[tuple[Any, ...]]) -> st.SearchStrategy:
    change = st.tuples(st.sampled_from(paths), st.just(DELETE) | json_values)
    return st.lists(change, min_size=1, max_size=4).map(lambda changes: _mutated(base, changes))


def _check_json(requested_at: str) -> dict[str, Any]:
    return {**CHECK_JSON, "requested_at": requested_at}


hostile_objects = st.one_of(
    mutations(scan_json(), SCAN_PATHS),
    mutations(order_json(), ORDER_PATHS),
    timestamp_texts.map(_check_json).flatmap(lambda base: mutations(base, CHECK_PATHS)),
    st.dictionaries(st.sampled_from([p[0] for p in SCAN_PATHS + ORDER_PATHS]), json_values),
)
nows = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
keys = st.sampled_from([KEY, None, b"", b"\x00" * 3, TRACKING.encode() + b"\xff"])

# ---------------------------------------------------------------------------------------------
# (a) decoders


def _decode_and_apply(decoder, payload: bytes, key: bytes | None, now: datetime) -> None:
    """The property: a valid event the core applies, or InvalidEvent with a specific reason."""
    try:
        event = decoder(payload, key=key, now=now, limits=LIMITS)
    except InvalidEvent as error:
        assert error.reason is not DeadLetterReason.PROCESSING_ERROR
        assert isinstance(error.error, str) and error.error
        return
    assert isinstance(event, Scan | Order | ShipmentCheck)
    _run_through_core([event], now)


@given(decoder=st.sampled_from(DECODERS), payload=st.binary(max_size=300), now=nows)
def test_arbitrary_bytes_are_an_event_or_invalid(decoder, payload, now):
    _decode_and_apply(decoder, payload, KEY, now)


@given(decoder=st.sampled_from(DECODERS), value=json_values, key=keys, now=nows)
def test_arbitrary_json_is_an_event_or_invalid(decoder, value, key, now):
    _decode_and_apply(decoder, orjson.dumps(value), key, now)


@given(decoder=st.sampled_from(DECODERS), data=hostile_objects, key=keys)
def test_mutated_valid_events_are_an_event_or_invalid(decoder, data, key):
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # the factories' events are valid then
    _decode_and_apply(decoder, orjson.dumps(data), key, now)


# ---------------------------------------------------------------------------------------------
# (b) valid events, in any order, through the pure core

offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
ZONES = [
    None, "UTC", "Europe/Berlin", "America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago",
    "Etc/GMT-14", "Etc/GMT+12", "Australia/Lord_Howe", "Asia/Kathmandu", "America/St_Johns",
    "Antarctica/Troll", "Mars/Olympus_Mons", "America/Argentina",
]  # fmt: skip
LOCALES = [None, "en", "de", "fr", "de-AT", "fr-CA", "EN_gb", "pt-BR", "zz"]


def _plus(moment: datetime, delta: timedelta) -> datetime:
    """``moment + delta`` within [EARLIEST, LATEST]: the strategies follow ``Limits``, however
    wide, without overflowing themselves."""
    try:
        return min(max(moment + delta, EARLIEST), LATEST)
    except OverflowError:
        return LATEST if delta > timedelta(0) else EARLIEST


@st.composite
def moments(draw, low: datetime, high: datetime) -> datetime:
    """An instant in [low, high] (clamped to the decoder's earliest), in any UTC offset."""
    low, high = max(low, EARLIEST), max(min(high, LATEST), EARLIEST)
    span = int((high - low).total_seconds())
    second = draw(st.sampled_from([0, span]) | st.integers(0, span))
    return (low + timedelta(seconds=second)).astimezone(draw(offsets))


@dataclass(frozen=True)
class Story:
    now: datetime  # the producers' clock: every event is valid against it
    events: list[Scan | Order | ShipmentCheck]
    processing_delays: list[timedelta]  # how far behind the worker applies each event
    policy: FollowUpPolicy


@st.composite
def scans(draw, now: datetime) -> Scan:
    occurred_at = draw(moments(EARLIEST, _plus(now, LIMITS.clock_skew)))
    horizon = timedelta(days=LIMITS.max_estimate_days)
    estimate = draw(st.none() | moments(_plus(occurred_at, -horizon), _plus(occurred_at, horizon)))
    return Scan(
        event_id=draw(st.sampled_from(["e1", "e2", "e3"]) | st.text(min_size=1, max_size=20)),
        tracking_number=TRACKING,
        carrier=draw(st.sampled_from(["ups", "dhl", "x"])),
        status=draw(st.sampled_from(ShipmentStatus)),
        occurred_at=occurred_at,
        reason=draw(st.none() | st.sampled_from(ExceptionReason)),
        description=draw(st.none() | st.text(min_size=1, max_size=50)),
        location=draw(
            st.none()
            | st.builds(
                Location,
                city=st.none() | st.text(min_size=1, max_size=40),
                postal_code=st.none() | st.text(min_size=1, max_size=20),
            )
        ),
        estimated_delivery=estimate,
    )


@st.composite
def orders(draw, now: datetime) -> Order:
    ordered_at = draw(moments(EARLIEST, _plus(now, LIMITS.clock_skew)))
    promise = timedelta(days=LIMITS.max_promise_days)
    channels = draw(st.lists(st.sampled_from(NotificationChannel), max_size=3))
    customer = Customer(
        id=draw(st.text(min_size=1, max_size=20)),
        locale=draw(st.sampled_from(LOCALES)),
        timezone=draw(st.sampled_from(ZONES)),
        channels=tuple(dict.fromkeys(channels)),
    )
    return Order(
        event_id=draw(st.sampled_from(["o1", "o2"]) | st.text(min_size=1, max_size=20)),
        order_id=draw(st.text(min_size=1, max_size=200)),
        tracking_number=TRACKING,
        carrier=draw(st.sampled_from(["ups", "dhl"])),
        service_level=draw(st.sampled_from(["ground", "express", "economy"])),
        ordered_at=ordered_at,
        promised_by=draw(moments(ordered_at, _plus(ordered_at, promise))),
        destination=draw(st.none() | st.just(Place(country="DE"))),
        customer=draw(st.none() | st.just(customer)),
    )


@st.composite
def checks(draw, now: datetime) -> ShipmentCheck:
    requested_at = draw(moments(EARLIEST, _plus(now, LIMITS.clock_skew)))
    return ShipmentCheck(TRACKING, requested_at)


@st.composite
def stories(draw) -> Story:
    now = draw(nows)
    event = st.one_of(scans(now), orders(now), checks(now))
    events = draw(st.lists(event, min_size=1, max_size=10))
    delays = draw(
        st.lists(
            st.sampled_from([timedelta(0), timedelta(hours=25), timedelta(days=400)])
            | st.timedeltas(timedelta(0), timedelta(days=800)),
            min_size=len(events),
            max_size=len(events),
        )
    )
    return Story(now, events, sorted(delays), draw(st.sampled_from(POLICIES)))


def _run_through_core(
    events: list[Scan | Order | ShipmentCheck],
    now: datetime,
    delays: list[timedelta] | None = None,
    policy: FollowUpPolicy = POLICIES[0],
) -> None:
    """Apply ``events`` in order as the processor does, checking everything that comes out."""
    state = None
    for event, delay in zip(events, delays or [timedelta(0)] * len(events), strict=True):
        clock = now + delay
        if isinstance(event, ShipmentCheck):
            if state is None:
                continue
            result = follow_up(state, clock, policy, TEMPLATES, check_silences=True)
            alerts = result.alerts
        else:
            outcome = apply_event(state, event, clock)
            if not isinstance(outcome, Applied):
                continue
            result = follow_up(outcome.state, clock, policy, TEMPLATES, check_silences=False)
            alerts = outcome.alerts + result.alerts
        for alert in alerts:
            ALERT_SCHEMA.validate(to_jsonable(alert))
        for notification in result.notifications:
            NOTIFICATION_SCHEMA.validate(to_jsonable(notification))
            assert notification.message == customer_text(notification.message)
        state = state_from_json(state_to_json(result.state))  # as the table stores it


ALERT_SCHEMA = jsonschema.Draft202012Validator(load("alert"))
NOTIFICATION_SCHEMA = jsonschema.Draft202012Validator(load("notification"))


@given(story=stories())
def test_any_sequence_of_valid_events_goes_through_the_core(story):
    # Each event as it arrives: through the decoder, which must accept it (the strategies stay
    # within its bounds), and then the core, at a worker clock that may lag far behind.
    decoded = []
    for event, delay in zip(story.events, story.processing_delays, strict=True):
        decoder = DECODER_OF[type(event)]
        decoded.append(decoder(encode(event), key=KEY, now=story.now + delay, limits=LIMITS))
    _run_through_core(decoded, story.now, story.processing_delays, story.policy)


# ---------------------------------------------------------------------------------------------
# (c) dead letters


def _repeated(pattern_and_size: tuple[bytes, int]) -> bytes:
    pattern, size = pattern_and_size
    return (pattern * (size // len(pattern) + 1))[:size]


big_bytes = st.one_of(
    st.binary(max_size=64),
    st.tuples(
        st.sampled_from([b"\x00", b"\xff", b'"', b"\\", "é".encode(), "😀".encode(), b"a\x00"])
        | st.binary(min_size=1, max_size=4),
        st.integers(0, 1_200_000),
    ).map(_repeated),
)


@given(
    key=st.none() | big_bytes,
    payload=big_bytes,
    max_payload_bytes=st.integers(0, 2**40),
    words=st.text(max_size=50).map(lambda text: text * 100),
)
def test_a_dead_letter_fits_its_budget_whatever_the_input(key, payload, max_payload_bytes, words):
    letter = make_dead_letter(
        error=InvalidEvent(DeadLetterReason.PAYLOAD_TOO_LARGE, words or "x"), source_topic="t",
        source_partition=0, source_offset=0, key=key, payload=payload,
        received_at=datetime(2026, 11, 21, tzinfo=UTC),
        limits=Limits(max_payload_bytes=max_payload_bytes),
    )  # fmt: skip
    assert len(encode(letter)) <= MAX_DEAD_LETTER_BYTES
    assert letter.payload_size == len(payload)
    assert letter.key_size == (None if key is None else len(key))
    DEAD_LETTER_SCHEMA.validate(to_jsonable(letter))


DEAD_LETTER_SCHEMA = jsonschema.Draft202012Validator(load("dead-letter"))


@given(text=st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(UNSAFE)))
def test_customer_text_is_clean_and_idempotent(text):
    cleaned = customer_text(text)
    assert not any(char in cleaned for char in UNSAFE)
    assert customer_text(cleaned) == cleaned
