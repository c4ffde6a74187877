"""State lives in the changelog: a worker restarted on an empty disk still knows each shipment."""

from __future__ import annotations

import signal

from parcelwatch.schemas.codec import encode
from tests.factories import scan
from tests.integration.conftest import collect, produce
from tests.integration.test_pipeline import shifted

TRACKING = "RESTART0001"


def msg(topics, event):
    event = shifted(event)
    return (topics.carrier_scans, TRACKING.encode(), encode(event))


async def test_state_survives_a_restart_through_the_changelog(deployment, workers, tmp_path):
    topics = deployment.topics
    first = deployment.start_worker("first")
    workers.append(first)
    await produce([
        msg(topics, scan("picked_up", 1, "r-1", tracking_number=TRACKING)),
        msg(topics, scan("exception", 5, "r-2", reason="weather_delay", tracking_number=TRACKING)),
    ])  # fmt: skip
    alerts = await collect(topics.shipment_alerts, lambda v: len(v) >= 1, settle=0)
    assert [a["kind"] for a in alerts] == ["carrier_exception"]
    first.stop(signal.SIGTERM)

    # A new worker on an empty data dir: only the changelog can tell it about the open episode.
    second = deployment.start_worker("second", data_dir=tmp_path / "empty-disk")
    workers.append(second)
    await produce([
        msg(topics, scan("exception", 5, "r-2", reason="weather_delay", tracking_number=TRACKING)),
        msg(topics, scan("exception", 8, "r-3", reason="weather_delay", tracking_number=TRACKING)),
        msg(topics, scan("in_transit", 12, "r-4", tracking_number=TRACKING)),
        msg(topics, scan("exception", 20, "r-5", reason="missorted", tracking_number=TRACKING)),
    ])  # fmt: skip
    alerts = await collect(topics.shipment_alerts, lambda v: len(v) >= 2)
    assert [(a["kind"], a["source_event_id"]) for a in alerts] == [
        ("carrier_exception", "r-2"),
        ("carrier_exception", "r-5"),
    ]
    assert second.events_total("duplicate") == 1  # r-2 was remembered
    assert second.events_total("applied") == 3
