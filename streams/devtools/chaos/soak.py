"""Scenario 3, the soak: simulated traffic at a steady rate for a while, sampling the worker's
resident memory and its input lag. Passes when memory is flat and lag bounded, not trending up."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from pathlib import Path

from parcelwatch.streams.devtools.chaos.broker import ChaosBroker
from parcelwatch.streams.devtools.chaos.deployment import Deployment
from parcelwatch.streams.devtools.chaos.kafka_io import (
    GroupWatcher,
    Message,
    produce_at_rate,
    producer,
)
from parcelwatch.streams.devtools.chaos.options import ChaosOptions
from parcelwatch.streams.devtools.chaos.progress import wait_drained
from parcelwatch.streams.devtools.chaos.report import ScenarioReport
from parcelwatch.streams.devtools.chaos.workers import Supervisor
from parcelwatch.streams.devtools.chaos.workload import Workload

MB = 1024 * 1024
RSS_TOLERANCE = 0.10  # the last third's median RSS may exceed the second third's by 10% ...
RSS_SLACK_BYTES = 8 * MB  # ... plus a few MB (allocator noise)
LAG_BOUND_SECONDS = 30.0  # max lag: this many seconds of input
LAG_TREND_SECONDS = 5.0  # the last third's median lag may exceed the second third's by this
CHUNK_SHIPMENTS = 250  # journeys are simulated a chunk at a time, as the traffic needs them


@dataclass(frozen=True)
class Sample:
    seconds: float  # since the traffic started
    rss_bytes: int | None
    lag: int | None  # inputs not yet committed


async def run_soak(options: ChaosOptions, broker: ChaosBroker, run_dir: Path) -> ScenarioReport:
    report = ScenarioReport("soak")
    duration = options.duration_minutes * 60
    # Timers on, at the production interval: a long-running worker sweeps its table.
    deployment = Deployment(
        broker.bootstrap_servers,
        f"chaos-{uuid.uuid4().hex[:6]}.soak.",
        options.partitions,
        overrides=(("PARCELWATCH_CHECK_INTERVAL_SECONDS", "60"),),
    )
    await deployment.create_topics()
    supervisor = Supervisor(deployment, run_dir, "soak")
    watcher = GroupWatcher(deployment.bootstrap, deployment.app_id, deployment.topics.consumed)
    samples: list[Sample] = []
    try:
        worker = supervisor.start()
        report.logs.append(str(worker.log_path))
        if not await worker.wait_healthy(options.deadlines.worker_ready):
            report.failures.append("the worker never became healthy")
            return report
        stop = asyncio.Event()
        async with producer(deployment.bootstrap) as client:
            traffic = asyncio.create_task(
                produce_at_rate(client, _traffic(deployment, options.seed), options.soak_rate, stop)
            )
            started = time.monotonic()
            while time.monotonic() - started < duration and not traffic.done():
                await asyncio.sleep(options.soak_sample_seconds)
                progress = await watcher.progress()
                samples.append(
                    Sample(
                        round(time.monotonic() - started, 1),
                        worker.rss_bytes(),
                        progress.lag if progress else None,
                    )
                )
            stop.set()
            sent = await traffic
            traffic_seconds = time.monotonic() - started
        drain = await wait_drained(
            watcher,
            supervisor,
            no_progress=options.deadlines.no_progress,
            deadline=options.deadlines.drain,
        )
        report.figures.update(
            {
                "minutes": round(duration / 60, 2),
                "events sent (target rate/s)": f"{sent:,} ({options.soak_rate:g})",
                "achieved rate/s": round(sent / max(traffic_seconds, 1e-9), 1),
                "samples": len(samples),
                "drain after the traffic": drain.describe(),
                "worker alive / unexpected exits": (
                    f"{'yes' if worker.alive() else 'NO'} / {supervisor.unexpected_exits}"
                ),
            }
        )
        report.require(drain.drained, f"after the traffic: {drain.describe()}")
        report.require(supervisor.unexpected_exits == 0, "the worker exited by itself")
        _judge(report, samples, options.soak_rate)
        report.details["samples"] = [asdict(sample) for sample in samples]
        return report
    finally:
        await watcher.close()
        supervisor.stop()


async def _traffic(deployment: Deployment, seed: int) -> AsyncIterator[Message]:
    """Endless simulated journeys, a chunk at a time (simulated off the event loop), in publish
    order: orders and scans mixed as they would arrive."""
    chunk = 0
    while True:
        workload = await asyncio.to_thread(
            Workload.simulate, CHUNK_SHIPMENTS, seed * 100_000 + chunk
        )
        orders = workload.order_messages(deployment.topics)
        scans = workload.scan_messages(deployment.topics)
        events = sorted(
            zip([*workload.orders, *workload.scans], [*orders, *scans], strict=True),
            key=lambda pair: pair[0].emit_at,
        )
        for _, message in events:
            yield message
        chunk += 1


def _judge(report: ScenarioReport, samples: list[Sample], rate: float) -> None:
    rss = [(s.seconds, s.rss_bytes) for s in samples if s.rss_bytes is not None]
    lags = [(s.seconds, s.lag) for s in samples if s.lag is not None]
    if len(rss) < 6 or len(lags) < 6:
        report.failures.append(f"too few samples to judge ({len(samples)})")
        return
    second_rss, last_rss = _thirds(rss)
    second_lag, last_lag = _thirds(lags)
    rss_limit = second_rss * (1 + RSS_TOLERANCE) + RSS_SLACK_BYTES
    max_lag = max(lag for _, lag in lags)
    lag_bound = max(1000.0, rate * LAG_BOUND_SECONDS)
    report.figures.update(
        {
            "RSS MB: first sample / 2nd-third median / last-third median / max": (
                f"{rss[0][1] / MB:.0f} / {second_rss / MB:.0f} / {last_rss / MB:.0f} / "
                f"{max(value for _, value in rss) / MB:.0f}"
            ),
            "lag: 2nd-third median / last-third median / max (bound)": (
                f"{second_lag:,.0f} / {last_lag:,.0f} / {max_lag:,} ({lag_bound:,.0f})"
            ),
        }
    )
    report.require(
        last_rss <= rss_limit,
        f"RSS grew: last third's median {last_rss / MB:.0f} MB > {rss_limit / MB:.0f} MB "
        f"(second third's {second_rss / MB:.0f} MB + 10% + 8 MB)",
    )
    report.require(max_lag <= lag_bound, f"lag reached {max_lag:,} (bound {lag_bound:,.0f})")
    report.require(
        last_lag <= second_lag + rate * LAG_TREND_SECONDS,
        f"lag trends up: last third's median {last_lag:,.0f} vs {second_lag:,.0f}",
    )


def _thirds(points: list[tuple[float, int]]) -> tuple[float, float]:
    """Medians of the second and last thirds of the samples (the first third is warm-up)."""
    third = len(points) // 3
    second = [value for _, value in points[third : 2 * third]]
    last = [value for _, value in points[2 * third :]]
    return statistics.median(second), statistics.median(last)
