"""End to end on the real broker: inputs in, exactly the expected alerts and dead letters out."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from parcelwatch.schemas.codec import encode
from tests.factories import order, scan
from tests.integration.conftest import collect, produce

# Event times a few days back, so nothing looks like it comes from the future.
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(days=4)


def shifted(event):
    """Factories count hours from a fixed T0; move their events to BASE."""
    from dataclasses import fields, replace

    from tests.factories import T0

    delta = BASE - T0
    changes = {
        f.name: getattr(event, f.name) + delta
        for f in fields(event)
        if isinstance(getattr(event, f.name), datetime)
    }
    return replace(event, **changes)


def journeys(topics):
    """(topic, key, bytes) messages covering every alert rule, duplicates and out-of-order scans."""
    s = topics.carrier_scans
    o = topics.orders

    def msg(event, topic=None, key=None):
        event = shifted(event)
        topic = topic or (s if hasattr(event, "status") else o)
        return (topic, key if key is not None else event.tracking_number.encode(), encode(event))

    ex, af, rt, mp, dl = "EXC000001", "ATT000001", "RET000001", "LATE00001", "DLV000001"
    return [
        msg(order(72, "o-ex", tracking_number=ex)),
        msg(scan("picked_up", 1, "ex-1", tracking_number=ex)),
        msg(scan("exception", 10, "ex-2", reason="damaged", tracking_number=ex)),
        msg(scan("exception", 10, "ex-2", reason="damaged", tracking_number=ex)),  # duplicate
        msg(scan("exception", 12, "ex-3", reason="damaged", tracking_number=ex)),  # same episode
        msg(scan("out_for_delivery", 20, "af-1", tracking_number=af)),
        msg(scan("attempt_failed", 21, "af-2", reason="recipient_unavailable", tracking_number=af)),
        msg(
            scan("attempt_failed", 21.5, "af-3", reason="recipient_unavailable", tracking_number=af)
        ),
        msg(scan("out_for_delivery", 44, "af-4", tracking_number=af)),
        msg(scan("attempt_failed", 45, "af-5", reason="address_issue", tracking_number=af)),
        msg(scan("returning_to_sender", 5, "rt-1", reason="refused", tracking_number=rt)),
        msg(scan("in_transit", 9, "rt-2", tracking_number=rt)),
        msg(scan("returned_to_sender", 30, "rt-3", tracking_number=rt)),
        msg(order(24, "o-mp", tracking_number=mp)),
        msg(scan("in_transit", 10, "mp-1", tracking_number=mp)),
        msg(scan("in_transit", 29, "mp-2", tracking_number=mp)),
        msg(scan("in_transit", 35, "mp-3", tracking_number=mp)),
        msg(scan("delivered", 30, "dl-1", tracking_number=dl)),
        msg(scan("in_transit", 31, "dl-2", tracking_number=dl)),  # mis-dated, after delivery
        msg(scan("exception", 25, "dl-3", reason="weather_delay", tracking_number=dl)),  # stale
    ]


def bad_messages(topics):
    s, o = topics.carrier_scans, topics.orders
    good = orjson.loads(encode(shifted(scan("in_transit", 1, "bad-x", tracking_number="BAD0001"))))
    return [
        (s, b"BAD0001", b"{not json"),
        (s, b"BAD0001", orjson.dumps({**good, "status": "teleported"})),
        (s, b"BAD0001", orjson.dumps({**good, "reason": "aliens"})),
        (s, b"OTHERKEY", orjson.dumps(good)),
        (s, b"BAD0001", orjson.dumps({**good, "occurred_at": "2099-01-01T00:00:00Z"})),
        (s, b"BAD0001", orjson.dumps({**good, "occurred_at": "yesterday"})),
        (s, b"BAD0001", orjson.dumps({k: v for k, v in good.items() if k != "carrier"})),
        (s, b"BAD0001", orjson.dumps({**good, "description": "x" * 70_000})),
        (o, b"BAD0001", orjson.dumps({"schema_version": 1, "event_id": 7})),
        (s, None, orjson.dumps(good)),
    ]


EXPECTED_ALERTS = Counter(
    {
        ("EXC000001", "carrier_exception"): 1,
        ("ATT000001", "attempt_failed"): 2,
        ("RET000001", "returned"): 1,
        ("LATE00001", "missed_promise"): 1,
    }
)
EXPECTED_DEAD_LETTERS = Counter(
    {
        "malformed_json": 1,
        "unknown_status": 1,
        "unknown_reason": 1,
        "key_mismatch": 2,
        "impossible_timestamp": 1,
        "invalid_timestamp": 1,
        "missing_field": 1,
        "payload_too_large": 1,
        "wrong_type": 1,
    }
)


async def test_exactly_the_expected_alerts_and_dead_letters(deployment, workers):
    topics = deployment.topics
    worker = deployment.start_worker()
    workers.append(worker)
    good, bad = journeys(topics), bad_messages(topics)
    await produce(good + bad)

    alerts = await collect(
        topics.shipment_alerts, lambda v: len(v) >= sum(EXPECTED_ALERTS.values())
    )
    letters = await collect(
        topics.dead_letter, lambda v: len(v) >= sum(EXPECTED_DEAD_LETTERS.values()), settle=0
    )

    assert Counter((a["tracking_number"], a["kind"]) for a in alerts) == EXPECTED_ALERTS
    assert len({a["alert_id"] for a in alerts}) == len(alerts)
    assert Counter(letter["reason"] for letter in letters) == EXPECTED_DEAD_LETTERS
    oversize = next(x for x in letters if x["reason"] == "payload_too_large")
    assert oversize["payload_truncated"] is True
    assert {letter["source_topic"] for letter in letters} == {topics.carrier_scans, topics.orders}

    exception = next(a for a in alerts if a["kind"] == "carrier_exception")
    assert exception["order_id"] == "A-1001" and exception["severity"] == "critical"

    # Shipment state is never served over HTTP: only /metrics and /healthz are.
    for path in ("/table/", "/table/shipments/", "/router/", "/graph/"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{worker.port}{path}", timeout=5)
        assert refused.value.code == 404, path

    # Every input is accounted for: applied + duplicate + dead-lettered == produced.
    applied, duplicates = worker.events_total("applied"), worker.events_total("duplicate")
    dead = worker.events_total("dead_lettered")
    assert (applied, duplicates, dead) == (len(good) - 1, 1, len(bad))
