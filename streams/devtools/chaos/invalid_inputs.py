"""Invalid input messages, generated with hypothesis strategies, and poison keys and values.

Each strategy takes a *valid* event (an order, a scan of a good journey, or a timer check) and
breaks it in exactly one way, so that the message is invalid by construction and the contract
names the dead-letter reason it calls for. Breaks aimed at good shipments (same tracking number and
key) matter most: accepting one would change a good shipment's state and outputs.

Outside pytest, examples are drawn by a ``@given``-decorated collector run once with a fixed
``@seed``, no example database and the generate phase only: the same seed gives the same messages.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import orjson
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from parcelwatch.schemas.timestamps import RFC3339_PATTERN
from parcelwatch.schemas.types import (
    DeadLetterReason,
    ExceptionReason,
    NotificationChannel,
    ShipmentStatus,
)

TopicKind = Literal["orders", "scans", "checks"]
R = DeadLetterReason
MAX_PAYLOAD_BYTES = 64 * 1024  # the worker's default PARCELWATCH_MAX_PAYLOAD_BYTES
POISON_SIZES = (1024, 64 * 1024 + 1, 400 * 1024, 900 * 1024)  # the broker takes up to ~1 MB

REQUIRED: dict[TopicKind, tuple[str, ...]] = {
    "orders": (
        "event_id", "order_id", "tracking_number", "carrier", "service_level", "ordered_at",
        "promised_by", "schema_version",
    ),
    "scans": ("event_id", "tracking_number", "carrier", "status", "occurred_at", "schema_version"),
    "checks": ("tracking_number", "requested_at", "schema_version"),
}  # fmt: skip
TIMESTAMPS: dict[TopicKind, tuple[str, ...]] = {
    "orders": ("ordered_at", "promised_by"),
    "scans": ("occurred_at", "estimated_delivery"),
    "checks": ("requested_at",),
}
EVENT_TIME = {"orders": "ordered_at", "scans": "occurred_at", "checks": "requested_at"}
# Fields with a pattern (tracking numbers, carriers, country codes ...): a control or bidi
# character makes them invalid.
PATTERNED: dict[TopicKind, tuple[tuple[str, ...], ...]] = {
    "orders": (
        ("tracking_number",), ("carrier",), ("service_level",), ("customer", "locale"),
        ("customer", "timezone"), ("destination", "country"),
    ),
    "scans": (("tracking_number",), ("carrier",)),
    "checks": (("tracking_number",),),
}  # fmt: skip
CONTROL_AND_BIDI = (
    "\x00", "\x07", "\x08", "\x1b", "\x7f", "\x85", "\u200b", "\u200e", "\u200f", "\u202a",
    "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\ufeff",
    "\n", "\r", "\t",
)  # fmt: skip
OFFSETS = ("Z", "+00:00", "+14:00", "-12:00", "+23:59", "-23:59")
_RFC3339 = re.compile(RFC3339_PATTERN[1:-1])


@dataclass(frozen=True)
class BadMessage:
    topic_kind: TopicKind
    key: bytes | None
    value: bytes
    flaw: str  # what was broken, e.g. "missing_field"
    expected_reason: str  # the dead-letter reason the contract calls for


@dataclass(frozen=True)
class GoodPool:
    """Valid events to break: JSON objects of good orders and scans, and their shipments."""

    orders: tuple[dict[str, Any], ...]
    scans: tuple[dict[str, Any], ...]
    now: datetime

    @property
    def tracking_numbers(self) -> tuple[str, ...]:
        return tuple(order["tracking_number"] for order in self.orders)


# -- the collector ---------------------------------------------------------------------------


def generate_bad_messages(pool: GoodPool, count: int, seed_value: int) -> list[BadMessage]:
    """``count`` distinct invalid messages, the same ones for the same seed and pool."""
    found: dict[tuple[str, bytes | None, bytes], BadMessage] = {}
    for attempt in range(5):  # hypothesis may repeat an example; top up with the next seed
        wanted = (count - len(found)) * 11 // 10 + 10
        for message in _draw(bad_messages(pool), wanted, seed_value + attempt):
            found.setdefault((message.topic_kind, message.key, message.value), message)
        if len(found) >= count:
            break
    return list(found.values())[:count]


def _draw(strategy: st.SearchStrategy[BadMessage], count: int, seed_value: int) -> list[BadMessage]:
    examples: list[BadMessage] = []

    @seed(seed_value)
    @settings(
        max_examples=count, database=None, deadline=None, phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(strategy)
    def collect(message: BadMessage) -> None:
        examples.append(message)

    collect()
    return examples


# -- strategies ------------------------------------------------------------------------------

Base = tuple[TopicKind, dict[str, Any]]
Breaker = Callable[[st.DrawFn, TopicKind, dict[str, Any], GoodPool], tuple[Any, str, str]]


def bad_messages(pool: GoodPool) -> st.SearchStrategy[BadMessage]:
    """One valid event of any input topic, broken by one of the breakers."""
    return st.one_of(*(_broken(pool, breaker) for breaker in BREAKERS))


def _bases(pool: GoodPool) -> st.SearchStrategy[Base]:
    checks = st.sampled_from(pool.tracking_numbers).map(
        lambda tracking: {
            "tracking_number": tracking,
            "requested_at": (pool.now - timedelta(hours=1)).isoformat(),
            "schema_version": 1,
        }
    )
    return st.one_of(
        st.tuples(st.just("orders"), st.sampled_from(pool.orders).map(copy.deepcopy)),
        st.tuples(st.just("scans"), st.sampled_from(pool.scans).map(copy.deepcopy)),
        st.tuples(st.just("checks"), checks),
    )  # type: ignore[return-value]


def _broken(pool: GoodPool, breaker: Breaker) -> st.SearchStrategy[BadMessage]:
    @st.composite
    def build(draw: st.DrawFn) -> BadMessage:
        kind, event = draw(_bases(pool))
        if "event_id" in event:
            # A new id: accepted by mistake, it is applied (not skipped as a duplicate of the
            # good event it was made from), and its id in a state tells that it was.
            event["event_id"] = f"{event['event_id']}-bad{draw(st.integers(0, 999_999))}"
        key: bytes | None = str(event["tracking_number"]).encode()
        broken, flaw, reason = breaker(draw, kind, event, pool)
        if isinstance(broken, tuple):  # (event, key): the breaker chose the key too
            broken, key = broken
        value = broken if isinstance(broken, bytes) else orjson.dumps(broken)
        if len(value) > MAX_PAYLOAD_BYTES:
            reason = R.PAYLOAD_TOO_LARGE.value  # size is checked before anything else
        return BadMessage(kind, key, value, flaw, reason)

    return build()


def _malformed_json(draw: st.DrawFn, kind: TopicKind, event: dict[str, Any], pool: GoodPool):
    encoded = orjson.dumps(event)
    how = draw(st.sampled_from(["truncated", "not_utf8", "garbage"]))
    if how == "truncated":  # every strict prefix of an object lacks its closing brace
        return encoded[: draw(st.integers(1, len(encoded) - 1))], "malformed_json", R.MALFORMED_JSON
    if how == "not_utf8":
        at = draw(st.integers(0, len(encoded)))
        bad = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80"]))
        return encoded[:at] + bad + encoded[at:], "invalid_utf8", R.MALFORMED_JSON
    garbage = draw(st.binary(min_size=1, max_size=300).filter(lambda b: not _parses(b)))
    return garbage, "garbage_bytes", R.MALFORMED_JSON


def _not_an_object(draw: st.DrawFn, kind: TopicKind, event: dict[str, Any], pool: GoodPool):
    value = draw(st.one_of(_json_scalars(), st.lists(_json_values(), max_size=5)))
    return orjson.dumps(value), "not_an_object", R.NOT_AN_OBJECT


def _schema_version(draw: st.DrawFn, kind: TopicKind, event: dict[str, Any], pool: GoodPool):
    how = draw(st.sampled_from(["absent", "null", "other"]))
    if how == "absent":
        del event["schema_version"]
        return event, "schema_version_absent", R.MISSING_FIELD
    if how == "null":
        event["schema_version"] = None
        return event, "schema_version_null", R.MISSING_FIELD
    # Every JSON type but the supported integer (1.0 is the integer 1 in JSON: not a break).
    event["schema_version"] = draw(
        st.one_of(
            st.booleans(),
            st.integers(-(2**63), 2**63 - 1).filter(lambda n: n != 1),
            st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x != 1.0),
            st.text(max_size=10),
            st.lists(st.integers(0, 3), max_size=3),
            st.dictionaries(st.text(max_size=5), st.integers(0, 3), max_size=2),
        )
    )
    return event, "schema_version_unsupported", R.UNSUPPORTED_SCHEMA_VERSION


def _missing_field(draw: st.DrawFn, kind: TopicKind, event: dict[str, Any], pool: GoodPool):
    name = draw(st.sampled_from([n for n in REQUIRED[kind] if n != "schema_version"]))
    if draw(st.booleans()):
        del event[name]
    else:
        event[name] = None
    return event, f"missing:{name}", R.MISSING_FIELD


def _wrong_type(draw: st.DrawFn, kind: TopicKind, event: dict[str, Any], pool: GoodPool):
    names = [n for n in REQUIRED[kind] if n != "schema_version"]
    names += {"orders": ["customer", "origin", "items"], "scans": ["location"], "checks": []}[kind]
    name = draw(st.sampled_from(names))
    not_string = st.one_of(
        st.integers(-(2**31), 2**31), st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(), st.lists(st.integers(0, 9), max_size=3),
        st.dictionaries(st.text(max_size=4), st.integers(0, 9), max_size=2),
    )  # fmt: skip
    if name == "items":
        event[name] = draw(
            st.one_of(st.text(max_size=5), st.integers(0, 99), st.just({"sku": "x"}))
        )
    elif name in ("customer", "origin", "location"):
        event[name] = draw(
            st.one_of(st.text(max_size=5), st.integers(0, 99), st.lists(st.integers(0, 9)))
        )
    else:
        event[name] = draw(not_string)
    return event, f"wrong_type:{name}", R.WRONG_TYPE


def _bad_enum(draw: st.DrawFn, kind: TopicKind, event: dict[str, Any], pool: GoodPool):
    if kind == "scans":
        if draw(st.booleans()):
            event["status"] = draw(_text_not_in(ShipmentStatus))
            return event, "unknown_status", R.UNKNOWN_STATUS
        event["reason"] = draw(_text_not_in(ExceptionReason))
        return event, "unknown_reason", R.UNKNOWN_REASON
    if kind == "orders" and event.get("customer"):
        event["customer"]["channels"] = [draw(_text_not_in(NotificationChannel))]
        return event, "unknown_channel", R.INVALID_VALUE
    event["tracking_number"] = draw(st.sampled_from(["", "-starts-with-dash", "a" * 65]))
    return event, "invalid_tracking_number", R.INVALID_VALUE


def _bad_timestamp(draw: st.DrawFn, kind: TopicKind, event: dict[str, Any], pool: GoodPool):
    name = draw(st.sampled_from(TIMESTAMPS[kind]))
    event[name] = draw(
        st.one_of(
            st.sampled_from(
                [
                    "2026-11-23T15:30:00",  # no offset
                    "2026-11-23",
                    "20261123T153000Z",  # basic format
                    "2026-02-30T10:00:00Z",  # no such day
                    "2026-13-01T00:00:00Z",
                    "2026-11-23T24:00:00Z",
                    "2026-11-23T12:60:00Z",
                    "2026-11-23T12:00:60Z",
                    "2026-11-23T12:00:00+25:00",
                    "Mon, 23 Nov 2026 15:30:00 GMT",
                    "",
                ]
            ),
            st.text(max_size=40).filter(lambda text: not _RFC3339.fullmatch(text)),
        )
    )
    return event, f"invalid_timestamp:{name}", R.INVALID_TIMESTAMP


def _impossible_timestamp(draw: st.DrawFn, kind: TopicKind, event: dict[str, Any], pool: GoodPool):
    extra = {"orders": ["far_promise", "early_promise"], "scans": ["estimate"], "checks": []}
    how = draw(st.sampled_from(["year_9999", "before_2000", "future", *extra[kind]]))
    offset = draw(st.sampled_from(OFFSETS))
    if how == "far_promise":
        event["promised_by"] = f"9999-12-31T23:59:59{offset}"
        return event, "far_future_promise", R.IMPOSSIBLE_TIMESTAMP
    if how == "early_promise":
        event["promised_by"] = "2001-01-01T00:00:00Z"
        return event, "promise_before_order", R.IMPOSSIBLE_TIMESTAMP
    if how == "estimate":
        year = draw(st.sampled_from([9999, 1900]))
        event["estimated_delivery"] = f"{year}-12-31T23:59:59{offset}"
        return event, f"estimated_delivery_{year}", R.IMPOSSIBLE_TIMESTAMP
    name = EVENT_TIME[kind]
    if how == "before_2000":
        year = draw(st.integers(1, 1999))
        event[name] = f"{year:04d}-06-15T12:00:00{offset}"
        return event, "before_2000", R.IMPOSSIBLE_TIMESTAMP
    if how == "future":
        ahead = timedelta(days=draw(st.integers(2, 3000)), seconds=draw(st.integers(0, 86399)))
        event[name] = (pool.now + ahead).replace(microsecond=0).isoformat()
        return event, "in_the_future", R.IMPOSSIBLE_TIMESTAMP
    event[name] = f"9999-12-31T23:59:59{offset}"
    return event, "year_9999", R.IMPOSSIBLE_TIMESTAMP


def _wrong_key(draw: st.DrawFn, kind: TopicKind, event: dict[str, Any], pool: GoodPool):
    own = str(event["tracking_number"]).encode()
    key = draw(
        st.one_of(
            st.none(),
            st.sampled_from(pool.tracking_numbers).map(str.encode),
            st.just(own + b" "),
            st.just(own.lower() if own.lower() != own else b"x" + own),
            st.binary(max_size=64),
        ).filter(lambda candidate: candidate != own)
    )
    return (event, key), "wrong_key", R.KEY_MISMATCH


def _control_characters(draw: st.DrawFn, kind: TopicKind, event: dict[str, Any], pool: GoodPool):
    path = draw(st.sampled_from(PATTERNED[kind]))
    holder = event
    for step in path[:-1]:
        if not isinstance(holder.get(step), dict):
            path, holder = ("tracking_number",), event
            break
        holder = holder[step]
    text = str(holder.get(path[-1]) or "x")
    at = draw(st.integers(0, len(text)))
    holder[path[-1]] = text[:at] + draw(st.sampled_from(CONTROL_AND_BIDI)) + text[at:]
    # The key stays the (now broken) tracking number: what fails is the field's pattern.
    key = str(event["tracking_number"]).encode() if path == ("tracking_number",) else None
    broken = (event, key) if key is not None else event
    return broken, f"control_character:{'.'.join(path)}", R.INVALID_VALUE


def _huge_string(draw: st.DrawFn, kind: TopicKind, event: dict[str, Any], pool: GoodPool):
    limits = {"description": 1000, "event_id": 200, "tracking_number": 64, "order_id": 200}
    names = {"orders": ["event_id", "order_id"], "scans": ["description", "event_id"]}.get(
        kind, ["tracking_number"]
    )
    name = draw(st.sampled_from(names))
    length = draw(st.integers(limits[name] + 1, 70_000))
    event[name] = draw(st.sampled_from(["x", "é", "\u4e2d", "\U0001f4e6"])) * length
    return event, f"huge_string:{name}", R.INVALID_VALUE


BREAKERS: tuple[Breaker, ...] = (
    _malformed_json, _not_an_object, _schema_version, _missing_field, _wrong_type, _bad_enum,
    _bad_timestamp, _impossible_timestamp, _wrong_key, _control_characters, _huge_string,
)  # fmt: skip


def _text_not_in(enum: Any) -> st.SearchStrategy[str]:
    values = {member.value for member in enum}
    return st.text(max_size=30).filter(lambda text: text not in values)


def _json_scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=50),
    )  # fmt: skip


def _json_values() -> st.SearchStrategy[Any]:
    return st.recursive(
        _json_scalars(),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=8,
    )


def _parses(payload: bytes) -> bool:
    try:
        orjson.loads(payload)
    except orjson.JSONDecodeError:
        return False
    return True


# -- poison ----------------------------------------------------------------------------------


def poison_messages(pool: GoodPool, seed_value: int) -> list[BadMessage]:
    """Keys and values of every size up to what the broker accepts, on every input topic: random
    bytes (a key is not even UTF-8), or JSON far over the payload limit."""
    rng = random.Random(f"parcelwatch.chaos.poison/{seed_value}")
    poison: list[BadMessage] = []
    for kind in ("orders", "scans", "checks"):
        for size in POISON_SIZES:
            event = _poison_base(kind, pool, rng)
            poison.append(
                BadMessage(
                    kind, rng.randbytes(size), orjson.dumps(event), f"poison_key_{size}",
                    R.KEY_MISMATCH.value,
                )
            )  # fmt: skip
            tracking = str(event["tracking_number"]).encode()
            if size <= MAX_PAYLOAD_BYTES:
                value = b"\xff" + rng.randbytes(size - 1)  # never valid UTF-8 JSON
                poison.append(
                    BadMessage(
                        kind, tracking, value, f"poison_value_{size}", R.MALFORMED_JSON.value
                    )
                )
            else:
                event["description"] = "p" * size  # valid JSON, far over the limit
                value = orjson.dumps(event)[:size] if rng.random() < 0.5 else rng.randbytes(size)
                poison.append(
                    BadMessage(
                        kind, tracking, value, f"poison_value_{size}",
                        R.PAYLOAD_TOO_LARGE.value,
                    )
                )  # fmt: skip
    return poison


def _poison_base(kind: TopicKind, pool: GoodPool, rng: random.Random) -> dict[str, Any]:
    if kind == "checks":
        return {
            "tracking_number": rng.choice(pool.tracking_numbers),
            "requested_at": (pool.now - timedelta(hours=1)).isoformat(),
            "schema_version": 1,
        }
    event = copy.deepcopy(rng.choice(pool.orders if kind == "orders" else pool.scans))
    event["event_id"] = f"{event['event_id']}-poison"  # were it applied, it would not be a dup
    return event


def interleave(
    good: Sequence[Any], bad: Sequence[Any], seed_value: int, salt: str
) -> list[tuple[bool, Any]]:
    """``good`` in its order with ``bad`` spread among it at seeded places; (is_bad, item)."""
    rng = random.Random(f"parcelwatch.chaos.interleave/{seed_value}/{salt}")
    slots = sorted(rng.randrange(len(good) + 1) for _ in bad)
    mixed: list[tuple[bool, Any]] = []
    position = 0
    for index, item in enumerate(good):
        while position < len(slots) and slots[position] == index:
            mixed.append((True, bad[position]))
            position += 1
        mixed.append((False, item))
    mixed += [(True, item) for item in bad[position:]]
    return mixed
