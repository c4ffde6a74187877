"""The README's demo works: `parcelwatch demo` prints alerts and customer notifications from
simulated traffic, with the silence timers running, and stops; its closing alert mix matches the
simulator's ground truth."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.integration.conftest import free_port


def test_demo_prints_alerts_and_notifications_and_stops_cleanly(deployment, tmp_path):
    env = deployment.env(tmp_path / "demo-data", free_port())
    del env["PARCELWATCH_CHECK_INTERVAL_SECONDS"]  # the production default, scaled by the demo
    result = subprocess.run(
        [sys.executable, "-m", "parcelwatch.streams.cli", "demo", "--shipments", "120",
         "--seed", "5", "--duration", "90"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    output = result.stdout
    assert result.returncode == 0, result.stderr[-3000:]
    assert "worker ready" in output
    alert_lines = [line for line in output.splitlines() if line[:3].strip() in ("!!", "!")]
    assert len(alert_lines) >= 3, output[-3000:]
    notification_lines = [line for line in output.splitlines() if line.startswith(" > ")]
    assert len(notification_lines) >= 10, output[-3000:]
    assert any(" delivered " in line for line in notification_lines)
    assert "alerts seen:" in output and "notifications seen:" in output
    assert "simulator done" in output
    # Shipments the simulator left in flight past their promise: only a timer can see them.
    timer_kinds = ("missed_promise", "stalled", "forgotten")
    assert any(kind in line for line in alert_lines for kind in timer_kinds), output[-3000:]
    assert_alert_mix_matches(output)


def assert_alert_mix_matches(output: str) -> None:
    """Kind by kind, the alerts seen are the ones the ground truth expects: none beyond a small
    tolerance (no false-alarm storm), and none missing beyond it and the close calls."""
    rows = {
        match["kind"]: (int(match["expected"]), int(match["seen"]), int(match["close"]))
        for match in re.finditer(
            r"^alert mix +(?P<kind>[a-z_]+) +(?P<expected>\d+) +(?P<seen>\d+) +[+-]\d+ +"
            r"(?P<close>\d+)",
            output,
            re.MULTILINE,
        )
    }
    assert "total" in rows and "stalled" in rows, output[-3000:]
    assert rows["total"][0] >= 10, output[-3000:]  # 120 journeys over 10 days: plenty of trouble
    for kind, (expected, seen, close) in rows.items():
        slack = max(2, round(0.1 * expected))
        assert expected - close - slack <= seen <= expected + slack, (kind, output[-3000:])
    assert "delay_risk (from the model" in output
