"""Raw carrier payloads on the real broker: an EasyPost tracker history on ``carrier-raw`` comes
out as scans on ``carrier-scans`` and the shipment's alert; the same history resent adds nothing,
a longer one adds only its new event; an unreadable payload is one dead letter."""

from __future__ import annotations

import asyncio
import copy
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from parcelwatch.schemas.carrier_raw import raw_payload_for
from parcelwatch.schemas.codec import encode
from tests.factories import order_at
from tests.integration.conftest import WorkerProcess, collect, produce

HISTORY = (
    Path(__file__).resolve().parents[1]
    / "data" / "carriers" / "easypost" / "constructed_tracker_weather_exception.json"
)  # fmt: skip
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # EasyPost's (a local time, despite the Z)


def recent_history() -> dict[str, Any]:
    """The saved tracker with its dates moved to the last days (same times of day), so no
    event is stale or in the future: the weather delay was two days ago."""
    tracker = orjson.loads(HISTORY.read_bytes())
    last = datetime.strptime(tracker["tracking_details"][-1]["datetime"], TIME_FORMAT)
    days = (datetime.now(UTC).date() - timedelta(days=2) - last.date()).days
    for detail in tracker["tracking_details"]:
        moved = datetime.strptime(detail["datetime"], TIME_FORMAT) + timedelta(days=days)
        detail["datetime"] = moved.strftime(TIME_FORMAT)
    return tracker


def with_out_for_delivery(tracker: dict[str, Any]) -> dict[str, Any]:
    """The longer resend: the same history and one new event, five hours after the last."""
    longer = copy.deepcopy(tracker)
    event = copy.deepcopy(longer["tracking_details"][-1])
    moved = datetime.strptime(event["datetime"], TIME_FORMAT) + timedelta(hours=5)
    event.update(
        datetime=moved.strftime(TIME_FORMAT), message="Out For Delivery Today",
        status="out_for_delivery", status_detail="out_for_delivery",
    )  # fmt: skip
    longer["tracking_details"].append(event)
    longer["status"] = longer["status_detail"] = "out_for_delivery"
    return longer


def raw(topic: str, tracker: dict[str, Any] | bytes) -> tuple[str, bytes, bytes]:
    body = tracker if isinstance(tracker, bytes) else orjson.dumps(tracker)
    message = raw_payload_for(
        "easypost", body, received_at=datetime.now(UTC), content_type="application/json"
    )
    return topic, b"1Z999AA10123456786", encode(message)


async def until_metrics(worker: WorkerProcess, wanted: dict[str, float], timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        seen = worker.metrics()
        if all(seen.get(name, 0.0) >= value for name, value in wanted.items()):
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"metrics never reached {wanted}: {worker.log_tail()}")
        await asyncio.sleep(0.5)


async def test_raw_history_in_scans_and_alert_out_and_resends_add_nothing(deployment, workers):
    topics = deployment.topics
    worker = deployment.start_worker()
    workers.append(worker)
    history = recent_history()
    tracking = history["tracking_code"]
    scans_metric = f'parcelwatch_events_total{{outcome="%s",topic="{topics.carrier_scans}"}}'

    await produce(
        [
            (topics.orders, tracking.encode(), encode(order_at(tracking, datetime.now(UTC)))),
            raw(topics.carrier_raw, history),
        ]
    )
    first_scans = await collect(topics.carrier_scans, lambda v: len(v) >= 4)
    assert [scan["tracking_number"] for scan in first_scans] == [tracking] * 4
    assert [scan["source"] for scan in first_scans] == ["easypost"] * 4
    assert first_scans[-1]["reason"] == "weather_delay"
    first_alerts = await collect(topics.shipment_alerts, lambda v: len(v) >= 1)
    assert [(a["kind"], a["source_event_id"]) for a in first_alerts] == [
        ("carrier_exception", first_scans[-1]["event_id"])
    ]
    await until_metrics(worker, {scans_metric % "applied": 4})

    # The same history again, then the longer one: only the new event is new.
    await produce(
        [raw(topics.carrier_raw, history), raw(topics.carrier_raw, with_out_for_delivery(history))]
    )
    metrics = await until_metrics(worker, {scans_metric % "duplicate": 8})
    assert metrics[scans_metric % "applied"] == 5
    scans = await collect(topics.carrier_scans, lambda v: len(v) >= 4 + 4 + 5)
    assert len(scans) == 13
    assert scans[4:8] == first_scans  # byte for byte the same scans, the same ids
    new_ids = {scan["event_id"] for scan in scans} - {scan["event_id"] for scan in first_scans}
    assert len(new_ids) == 1
    (new_scan,) = [scan for scan in scans[8:] if scan["event_id"] in new_ids]
    assert new_scan["status"] == "out_for_delivery"
    alerts = await collect(topics.shipment_alerts, lambda v: len(v) >= 1)
    assert alerts[: len(first_alerts)] == first_alerts
    assert all(alert["source_event_id"] in new_ids for alert in alerts[len(first_alerts) :])

    # An unreadable payload: one dead letter with the reason and the original bytes.
    broken = raw(topics.carrier_raw, b"<html><body>502 Bad Gateway</body></html>")
    await produce([broken])
    (letter,) = await collect(topics.dead_letter, lambda v: len(v) >= 1)
    assert letter["reason"] == "invalid_value"
    assert letter["error"].startswith("payload: ")
    assert letter["source_topic"] == topics.carrier_raw
    assert letter["payload"].encode() == broken[2]
    metrics = worker.metrics()
    raw_metric = 'parcelwatch_carrier_raw_messages_total{outcome="%s",source="easypost"}'
    assert metrics[raw_metric % "normalized"] == 3
    assert metrics[raw_metric % "dead_lettered"] == 1
    assert metrics['parcelwatch_carrier_raw_scans_total{source="easypost"}'] == 13
