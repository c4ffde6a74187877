"""An agent that dies takes the worker down loudly, and its input waits for the next worker.

The broker is made to refuse every alert for good (the alerts topic's ``max.message.bytes`` set
below any alert's size): retrying cannot help and dropping the alert would lose it, so the worker
must fail /healthz, say why, exit non-zero — and after the cause is fixed, a new worker must
publish the alert it could not.
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.error
import urllib.request

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from parcelwatch.schemas.codec import encode
from parcelwatch.streams.runtime.agents import EXIT_AGENT_DIED
from tests.factories import scan
from tests.integration.conftest import BOOTSTRAP, collect, produce
from tests.integration.test_pipeline import shifted

TRACKING = "DEATH00001"
HEALTHZ_503 = re.compile(r'"GET /healthz HTTP/[0-9.]+" 503 ')  # aiohttp's access log line


async def set_max_message_bytes(topic: str, size: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, {"max.message.bytes": str(size)})]
        )
    finally:
        await admin.close()


def healthz_status(port: int, timeout: float = 2) -> int | None:
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None  # not listening (any more)


async def test_a_refused_alert_stops_the_worker_and_is_published_after_the_fix(deployment, workers):
    topics = deployment.topics
    first = deployment.start_worker("first")
    workers.append(first)
    await set_max_message_bytes(topics.shipment_alerts, 64)
    await produce([
        (topics.carrier_scans, TRACKING.encode(),
         encode(shifted(scan("exception", 5, "d-1", reason="damaged", tracking_number=TRACKING)))),
    ])  # fmt: skip

    statuses: set[int | None] = set()
    deadline = time.monotonic() + 90
    assert first.process is not None
    while first.process.poll() is None:
        assert time.monotonic() < deadline, f"worker kept running; log:\n{first.log_tail()}"
        # Short timeout, short pause: the 503 phase lasts FATAL_GRACE_SECONDS (3 s), and on a
        # loaded machine a slow answer must not swallow most of it.
        statuses.add(healthz_status(first.port, timeout=0.5))
        await asyncio.sleep(0.05)
    assert first.process.returncode == EXIT_AGENT_DIED
    log = first.log_path.read_text(errors="replace")
    # /healthz failed before the process was gone: seen by the poll, or, when the worker answered
    # a poll too slowly for it, in the worker's access log (the answer it sent was a 503).
    assert 503 in statuses or HEALTHZ_503.search(log), f"no 503 from /healthz; log:\n{log[-3000:]}"
    assert "agent track_shipments died (PublishFailed" in log
    assert TRACKING not in log  # the error is described by its class, never its data

    await set_max_message_bytes(topics.shipment_alerts, 1_048_588)
    second = deployment.start_worker("second")
    workers.append(second)
    # The dead worker left without a goodbye: the group waits out its session (10 s) before
    # the second worker is assigned, and a loaded CI machine adds start-up time on top.
    alerts = await collect(topics.shipment_alerts, lambda v: len(v) >= 1, timeout=90)
    progress = {
        k: v
        for k, v in second.metrics().items()
        if "events" in k or "skipped" in k or "rewind" in k or "lag" in k
    }
    assert [(a["kind"], a["source_event_id"]) for a in alerts] == [("carrier_exception", "d-1")], (
        f"{progress}; second worker's log:\n{second.log_tail()}"
    )
