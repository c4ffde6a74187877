"""Hostile input on the real broker: a bad message is dead-lettered on its own and never takes a
good one down with it (a valid order, the events behind it in the partition, the worker)."""

from __future__ import annotations

import hashlib
import urllib.request
import uuid
from datetime import datetime, timedelta

import orjson

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.schemas.types import Order, Scan
from tests.factories import order_at, scan_at
from tests.integration.conftest import collect, produce, wait_until_committed

NO_QUIET_HOURS = {"PARCELWATCH_QUIET_HOURS": "off"}  # the tests must not depend on the time of day
# Dead letters must stay far below the producer's 1 MiB message limit, whatever the input.
DEAD_LETTER_CEILING = 512 * 1024
BERLIN = {"locale": "de-DE", "timezone": "Europe/Berlin"}  # the customer of these orders


def _tracking(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:8].upper()


def _message(topics, event: Order | Scan, **overrides) -> tuple[str, bytes, bytes]:
    topic = topics.orders if isinstance(event, Order) else topics.carrier_scans
    payload = encode(event) if not overrides else orjson.dumps({**_json(event), **overrides})
    return topic, event.tracking_number.encode(), payload


def _json(event: Order | Scan) -> dict:
    return orjson.loads(encode(event))


async def test_a_year_9999_estimate_before_its_order_does_not_cost_the_order(deployment, workers):
    topics = deployment.topics
    workers.append(deployment.start_worker(extra_env=NO_QUIET_HOURS))
    now = utc_now()
    tracking = _tracking("1ZFAR")
    label = scan_at(tracking, "info_received", now - timedelta(hours=2))
    await produce(
        [
            _message(topics, label, estimated_delivery="9999-12-31T23:59:59Z"),
            _message(topics, order_at(tracking, now, **BERLIN)),
        ]
    )

    letters = await collect(topics.dead_letter, lambda v: len(v) >= 1, settle=2)
    notifications = await collect(topics.customer_notifications, lambda v: len(v) >= 1, settle=2)

    assert [(x["reason"], x["source_topic"]) for x in letters] == [
        ("impossible_timestamp", topics.carrier_scans)
    ]
    assert "estimated_delivery" in letters[0]["error"]
    assert [(n["kind"], n["tracking_number"]) for n in notifications] == [
        ("order_confirmed", tracking)
    ]
    assert "9999" not in notifications[0]["message"]


async def test_a_schema_version_of_the_wrong_type_has_a_specific_reason(deployment, workers):
    topics = deployment.topics
    workers.append(deployment.start_worker())
    tracking = _tracking("1ZVER")
    scan = scan_at(tracking, "in_transit", utc_now() - timedelta(hours=1))
    await produce([_message(topics, scan, schema_version=[1])])

    letters = await collect(topics.dead_letter, lambda v: len(v) >= 1, settle=2)

    assert [x["reason"] for x in letters] == ["unsupported_schema_version"]
    assert "schema_version" in letters[0]["error"]


def _journeys(topics, count: int, now: datetime) -> list[tuple[str, bytes, bytes]]:
    """``count`` good messages: orders and scans of several shipments, interleaved."""
    statuses = [
        "info_received", "picked_up", "in_transit", "in_transit", "in_transit",
        "out_for_delivery", "delivered",
    ]  # fmt: skip
    shipments = [_tracking(f"1ZOK{index}") for index in range(count // (len(statuses) + 1))]
    messages = []
    for step in range(len(statuses) + 1):
        for tracking in shipments:
            if step == 0:
                messages.append(_message(topics, order_at(tracking, now, **BERLIN)))
            else:
                at = now - timedelta(hours=3) + timedelta(minutes=20 * step)
                messages.append(
                    _message(topics, scan_at(tracking, statuses[step - 1], at, f"-{step}"))
                )
    assert len(messages) == count
    return messages


async def test_a_huge_key_or_value_is_dead_lettered_bounded_and_the_stream_goes_on(
    deployment, workers
):
    topics = deployment.topics
    worker = deployment.start_worker()
    workers.append(worker)
    now = utc_now()
    # NUL bytes grow 6x under JSON escaping (\u0000), invalid UTF-8 3x (U+FFFD) or 4/3 (base64).
    huge_key = b"\x00\xff" * 200_000  # 400 KB
    huge_value = b"\x00" * 900_000
    poison_scan = _json(scan_at(_tracking("1ZKEY"), "in_transit", now - timedelta(hours=1)))
    good = _journeys(topics, 40, now)
    await produce(
        [
            (topics.carrier_scans, huge_key, orjson.dumps(poison_scan)),
            (topics.carrier_scans, b"1ZBIGVALUE", huge_value),
            *good,
        ]
    )
    await wait_until_committed(deployment, timeout=60)

    letters = await collect(topics.dead_letter, lambda v: len(v) >= 2, settle=2)
    by_reason = {letter["reason"]: letter for letter in letters}
    assert sorted(by_reason) == ["key_mismatch", "payload_too_large"], letters

    keyed = by_reason["key_mismatch"]
    assert keyed["key_size"] == len(huge_key)
    assert keyed["key_sha256"] == hashlib.sha256(huge_key).hexdigest()
    assert keyed["key_truncated"] is True
    assert keyed["payload_truncated"] is False
    assert orjson.loads(keyed["payload"]) == poison_scan

    oversize = by_reason["payload_too_large"]
    assert oversize["payload_size"] == len(huge_value)
    assert oversize["payload_sha256"] == hashlib.sha256(huge_value).hexdigest()
    assert oversize["payload_truncated"] is True
    for letter in letters:
        assert len(orjson.dumps(letter)) < DEAD_LETTER_CEILING

    assert worker.events_total("applied") == len(good)
    assert worker.events_total("dead_lettered") == 2
    assert worker.process is not None and worker.process.poll() is None
    with urllib.request.urlopen(f"http://127.0.0.1:{worker.port}/healthz", timeout=5) as health:
        assert health.status == 200
