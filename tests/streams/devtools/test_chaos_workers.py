"""The chaos harness's worker handle: freezing a process holds it still until it is thawed."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from parcelwatch.streams.devtools.chaos.progress import Drain
from parcelwatch.streams.devtools.chaos.workers import WorkerProcess, recovery_counters


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


def test_recovery_counters_sum_each_counter_over_its_labels():
    page = "\n".join(
        [
            "# HELP parcelwatch_input_rewinds_total Input partitions sent back",
            'parcelwatch_input_rewinds_total{topic="scans"} 2.0',
            'parcelwatch_input_rewinds_total{topic="orders"} 1.0',
            'parcelwatch_input_rewinds_created{topic="orders"} 1.7e9',
            'parcelwatch_input_skipped_total{topic="scans",reason="skipped_held"} 40.0',
            'parcelwatch_commit_repairs_total{topic="scans"} 1.0',
        ]
    )
    assert recovery_counters(page) == {
        "rewinds": 3,
        "skipped": 40,
        "absent offsets": 0,
        "commit repairs": 1,
        "publish retries": 0,
    }


def test_a_drain_that_gave_up_says_what_the_worker_counted():
    drain = Drain("deadline", 400.0, 655, {"scans[2]": 655}, 2.0, 200, {"commit repairs": 0})
    assert drain.describe().endswith("{'scans[2]': 655}; the worker counted {'commit repairs': 0}")
    assert "counted" not in Drain("stalled", 150.0, 3, {"scans[0]": 3}).describe()
