"""The benchmark's results as JSON and as a markdown table, with the machine they ran on."""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from parcelwatch.streams.devtools.bench.latency import Latency
from parcelwatch.streams.devtools.bench.measurements import Throughput
from parcelwatch.streams.devtools.bench.scaled_recovery import ScaledRecovery
from parcelwatch.streams.devtools.bench.state import StateSize
from parcelwatch.streams.devtools.localkafka import KAFKA_VERSION

MB = 1024 * 1024
CEILING, FLOOR = "ceiling", "floor"
TITLES = {
    CEILING: "plain aiokafka + orjson (ceiling)",
    FLOOR: "Faust forward-only agent (floor)",
    "rules": "parcelwatch, rules only",
    "model": "parcelwatch, with a model",
}


def title(contender: str) -> str:
    """``rules-x2``: the rules-only pipeline with two workers in one group."""
    base, _, workers = contender.partition("-x")
    if workers.isdigit() and base in TITLES:
        return f"{TITLES[base]}, {workers} workers (peak RSS summed)"
    return TITLES.get(contender, contender)


@dataclass(frozen=True)
class BenchResult:
    setup: dict[str, Any]  # events, shipments, partitions, seed, ...
    throughput: dict[str, Throughput]  # by contender name, ceiling and floor included
    latency: Latency
    state: StateSize
    recovery_seconds: float
    machine: dict[str, str]
    scaled_recovery: ScaledRecovery | None = None  # None: not measured (--restore-shipments 0)


def contender_figures(result: BenchResult) -> dict[str, dict[str, float]]:
    ceiling = result.throughput[CEILING].events_per_second
    floor = result.throughput[FLOOR].events_per_second
    return {
        name: {
            "events": run.events,
            "seconds": round(run.seconds, 3),
            "events_per_second": round(run.events_per_second, 1),
            "rates_are_lower_bounds": run.too_fast_to_time,
            "cpu_seconds": round(run.cpu_seconds, 3),
            "events_per_cpu_second": round(run.events_per_cpu_second, 1),
            "ratio_to_ceiling": round(run.events_per_second / ceiling, 4),
            "ratio_to_floor": round(run.events_per_second / floor, 4),
            "start_to_first_event_seconds": round(run.start_to_first, 3),
            "peak_rss_mb": round(run.peak_rss_bytes / MB, 1),
        }
        for name, run in result.throughput.items()
    }


def to_json(result: BenchResult) -> dict[str, Any]:
    return {
        "setup": result.setup,
        "machine": result.machine,
        "contenders": contender_figures(result),
        "pipeline": {
            "latency": asdict(result.latency),
            "state": asdict(result.state),
            "recovery_seconds": round(result.recovery_seconds, 3),
            "scaled_recovery": None
            if result.scaled_recovery is None
            else asdict(result.scaled_recovery),
        },
    }


def markdown(result: BenchResult) -> str:
    figures = contender_figures(result)
    lines = [
        "| contender | events/s | events per CPU-s | vs ceiling | vs floor | start → first event "
        "| peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in figures.items():
        at_least = "≥ " if row["rates_are_lower_bounds"] else ""
        lines.append(
            f"| {title(name)} | {at_least}{row['events_per_second']:,.0f} "
            f"| {at_least}{row['events_per_cpu_second']:,.0f} | {row['ratio_to_ceiling']:.3f} "
            f"| {row['ratio_to_floor']:.3f} | {row['start_to_first_event_seconds']:.1f} s "
            f"| {row['peak_rss_mb']:,.0f} MB |"
        )
    latency, state = result.latency, result.state
    lines += [
        "",
        f"| {TITLES[result.setup['latency_state_recovery_of']]} | |",
        "|---|---:|",
        f"| input → alert at {latency.offered_rate:,.0f} events/s, half its maximum "
        f"({latency.received:,} alerts from {latency.sent:,} simulated events) "
        f"| p50 {latency.p50_ms:,.1f} ms · p95 {latency.p95_ms:,.1f} ms "
        f"· p99 {latency.p99_ms:,.1f} ms |",
        "| of which: input → the batch that raised the alert (worker's clock) "
        f"| p50 {latency.into_batch_p50_ms:,.1f} ms · p99 {latency.into_batch_p99_ms:,.1f} ms |",
        "| of which: that batch → alert read "
        f"| p50 {latency.batch_to_read_p50_ms:,.1f} ms "
        f"· p99 {latency.batch_to_read_p99_ms:,.1f} ms |",
        "| state per shipment, changelog (latest values) "
        f"| {state.changelog_bytes_per_shipment:,.0f} B |",
        f"| state per shipment, RocksDB on disk | {state.rocksdb_bytes_per_shipment:,.0f} B |",
        f"| table recovery from its changelog (start → ready) | {result.recovery_seconds:.1f} s |",
        *_scaled_recovery_row(result.scaled_recovery),
        "",
        f"{result.setup['events']:,} events ({result.setup['shipments']:,} shipments) on "
        f"{result.setup['partitions']} partitions. Machine: "
        + ", ".join(f"{key} {value}" for key, value in result.machine.items())
        + ".",
    ]
    return "\n".join(lines) + "\n"


def _scaled_recovery_row(scaled: ScaledRecovery | None) -> list[str]:
    if scaled is None:
        return []
    return [
        f"| table recovery of {scaled.shipments:,} shipments, seeded changelog "
        f"({scaled.rows:,} rows, {scaled.retired_rows:,} of them retired markers, "
        f"{scaled.changelog_bytes / MB:,.1f} MiB; start → ready) | {scaled.seconds:.1f} s |"
    ]


def machine() -> dict[str, str]:
    return {
        "CPUs": str(os.cpu_count()),
        "CPU": _cpu_model(),
        "RAM": _ram(),
        "Python": platform.python_version(),
        "Kafka": KAFKA_VERSION,
        "faust-streaming": metadata.version("faust-streaming"),
        "aiokafka": metadata.version("aiokafka"),
    }


def _cpu_model() -> str:
    for line in _read_lines("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or "unknown"


def _ram() -> str:
    for line in _read_lines("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
