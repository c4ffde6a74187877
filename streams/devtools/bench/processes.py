"""Contender processes: the ceiling and the floor started like the chaos suite's workers (own
session, log file in the run directory), and the progress probes the harness polls."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from parcelwatch.streams.devtools.chaos.kafka_io import partitions_of
from parcelwatch.streams.devtools.chaos.workers import REPO_ROOT, WorkerProcess


class ModuleProcess(WorkerProcess):
    """``python -m <module> <args>`` instead of the worker; the same start, stop and kill."""

    def __init__(
        self, module: str, args: Sequence[str], env: dict[str, str], log_path: Path, data_dir: Path
    ) -> None:
        super().__init__(env, log_path, data_dir)
        self.argv = [sys.executable, "-m", module, *args]

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv, env=self.env, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.started_at = time.monotonic()


async def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()


class SinkProgress:
    """Messages on a sink topic so far: the sum of its partitions' end offsets."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._consumer: AIOKafkaConsumer | None = None

    async def __call__(self) -> int:
        if self._consumer is None:
            self._consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, group_id=None)
            await self._consumer.start()
            self._partitions = await partitions_of(self._bootstrap, [self._topic])
        ends = await self._consumer.end_offsets(self._partitions)
        return sum(ends.values())

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
