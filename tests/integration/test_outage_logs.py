"""A broker outage does not flood the worker's log (repeats are collapsed, streams/log_throttle).

The shared broker must keep running for everyone else, so this test starts a private one (the
same `LocalKafka` as `parcelwatch kafka up`, on free ports under tmp_path), lets a worker settle
on it, stops it, and counts what the worker logs meanwhile. A worker pointed at an address where
nothing listens is no substitute: it exits at once, because topics are ensured before start-up.
"""

from __future__ import annotations

import time

from parcelwatch.streams.devtools.localkafka import LocalKafka
from tests.integration.conftest import free_port

OUTAGE_SECONDS = 20
MAX_LINES = 200  # unthrottled, aiokafka alone wrote thousands of lines a second


def test_a_broker_outage_logs_a_bounded_number_of_lines(deployment, workers, tmp_path):
    broker = LocalKafka(home=tmp_path / "kafka", port=free_port(), controller_port=free_port())
    broker.up(timeout=120)
    try:
        worker = deployment.start_worker(
            extra_env={"PARCELWATCH_KAFKA_BROKER": f"kafka://{broker.bootstrap_servers}"}
        )
        workers.append(worker)
        before = len(worker.log_path.read_bytes().splitlines())
        broker.down()
        time.sleep(OUTAGE_SECONDS)

        assert worker.process is not None and worker.process.poll() is None, worker.log_tail()
        during = worker.log_path.read_text(errors="replace").splitlines()[before:]
        assert any("Unable connect" in line or "Connect call failed" in line for line in during)
        assert any("repeated" in line for line in during), "\n".join(during[-40:])
        assert len(during) < MAX_LINES, "\n".join(during[-40:])
    finally:
        broker.down()
