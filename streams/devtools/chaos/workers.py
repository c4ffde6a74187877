"""Worker processes as an orchestrator sees them: started, probed over HTTP, killed, restarted.

A worker is ``python -m parcelwatch.streams.cli worker`` with its settings in the environment, its
output in a
log file of the run directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from parcelwatch.schemas.topics import FEEDBACK_JOIN_TOPICS
from parcelwatch.streams.devtools.chaos.broker import free_port
from parcelwatch.streams.devtools.chaos.deployment import Deployment

REPO_ROOT = Path(__file__).resolve().parents[2]


def metric_total(
    metrics: str, metric: str, counted: Callable[[str], bool] = lambda line: True
) -> int:
    """The sum of the ``metric`` samples (any labels) on a /metrics page whose line ``counted``
    keeps."""
    return int(
        sum(
            float(line.rpartition(" ")[2])
            for line in metrics.splitlines()
            if line.startswith((metric + "{", metric + " ")) and counted(line)
        )
    )


def events_total(metrics: str, counted: Callable[[str], bool]) -> int:
    """The sum of the ``parcelwatch_events_total`` samples whose line ``counted`` keeps."""
    return metric_total(metrics, "parcelwatch_events_total", counted)


# The worker's own account of input it had to fetch again or commit itself: why a drain stalls.
RECOVERY_COUNTERS = {
    "rewinds": "parcelwatch_input_rewinds_total",
    "skipped": "parcelwatch_input_skipped_total",
    "absent offsets": "parcelwatch_input_offsets_absent_total",
    "commit repairs": "parcelwatch_commit_repairs_total",
    "publish retries": "parcelwatch_publish_retries_total",
}


def recovery_counters(metrics: str) -> dict[str, int]:
    """Each of ``RECOVERY_COUNTERS`` summed over its labels, from a /metrics page."""
    return {name: metric_total(metrics, metric) for name, metric in RECOVERY_COUNTERS.items()}


class WorkerProcess:
    def __init__(self, env: dict[str, str], log_path: Path, data_dir: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.data_dir = data_dir
        self.port = int(env["PARCELWATCH_WEB_PORT"])
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "parcelwatch.streams.cli", "worker"],
                env=self.env, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.started_at = time.monotonic()

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def wait_healthy(self, timeout: float) -> bool:
        """Until /readyz says the worker processes its partitions (or it exits, or time's up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return False
            if await self.health("/readyz") == 200:
                return True
            await asyncio.sleep(0.5)
        return False

    async def health(self, path: str = "/healthz") -> int | None:
        """The HTTP status of /healthz (alive) or /readyz, or None when nothing answers."""
        return await asyncio.to_thread(self._health, path)

    def _health(self, path: str) -> int | None:
        url = f"http://127.0.0.1:{self.port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except OSError:
            return None

    async def events_total(self) -> int | None:
        """Inputs this process has handled (any outcome; the feedback join's own messages left
        out); None when /metrics does not answer."""
        return await asyncio.to_thread(self._events_total)

    def _events_total(self) -> int | None:
        text = self.metrics_text()
        if text is None:
            return None
        return events_total(
            text, lambda line: not any(f'{topic}"' in line for topic in FEEDBACK_JOIN_TOPICS)
        )

    def metrics_text(self, timeout: float = 2.0) -> str | None:
        """The worker's /metrics page, or None when it does not answer."""
        url = f"http://127.0.0.1:{self.port}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return response.read().decode()
        except OSError:
            return None

    def rss_bytes(self) -> int | None:
        if self.process is None:
            return None
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return None

    def freeze(self) -> None:
        """SIGSTOP: the process does nothing, not even heartbeats, until ``thaw``."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self, timeout: float = 30.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Supervisor:
    """Keeps one worker of a deployment running, as an orchestrator would: restarts it after a
    kill (on the data dir it is told) and after it exits by itself (on the same data dir)."""

    deployment: Deployment
    run_dir: Path
    name: str
    current: WorkerProcess | None = None
    processes: list[WorkerProcess] = field(default_factory=list)
    unexpected_exits: int = 0
    # A port every process of this worker listens on (a StatefulSet keeps it); None: a free one
    # each start. Faust puts the worker's URL in its group metadata, so a new port on a restart
    # makes even a static member's return a rebalance.
    web_port: int | None = None
    _data_dirs: int = 0

    @property
    def log_paths(self) -> list[Path]:
        return sorted({process.log_path for process in self.processes})

    def start(self, *, empty_data_dir: bool = True) -> WorkerProcess:
        if empty_data_dir or self.current is None:
            self._data_dirs += 1
            data_dir = self.run_dir / f"{self.name}-data-{self._data_dirs}"
        else:
            data_dir = self.current.data_dir
        number = len(self.processes) + 1
        worker = WorkerProcess(
            self.deployment.worker_env(data_dir, self.web_port or free_port()),
            self.run_dir / f"{self.name}-worker-{number}.log",
            data_dir,
        )
        worker.start()
        self.current = worker
        self.processes.append(worker)
        return worker

    def kill_and_restart(self, *, empty_data_dir: bool) -> WorkerProcess:
        assert self.current is not None
        self.current.kill()
        return self.start(empty_data_dir=empty_data_dir)

    def restart_if_exited(self) -> bool:
        """True if the worker had exited by itself and was started again."""
        if self.current is None or self.current.alive():
            return False
        self.unexpected_exits += 1
        self.start(empty_data_dir=False)
        return True

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(Exception):
                process.stop()
