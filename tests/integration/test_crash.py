"""A worker killed with SIGKILL mid-stream loses no alert and invents none.

The expected alerts come from replaying the very same simulated events through the pure core, one
shipment at a time in publish order (which is the order one Kafka partition preserves per key).
"""

from __future__ import annotations

import asyncio
import signal
from collections import defaultdict

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.streams.core.tracking import Applied, apply_event
from parcelwatch.streams.simulation import SimulationConfig, generate_journeys
from tests.integration.conftest import collect, produce


def expected_alert_ids(events) -> set[str]:
    states: dict = {}
    ids: set[str] = set()
    for item in events:
        outcome = apply_event(states.get(item.key), item.event, utc_now())
        states[item.key] = outcome.state
        if isinstance(outcome, Applied):
            ids |= {alert.alert_id for alert in outcome.alerts}
    return ids


async def test_sigkill_mid_stream_loses_nothing(deployment, workers):
    topics = deployment.topics
    events = generate_journeys(SimulationConfig(shipments=200, seed=11), now=utc_now())
    expected = expected_alert_ids(events)
    assert len(expected) >= 20  # enough trouble in the traffic to make the test meaningful
    messages = [
        (topics.orders if e.topic_kind == "order" else topics.carrier_scans, e.key, encode(e.event))
        for e in events
    ]

    victim = deployment.start_worker("victim")
    workers.append(victim)
    half = len(messages) // 2
    await produce(messages[:half])
    # Kill as soon as the worker is visibly busy with the first half.
    await collect(topics.shipment_alerts, lambda v: len(v) >= 3, settle=0)
    victim.stop(signal.SIGKILL)
    producing = asyncio.create_task(produce(messages[half:]))

    # An empty disk: every shipment's state must come back from the changelog, from the partition
    # each batch wrote it to.
    survivor = deployment.start_worker("survivor", data_dir=deployment.root / "fresh-disk")
    workers.append(survivor)
    await producing
    alerts = await collect(
        topics.shipment_alerts, lambda v: {a["alert_id"] for a in v} >= expected, timeout=120
    )
    received = {alert["alert_id"] for alert in alerts}
    assert received == expected  # nothing lost, nothing invented

    # Redeliveries after the crash are allowed (at-least-once) but must be the same alert.
    by_id = defaultdict(list)
    for alert in alerts:
        by_id[alert["alert_id"]].append({k: v for k, v in alert.items() if k != "detected_at"})
    assert all(all(copy == copies[0] for copy in copies) for copies in by_id.values())

    letters = await collect(topics.dead_letter, lambda v: True, timeout=5, settle=1)
    assert letters == []
