"""Support escalations against the real broker and a real worker process."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.schemas.types import ExceptionReason
from tests.factories import order_at, scan_at
from tests.integration.conftest import collect, produce


async def test_a_lost_parcel_yields_one_case_with_its_answer(deployment, workers):
    topics = deployment.topics
    workers.append(deployment.start_worker())
    now = utc_now()
    tracking = "1ZLOST" + uuid.uuid4().hex[:8].upper()
    placed = order_at(tracking, now)
    picked_up = scan_at(tracking, "picked_up", now - timedelta(minutes=60))
    lost = replace(
        scan_at(tracking, "exception", now - timedelta(minutes=10)), reason=ExceptionReason.LOST
    )
    messages = [
        (topics.orders, tracking.encode(), encode(placed)),
        (topics.carrier_scans, tracking.encode(), encode(picked_up)),
        (topics.carrier_scans, tracking.encode(), encode(lost)),
        (topics.carrier_scans, tracking.encode(), encode(lost)),  # redelivered by the producer
    ]
    await produce(messages)

    cases = await collect(topics.support_escalations, lambda values: bool(values), settle=5)
    assert len(cases) == 1, cases
    (case,) = cases
    assert case["reason"] == "parcel_lost"
    assert case["order_id"] == placed.order_id and case["tracking_number"] == tracking
    assert case["context"]["shipment"]["situation"] == "lost"
    assert case["context"]["shipment"]["answer"]
