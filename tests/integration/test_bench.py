"""``parcelwatch bench --tiny`` on the local broker: it completes and reports every figure.
No timing is asserted: the figures of a 2,000-event run on a shared CI machine mean nothing."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from numbers import Real
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from tests.integration.conftest import BOOTSTRAP, BROKER, REPO

CONTENDERS = ("ceiling", "floor", "model", "rules", "rules-x2")
CONTENDER_FIGURES = (
    "events",
    "seconds",
    "events_per_second",
    "cpu_seconds",
    "events_per_cpu_second",
    "ratio_to_ceiling",
    "ratio_to_floor",
    "start_to_first_event_seconds",
    "peak_rss_mb",
)


def _is_number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def test_tiny_bench_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    env = {**os.environ, "PARCELWATCH_KAFKA_BROKER": BROKER}
    completed = subprocess.run(
        # Two workers too: they start together, so the group rebalances while the backlog comes
        # (this run once lost inputs there, and once lost a fetch loop to a seek from the wrong
        # thread: README, Scaling out).
        [sys.executable, "-m", "parcelwatch.streams.cli", "bench", "--tiny", "--workers", "2",
         "--out", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]

    report = json.loads((out / "bench.json").read_text())
    assert set(report["contenders"]) == set(CONTENDERS)
    for name in CONTENDERS:
        figures = report["contenders"][name]
        for figure in CONTENDER_FIGURES:
            assert _is_number(figures[figure]), (name, figure, figures.get(figure))
        assert isinstance(figures["rates_are_lower_bounds"], bool)
        assert figures["events"] == report["setup"]["events"] == 2_000
    pipeline = report["pipeline"]
    assert all(_is_number(value) for value in pipeline["latency"].values())
    assert pipeline["latency"]["received"] > 0
    assert all(_is_number(value) for value in pipeline["state"].values())
    assert _is_number(pipeline["recovery_seconds"])
    scaled = pipeline["scaled_recovery"]  # --tiny seeds 2,000 shipments' rows
    assert scaled["shipments"] == 2_000
    assert scaled["rows"] >= 2_000 and scaled["retired_rows"] == scaled["rows"] * 3 // 4
    assert all(_is_number(value) for value in scaled.values())
    run_topics = [name for name in _topics() if name.startswith(f"bench-{report['setup']['run']}.")]
    assert run_topics == []  # the run deleted its topics (the logs stay in its work folder)

    table = (out / "bench.md").read_text()
    assert table in completed.stdout  # the command prints the table it writes
    first_cells = [
        line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| ")
    ]
    for row in (
        "plain aiokafka + orjson (ceiling)",
        "Faust forward-only agent (floor)",
        "parcelwatch, rules only",
        "parcelwatch, with a model",
        "input → alert",
        "state per shipment, changelog",
        "state per shipment, RocksDB",
        "table recovery from its changelog",
        "table recovery of 2,000 shipments, seeded changelog",
    ):
        assert any(cell.startswith(row) for cell in first_cells), row


def _topics() -> set[str]:
    async def listed() -> set[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
        await admin.start()
        try:
            return set(await admin.list_topics())
        finally:
            await admin.close()

    return asyncio.run(listed())
