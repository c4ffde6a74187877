"""The fault-injection suite (``parcelwatch chaos``) at its CI size, on a broker of its own.

Each scenario asserts the promises the suite checks at full size: nothing lost, invented or
applied out of order through SIGKILLs and a broker restart; every invalid message dead-lettered
once with a specific reason while good events flow; flat memory and bounded lag under steady load.
The broker is the suite's own (it is restarted as a fault), never the shared one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from parcelwatch.streams.devtools.chaos.broker import ChaosBroker
from parcelwatch.streams.devtools.chaos.command import chaos_broker, run_scenario, tidy
from parcelwatch.streams.devtools.chaos.options import ChaosOptions
from parcelwatch.streams.devtools.chaos.report import ScenarioReport

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Chaos:
    options: ChaosOptions
    broker: ChaosBroker
    run_dir: Path
    reports: list[ScenarioReport] = field(default_factory=list)


@pytest.fixture(scope="module")
def chaos() -> Iterator[Chaos]:
    # In the repository's (git-ignored) .parcelwatch, not in pytest's rotating tmp: the logs of a
    # failed run are kept there for whoever reads the failure.
    options = ChaosOptions.quick(
        run_root=REPO / ".parcelwatch" / "chaos" / "pytest",
        kafka_libs=REPO / ".parcelwatch" / "chaos" / "kafka-libs",
    )
    with chaos_broker(options) as (broker, run_dir):
        session = Chaos(options, broker, run_dir)
        yield session
    tidy(run_dir, broker, session.reports, keep=False)


def run(chaos: Chaos, scenario: str) -> ScenarioReport:
    report = run_scenario(scenario, chaos.options, chaos.broker, chaos.run_dir)
    chaos.reports.append(report)
    print(report.markdown())
    return report


def verdict(report: ScenarioReport) -> str:
    logs = "\n".join(f"  {path}" for path in report.logs)
    return f"{report.markdown()}\nworker logs:\n{logs}"


def test_crash_loop_loses_invents_and_reorders_nothing(chaos):
    report = run(chaos, "crash-loop")
    assert report.figures["kills (kept / empty data dir)"] == "2 (1 / 1)"
    assert report.figures["broker restarts (outage s)"].startswith("1 (")
    assert report.passed, verdict(report)


def test_bad_input_is_dead_lettered_and_good_input_flows(chaos):
    report = run(chaos, "bad-input")
    assert report.figures["invalid messages (hypothesis)"] >= 300
    assert report.passed, verdict(report)


def test_soak_keeps_memory_flat_and_lag_bounded(chaos):
    report = run(chaos, "soak")
    assert report.figures["samples"] >= 10
    assert report.passed, verdict(report)
