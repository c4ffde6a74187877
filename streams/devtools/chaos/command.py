"""``parcelwatch chaos``: start a broker of its own, run the chosen scenarios, report, clean up.

Exit code 0 only when every scenario passed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from parcelwatch.streams.devtools.chaos.broker import ChaosBroker
from parcelwatch.streams.devtools.chaos.options import ChaosOptions
from parcelwatch.streams.devtools.chaos.report import ScenarioReport, write_reports

Scenario = Callable[[ChaosOptions, ChaosBroker, Path], Awaitable[ScenarioReport]]


def _scenario(name: str) -> Scenario:
    # Imported when chosen: bad-input needs hypothesis, the others do not.
    if name == "crash-loop":
        from parcelwatch.streams.devtools.chaos.crash_loop import run_crash_loop

        return run_crash_loop
    if name == "scale-out":
        from parcelwatch.streams.devtools.chaos.scale_out import run_scale_out

        return run_scale_out
    if name == "bad-input":
        from parcelwatch.streams.devtools.chaos.bad_input import run_bad_input

        return run_bad_input
    from parcelwatch.streams.devtools.chaos.soak import run_soak

    return run_soak


def run_chaos(options: ChaosOptions) -> list[ScenarioReport]:
    """Run the scenarios against a fresh broker; the reports, whatever they say."""
    started = time.monotonic()
    reports: list[ScenarioReport] = []
    with chaos_broker(options) as (broker, run_dir):
        for name in options.scenarios:
            print(f"chaos: {name} ...", flush=True)
            report = run_scenario(name, options, broker, run_dir)
            reports.append(report)
            print(report.markdown(), flush=True)
    context = {
        "seed": options.seed,
        "run_dir": str(run_dir),
        "seconds": round(time.monotonic() - started, 1),
        "options": {key: str(value) for key, value in vars(options).items()},
    }
    if options.report_dir is not None:
        path = write_reports(reports, options.report_dir, context)
        print(f"chaos: report written to {path}")
    tidy(run_dir, broker, reports, keep=options.keep)
    return reports


@contextlib.contextmanager
def chaos_broker(options: ChaosOptions) -> Iterator[tuple[ChaosBroker, Path]]:
    """A run directory and a broker of the suite's own in it, stopped however the run ends."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = (options.run_root / f"run-{stamp}-seed{options.seed}").resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    # The harness's own clients see every broker restart; their connection errors are expected.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    broker_home = (
        run_dir / "kafka"
        if options.broker_log_root is None
        else options.broker_log_root / f"parcelwatch-chaos-{run_dir.name}-{os.getpid()}"
    )
    broker = ChaosBroker(broker_home, options.kafka_libs)
    print(f"chaos: run directory {run_dir}; broker files in {broker_home}", flush=True)
    # SIGTERM unwinds like Ctrl-C, so that workers and the broker are stopped on the way out
    # (a background job may not even receive SIGINT: the shell starts it ignoring that).
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        broker.start()
        print(f"chaos: own broker on {broker.bootstrap_servers}", flush=True)
        yield broker, run_dir
    except KeyboardInterrupt:
        print(
            "chaos: interrupted (SIGINT or SIGTERM); stopping workers and broker", file=sys.stderr
        )
        raise
    finally:
        broker.stop()
        signal.signal(signal.SIGTERM, previous)
        if broker_home.parent != run_dir:  # in memory: its log joins the run's, the rest goes
            if broker.log_path.exists():
                shutil.copy(broker.log_path, run_dir / "kafka.log")
            shutil.rmtree(broker_home, ignore_errors=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_scenario(
    name: str, options: ChaosOptions, broker: ChaosBroker, run_dir: Path
) -> ScenarioReport:
    started = time.monotonic()
    try:
        report = asyncio.run(_scenario(name)(options, broker, run_dir))
    except Exception as error:  # a harness or broker failure is reported as the scenario failing
        report = ScenarioReport(name)
        report.failures.append(f"the scenario crashed: {type(error).__name__}: {error}")
        report.details["traceback"] = traceback.format_exc()
        traceback.print_exc()
    report.figures["scenario seconds"] = round(time.monotonic() - started, 1)
    return report


def tidy(run_dir: Path, broker: ChaosBroker, reports: list[ScenarioReport], *, keep: bool) -> None:
    """Without --keep: nothing left on success; on failure only the logs, listed."""
    failed = not all(report.passed for report in reports)
    if failed:
        kafka_log = run_dir / "kafka.log"
        if broker.log_path.exists():
            shutil.copy(broker.log_path, kafka_log)
        print("chaos: FAILED; logs:", file=sys.stderr)
        for path in sorted({log for report in reports for log in report.logs}):
            print(f"  {path}", file=sys.stderr)
        print(f"  {kafka_log}", file=sys.stderr)
    if keep:
        print(f"chaos: kept {run_dir}")
        return
    if not failed:
        shutil.rmtree(run_dir, ignore_errors=True)
        return
    for path in run_dir.iterdir():
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


def main(options: ChaosOptions) -> int:
    reports = run_chaos(options)
    return 0 if reports and all(report.passed for report in reports) else 1
