"""``parcelwatch ingest`` as a real process for integration tests, and webhooks signed as each
platform signs them.

For an end-to-end test (webhook -> worker -> shipment-alerts), with the ``ingests`` fixture::

    ingest = start_ingest(deployment, {"easypost": SECRET})
    ingests.append(ingest)
    status = ingest.post_signed("easypost", body, SECRET)

Start the worker first, or call ``create_carrier_raw_topic``: the broker does not create topics.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from parcelwatch.schemas.types import CarrierSource
from tests.integration.conftest import BOOTSTRAP, REPO, Deployment, free_port
from tests.webhook_signing import signed_headers


class IngestProcess:
    """One ``parcelwatch ingest`` on a free port of 127.0.0.1, its log in a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.port = int(env["PARCELWATCH_INGEST_PORT"])
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "parcelwatch.streams.cli", "ingest"],
            env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"ingest exited early; log:\n{self.log_tail()}")
            if self.healthy():
                return
            time.sleep(0.3)
        raise AssertionError(f"ingest not up in {timeout}s; log:\n{self.log_tail()}")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def post(self, platform: str, body: bytes, headers: dict[str, str]) -> int:
        """POST a webhook; its HTTP status."""
        request = urllib.request.Request(
            f"{self.url}/webhooks/{platform}", data=body, method="POST",
            headers={"Content-Type": "application/json", **headers},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def post_signed(self, platform: str, body: bytes, secret: str) -> int:
        """POST ``body`` signed with ``secret`` as ``platform`` signs its webhooks."""
        headers = signed_headers(CarrierSource(platform), body, secret, timestamp=int(time.time()))
        return self.post(platform, body, headers)

    def metrics_text(self) -> str:
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=10) as response:
            return response.read().decode()

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, then the exit code (killed if it does not stop in time)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


def start_ingest(
    deployment: Deployment, secrets: dict[str, str], extra_env: dict[str, str] | None = None
) -> IngestProcess:
    """An ingest publishing to ``deployment``'s topics, with these platforms' secrets."""
    env = {
        **deployment.env(deployment.root / "ingest-data", free_port()),
        "PARCELWATCH_INGEST_PORT": str(free_port()),
        **{
            f"PARCELWATCH_WEBHOOK_SECRET_{platform.upper()}": secret
            for platform, secret in secrets.items()
        },
        **(extra_env or {}),
    }
    ingest = IngestProcess(env, deployment.root / "ingest.log")
    ingest.start()
    return ingest


def create_carrier_raw_topic(deployment: Deployment) -> str:
    """The deployment's ``carrier-raw`` (a worker creates it too, with all the others)."""

    async def create() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
        await admin.start()
        try:
            topic = deployment.topics.carrier_raw
            await admin.create_topics([NewTopic(topic, deployment.partitions, 1)])
            for _ in range(100):  # until its partitions are in the metadata
                described = await admin.describe_topics([topic])
                if described and described[0]["partitions"]:
                    return
                await asyncio.sleep(0.1)
        finally:
            await admin.close()

    asyncio.run(create())
    return deployment.topics.carrier_raw


async def end_offsets(topic: str) -> dict[int, int]:
    """{partition: end offset}: how many messages each partition of ``topic`` ever received."""
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partitions = [TopicPartition(topic, entry["partition"]) for entry in described["partitions"]]
    assert partitions, f"{topic} has no partitions"
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=None)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return {tp.partition: offset for tp, offset in ends.items()}


async def read_all(topic: str, expected: int, timeout: float = 30) -> list[tuple[bytes, dict]]:
    """(key, decoded value) of every message on ``topic``, once ``expected`` of them are there."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=BOOTSTRAP, auto_offset_reset="earliest",
        enable_auto_commit=False, group_id=None,
    )  # fmt: skip
    await consumer.start()
    messages: list[tuple[bytes, dict]] = []
    try:
        deadline = time.monotonic() + timeout
        while len(messages) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                messages += [(record.key, json.loads(record.value)) for record in records]
    finally:
        await consumer.stop()
    return messages
