"""``parcelwatch bench``: one run, every contender in turn on the local broker, then the report.

Contenders run one after another, not at once, so that none takes CPU from another: each is
measured alone on the same machine, backlog and broker. Order: ceiling, floor, the pipeline with
rules only, then with a model (whose worker then serves the latency probe, the state size and the
recovery test: the targets are set for a worker with a model loaded; with ``--skip-model``, the
rules-only worker serves them). Last, a fresh worker restores a changelog seeded with the
target's number of shipments, made from that worker's table (``scaled_recovery``).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from pathlib import Path

from parcelwatch.streams.devtools.bench.backlog import Backlog
from parcelwatch.streams.devtools.bench.forwarders import run_forwarder
from parcelwatch.streams.devtools.bench.latency import OFFERED_SEED_OFFSET, measure_latency
from parcelwatch.streams.devtools.bench.measurements import Throughput
from parcelwatch.streams.devtools.bench.model import promote_model, train_model
from parcelwatch.streams.devtools.bench.options import BenchOptions
from parcelwatch.streams.devtools.bench.pipeline import run_group, run_pipeline
from parcelwatch.streams.devtools.bench.report import BenchResult, machine, markdown, to_json
from parcelwatch.streams.devtools.bench.scaled_recovery import scaled_recovery
from parcelwatch.streams.devtools.bench.state import latest_rows, recovery_seconds, state_size
from parcelwatch.streams.devtools.chaos.deployment import Deployment
from parcelwatch.streams.devtools.chaos.kafka_io import delete_topics_with_prefix


def main(options: BenchOptions) -> int:
    result = asyncio.run(run_bench(options))
    print(write_results(result, options.out))
    print(f"bench: written to {options.out / 'bench.md'} and {options.out / 'bench.json'}")
    return 0


def write_results(result: BenchResult, out: Path) -> str:
    out.mkdir(parents=True, exist_ok=True)
    table = markdown(result)
    (out / "bench.md").write_text(table, encoding="utf-8")
    (out / "bench.json").write_text(json.dumps(to_json(result), indent=2) + "\n", encoding="utf-8")
    return table


async def run_bench(options: BenchOptions) -> BenchResult:
    run = uuid.uuid4().hex[:6]
    work = options.out / "work"  # logs are kept; the workers' data dirs are removed at the end
    work.mkdir(parents=True, exist_ok=True)

    def deployment(name: str, *overrides: tuple[str, str]) -> Deployment:
        # Its own topic prefix and app id: runs and contenders never read each other's topics.
        prefix = f"bench-{run}.{name}."
        return Deployment(options.bootstrap, prefix, options.partitions, overrides)

    _say(f"simulating a backlog of {options.events:,} events")
    backlog = await asyncio.to_thread(Backlog.simulate, options.events, options.seed)
    timeout = options.throughput_timeout()
    throughput: dict[str, Throughput] = {}
    for kind in ("ceiling", "floor"):
        _say(f"{kind} ...")
        throughput[kind] = await run_forwarder(
            kind, deployment(kind), backlog, work, timeout=timeout
        )
    _say("pipeline, rules only ...")
    rules = deployment("rules")
    worker, throughput["rules"] = await run_pipeline(rules, backlog, work, "rules", timeout=timeout)
    # The figures the targets are set for (state, latency, recovery) are the worker's with a model
    # loaded; without one (--skip-model), the rules-only worker's.
    primary, primary_kind = rules, "rules"
    if not options.skip_model:
        worker.stop()
        _say("training the model ...")
        model_dir, version = await asyncio.to_thread(
            train_model, work / "model", shipments=options.model_shipments, seed=options.seed
        )
        primary = deployment("model", ("PARCELWATCH_MODEL_DIR", str(model_dir)))
        primary_kind = "model"
        await primary.create_topics()
        await promote_model(primary.settings(), model_dir, version)
        _say("pipeline with a model ...")
        worker, throughput["model"] = await run_pipeline(
            primary, backlog, work, "model", timeout=timeout
        )
    try:
        rows = await latest_rows(primary)
        state = state_size(rows, worker.data_dir, backlog.shipments)
        rate = min(
            options.max_latency_rate, max(1.0, throughput[primary_kind].events_per_second / 2)
        )
        offered = await asyncio.to_thread(
            Backlog.simulate,
            max(1, round(rate * options.latency_seconds)),
            options.seed + OFFERED_SEED_OFFSET,
        )
        _say(f"input → alert latency at {rate:,.0f} events/s ...")
        latency = await measure_latency(primary, offered, rate)
    finally:
        worker.stop()
    _say("recovery ...")
    recovery = await recovery_seconds(primary, work, timeout=timeout)
    scaled = None
    if options.restore_shipments:
        _say(f"recovery of {options.restore_shipments:,} shipments (seeded changelog) ...")
        scaled = await scaled_recovery(
            deployment("scaled", *primary.overrides),
            rows,
            backlog.shipments,
            options.restore_shipments,
            work,
            timeout=options.scaled_recovery_timeout(),
        )
    if options.workers > 1:
        name = f"rules-x{options.workers}"
        _say(f"pipeline, rules only, {options.workers} workers ...")
        group, throughput[name] = await run_group(
            deployment(name), backlog, work, name, options.workers, timeout=timeout
        )
        for worker in group:
            worker.stop()
    for data_dir in work.glob("*-data"):
        shutil.rmtree(data_dir, ignore_errors=True)
    await delete_topics_with_prefix(options.bootstrap, f"bench-{run}.")  # the logs stay in work/
    return BenchResult(
        setup={
            "events": len(backlog.events),
            "shipments": backlog.shipments,
            "partitions": options.partitions,
            "workers": options.workers,
            "seed": options.seed,
            "tiny": options.tiny,
            "with_model": not options.skip_model,
            "latency_state_recovery_of": primary_kind,
            "run": run,
        },
        throughput=throughput,
        latency=latency,
        state=state,
        recovery_seconds=recovery,
        scaled_recovery=scaled,
        machine=machine(),
    )


def _say(text: str) -> None:
    print(f"bench: {text}", flush=True)
