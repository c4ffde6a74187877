"""Runs the two reference contenders, the plain-aiokafka ceiling and the Faust floor, on their own
copy of the backlog, and measures them by their sink topic's growth."""

from __future__ import annotations

import os
from pathlib import Path

from parcelwatch.streams.devtools.bench.backlog import Backlog, produce_backlog
from parcelwatch.streams.devtools.bench.measurements import Throughput, measure
from parcelwatch.streams.devtools.bench.processes import ModuleProcess, SinkProgress, create_topic
from parcelwatch.streams.devtools.chaos.broker import free_port
from parcelwatch.streams.devtools.chaos.deployment import Deployment

SINK = "bench-sink"


async def run_forwarder(
    kind: str,  # "ceiling" or "floor"
    deployment: Deployment,
    backlog: Backlog,
    run_dir: Path,
    *,
    timeout: float,
) -> Throughput:
    await deployment.create_topics()  # the input topics, with the deployment's partitions
    sink = deployment.prefix + SINK
    await create_topic(deployment.bootstrap, sink, deployment.partitions)
    await produce_backlog(deployment.bootstrap, deployment.topics, backlog)
    inputs = list(backlog.input_topics(deployment.topics))
    common = ["--bootstrap", deployment.bootstrap, "--sink", sink]
    if kind == "ceiling":
        args = [*common, "--group", deployment.app_id, *inputs]
    else:
        args = [
            *common, "--app-id", deployment.app_id, "--partitions", str(deployment.partitions),
            "--data-dir", str(run_dir / f"{kind}-data"), "--web-port", str(free_port()), *inputs,
        ]  # fmt: skip
    env = {name: value for name, value in os.environ.items() if not name.startswith("PARCELWATCH_")}
    process = ModuleProcess(
        f"parcelwatch.streams.devtools.bench.{kind}",
        args,
        {**env, "PARCELWATCH_WEB_PORT": "0"},
        run_dir / f"{kind}.log",
        run_dir / f"{kind}-data",
    )
    progress = SinkProgress(deployment.bootstrap, sink)
    process.start()
    try:
        assert process.pid is not None
        return await measure(
            progress, [process.pid], process.started_at, len(backlog.events),
            timeout=timeout, alive=process.alive,
        )  # fmt: skip
    finally:
        await progress.close()
        process.stop()
