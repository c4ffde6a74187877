"""End to end on the real broker: a signed platform webhook posted to ``parcelwatch ingest``
comes out of the worker as a ``shipment-alerts`` exception; the same webhook delivered again (as
platforms retry) adds no alert."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from parcelwatch.schemas.codec import encode
from tests.factories import order_at
from tests.integration.conftest import collect, produce
from tests.integration.ingest_harness import start_ingest
from tests.integration.test_carrier_raw import recent_history, until_metrics

SECRET = "end-to-end-webhook-secret"


def tracker_updated(tracker: dict) -> bytes:
    """The tracker as EasyPost posts it: a ``tracker.updated`` Event wrapping it."""
    return orjson.dumps(
        {
            "id": "evt_end_to_end", "object": "Event", "mode": "test",
            "description": "tracker.updated", "previous_attributes": {"status": "pre_transit"},
            "pending_urls": [], "completed_urls": [], "status": "pending",
            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "result": tracker,
        }
    )  # fmt: skip


async def test_a_signed_webhook_becomes_an_exception_alert_once(deployment, workers, ingests):
    topics = deployment.topics
    worker = deployment.start_worker()  # creates the topics, carrier-raw included
    workers.append(worker)
    ingest = start_ingest(deployment, {"easypost": SECRET})
    ingests.append(ingest)
    tracker = recent_history()  # a weather delay two days ago
    tracking = tracker["tracking_code"]
    await produce(
        [(topics.orders, tracking.encode(), encode(order_at(tracking, datetime.now(UTC))))]
    )

    body = tracker_updated(tracker)
    assert ingest.post_signed("easypost", body, SECRET) == 200
    (alert,) = await collect(topics.shipment_alerts, lambda alerts: len(alerts) >= 1)
    assert (alert["kind"], alert["tracking_number"], alert["reason"]) == (
        "carrier_exception",
        tracking,
        "weather_delay",
    )
    scans_metric = f'parcelwatch_events_total{{outcome="%s",topic="{topics.carrier_scans}"}}'
    await until_metrics(worker, {scans_metric % "applied": 4})

    # The platform retries the same delivery: accepted again, every scan a duplicate, no alert.
    assert ingest.post_signed("easypost", body, SECRET) == 200
    metrics = await until_metrics(worker, {scans_metric % "duplicate": 4})
    assert metrics[scans_metric % "applied"] == 4
    assert await collect(topics.shipment_alerts, lambda alerts: len(alerts) >= 1) == [alert]
    # A forged delivery never reaches the topic, let alone the worker.
    assert ingest.post_signed("easypost", body, "a guessed secret") == 401
