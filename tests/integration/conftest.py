"""Real-broker harness: workers run as real processes against the Kafka that `kafka up` started.

Every test gets its own topic prefix, app id (consumer group), data dir and web port, so tests never
see each other's messages or state. The broker is never mocked; if it is unreachable the tests fail.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from parcelwatch.schemas.topics import FEEDBACK_JOIN_TOPICS, TopicNames

BROKER = os.environ.get("PARCELWATCH_KAFKA_BROKER", "kafka://127.0.0.1:9092")
BOOTSTRAP = BROKER.split("://", 1)[-1]
REPO = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items):
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", autouse=True)
def broker_available() -> None:
    async def check() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=10000)
        await admin.start()
        await admin.list_topics()
        await admin.close()

    try:
        asyncio.run(asyncio.wait_for(check(), 30))
    except Exception as error:  # a missing broker is a failure, never a skip
        pytest.fail(
            f"no Kafka broker at {BOOTSTRAP} (start it with `parcelwatch kafka up`): {error}"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Deployment:
    """One isolated parcelwatch deployment on the shared broker."""

    root: Path
    prefix: str = field(default_factory=lambda: f"it-{uuid.uuid4().hex[:8]}.")
    partitions: int = 3

    @property
    def topics(self) -> TopicNames:
        return TopicNames.with_prefix(self.prefix)

    def env(self, data_dir: Path, web_port: int) -> dict[str, str]:
        return {
            **os.environ,
            "PARCELWATCH_KAFKA_BROKER": BROKER,
            "PARCELWATCH_TOPIC_PREFIX": self.prefix,
            "PARCELWATCH_APP_ID": f"{self.prefix}parcelwatch",
            "PARCELWATCH_PARTITIONS": str(self.partitions),
            "PARCELWATCH_DATA_DIR": str(data_dir),
            "PARCELWATCH_WEB_PORT": str(web_port),
            "PARCELWATCH_LOG_LEVEL": "info",
            # Silence timers only where a test asks for them (see test_notifications): elsewhere
            # a test's expected alerts must not depend on how long the test happens to run.
            "PARCELWATCH_CHECK_INTERVAL_SECONDS": "3600",
        }

    def start_worker(
        self,
        name: str = "worker",
        data_dir: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> WorkerProcess:
        data_dir = data_dir or self.root / f"{name}-data"
        env = {**self.env(data_dir, free_port()), **(extra_env or {})}
        worker = WorkerProcess(env, self.root / f"{name}.log")
        worker.start()
        return worker


class WorkerProcess:
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.port = int(env["PARCELWATCH_WEB_PORT"])
        self.env_data_dir = Path(env["PARCELWATCH_DATA_DIR"])
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "parcelwatch.streams.cli", "worker"],
            env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited early; log:\n{self.log_tail()}")
            if self.ready():
                return
            time.sleep(0.5)
        raise AssertionError(f"worker not ready in {timeout}s; log:\n{self.log_tail()}")

    def ready(self) -> bool:
        """/readyz says 200: the worker processes its partitions."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def metrics(self) -> dict[str, float]:
        # The endpoint shares the worker's event loop: on a loaded two-core machine a batch can
        # hold it for seconds (CI once timed out at 5 s mid-test), so wait as a scraper would.
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=20) as r:
            text = r.read().decode()
        samples = {}
        for line in text.splitlines():
            if line.startswith("parcelwatch_") and not line.startswith("parcelwatch_faust"):
                name, _, value = line.rpartition(" ")
                samples[name] = float(value)
        return samples

    def events_total(self, outcome: str) -> float:
        """Input messages with this outcome, over every topic but the feedback join's internal
        ones (an applied order also sends its shipment's link to ``order-shipments``, read
        back as one more message: not an input of the test's)."""
        return sum(
            value
            for name, value in self.metrics().items()
            if name.startswith("parcelwatch_events_total")
            and f'outcome="{outcome}"' in name
            and not any(f'{topic}"' in name for topic in FEEDBACK_JOIN_TOPICS)
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    yield Deployment(root=tmp_path)


@pytest.fixture
def workers() -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop(signal.SIGKILL)


@pytest.fixture
def ingests() -> Iterator[list[Any]]:
    """``parcelwatch ingest`` processes a test started (tests/integration/ingest_harness.py),
    stopped after it."""
    started: list[Any] = []
    yield started
    for ingest in started:
        ingest.stop()


async def produce(
    messages: list[tuple[str, bytes | None, bytes]], client: dict[str, Any] | None = None
) -> None:
    """Send in order, each acknowledged before the next (keeps per-key order). ``client``:
    connection options (TLS, SASL)."""
    producer = AIOKafkaProducer(
        **(client or {"bootstrap_servers": BOOTSTRAP}), acks="all", max_request_size=2**21
    )
    await producer.start()
    try:
        for topic, key, value in messages:
            await producer.send_and_wait(topic, key=key, value=value)
    finally:
        await producer.stop()


def orders_then_scans(messages: list[tuple[str, bytes | None, bytes]]) -> tuple[list, list]:
    """Orders and scans travel on two topics, so a worker may read a shipment's scans before its
    order and score them without its promise (another risk, maybe another alert id). Fed all
    orders first, then the scans, live and offline meet the same sequence per shipment."""
    orders = [m for m in messages if not m[0].endswith("carrier-scans")]
    return orders, [m for m in messages if m[0].endswith("carrier-scans")]


async def produce_orders_then_scans(
    deployment: Deployment, messages: list[tuple[str, bytes | None, bytes]]
) -> None:
    """``messages`` as ``orders_then_scans`` splits them, every order applied before any scan."""
    orders, scans = orders_then_scans(messages)
    await produce(orders)
    await wait_until_committed(deployment, timeout=90)
    await produce(scans)


async def wait_until_committed(deployment: Deployment, timeout: float = 30) -> None:
    """Until the worker's consumer group has committed every input message produced so far."""
    group = f"{deployment.prefix}parcelwatch"
    inputs = set(deployment.topics.inputs)
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=None)
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await consumer.start()
    await admin.start()
    try:
        await consumer.topics()  # fetches the metadata partitions_for_topic reads
        partitions = [
            TopicPartition(topic, partition)
            for topic in inputs
            for partition in consumer.partitions_for_topic(topic) or ()
        ]
        ends = await consumer.end_offsets(partitions)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            committed = await admin.list_consumer_group_offsets(group)
            if all(
                (committed[tp].offset if tp in committed else 0) >= end for tp, end in ends.items()
            ):
                return
            await asyncio.sleep(0.5)
        raise AssertionError(f"group {group} did not commit {ends} in {timeout}s")
    finally:
        await consumer.stop()
        await admin.close()


async def collect(
    topics: str | Sequence[str],
    done: Callable[[list[dict]], bool],
    timeout: float = 60,
    settle: float = 2.0,
    client: dict[str, Any] | None = None,
) -> list[dict]:
    """Read ``topics`` from the start until ``done(values)``, then ``settle`` seconds more so that
    any unexpected extra message is caught too. ``client``: connection options (TLS, SASL)."""
    names = [topics] if isinstance(topics, str) else list(topics)
    consumer = AIOKafkaConsumer(
        *names, **(client or {"bootstrap_servers": BOOTSTRAP}), auto_offset_reset="earliest",
        enable_auto_commit=False, group_id=None,
    )  # fmt: skip
    await consumer.start()
    values: list[dict] = []
    try:
        deadline = time.monotonic() + timeout
        settle_until: float | None = None
        while time.monotonic() < (settle_until or deadline):
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                values.extend(orjson.loads(record.value) for record in records)
            if settle_until is None and done(values):
                settle_until = time.monotonic() + settle
    finally:
        await consumer.stop()
    return values
