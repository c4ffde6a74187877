"""The chaos harness's worker handle: freezing a process holds it still until it is thawed."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from parcelwatch.streams.devtools.chaos.workers import WorkerProcess


def _state(pid: int) -> str:
    """The process state letter from /proc (T: stopped by a signal)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _wait_for_state(pid: int, wanted: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while (state := _state(pid)) != wanted and time.monotonic() < deadline:
        time.sleep(0.01)
    return state


def test_a_frozen_worker_stays_stopped_until_thawed(tmp_path) -> None:
    worker = WorkerProcess({"PARCELWATCH_WEB_PORT": "0"}, tmp_path / "log", tmp_path / "data")
    worker.process = subprocess.Popen(["sleep", "30"])
    try:
        worker.freeze()
        assert _wait_for_state(worker.process.pid, "T") == "T"
        worker.thaw()
        assert _wait_for_state(worker.process.pid, "S") == "S"
        assert worker.alive()
    finally:
        worker.kill()
    worker.thaw()  # an exited process is left alone
    assert not worker.alive()
