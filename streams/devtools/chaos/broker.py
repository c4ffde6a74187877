"""A Kafka broker of the suite's own: own home, own free ports, stopped and started as a fault.

The shared development broker is never touched. The jars (~50 MB) are fetched once by
``LocalKafka`` into a cache folder and linked into every run's broker home.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from parcelwatch.streams.devtools.localkafka import LocalKafka


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ChaosBroker:
    home: Path
    libs_cache: Path
    kafka: LocalKafka = field(init=False)
    restarts: int = 0
    outages: list[float] = field(default_factory=list)  # seconds from stop to ready again

    def __post_init__(self) -> None:
        broker_port = free_port()
        controller_port = free_port()
        while controller_port == broker_port:
            controller_port = free_port()
        self.kafka = LocalKafka(home=self.home, port=broker_port, controller_port=controller_port)

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka.bootstrap_servers

    @property
    def log_path(self) -> Path:
        return self.kafka.log_path

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        cached_jar = self.libs_cache / self.kafka.kafka_jar.name
        if cached_jar.is_file() and not self.kafka.libs_dir.exists():
            self.kafka.libs_dir.symlink_to(self.libs_cache.resolve(), target_is_directory=True)
        self.kafka.up(timeout=120.0)
        if not cached_jar.is_file() and not self.kafka.libs_dir.is_symlink():
            tmp = self.libs_cache.with_name(self.libs_cache.name + ".partial")
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(self.kafka.libs_dir, tmp)
            shutil.rmtree(self.libs_cache, ignore_errors=True)
            tmp.rename(self.libs_cache)

    def stop(self) -> None:
        self.kafka.down()

    async def restart(self) -> float:
        """Stop (a clean shutdown, as an upgrade or a host reboot would) and start again; returns
        the seconds the broker was unavailable."""
        started = time.monotonic()
        await asyncio.to_thread(self.kafka.down)
        await asyncio.to_thread(self.kafka.up, 120.0)
        outage = time.monotonic() - started
        self.restarts += 1
        self.outages.append(outage)
        return outage
