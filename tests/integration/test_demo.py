"""The README's demo works: `parcelwatch demo` prints alerts from simulated traffic and stops."""

from __future__ import annotations

import subprocess
import sys

from tests.integration.conftest import free_port


def test_demo_prints_alerts_and_stops_cleanly(deployment, tmp_path):
    env = deployment.env(tmp_path / "demo-data", free_port())
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "demo", "--shipments", "120", "--rate", "400",
         "--seed", "5", "--duration", "90"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    output = result.stdout
    assert result.returncode == 0, result.stderr[-3000:]
    assert "worker ready" in output
    alert_lines = [line for line in output.splitlines() if line[:3].strip() in ("!!", "!")]
    assert len(alert_lines) >= 3, output[-3000:]
    assert "alerts seen:" in output and "simulator done" in output
