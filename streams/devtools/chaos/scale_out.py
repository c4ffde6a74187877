"""Scenario 4, scale-out: two workers in one group on 8 partitions, one of them killed (or joining
and leaving) mid-stream: how long its partitions sit idle; nothing lost, nothing re-sent with a
new id.

Each variant is compared with a one-worker undisturbed run of the same input (alerts and
notifications id by id, final states against the offline replay), as the crash loop does.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from aiokafka import TopicPartition

from parcelwatch.streams.devtools.chaos.broker import ChaosBroker, free_port
from parcelwatch.streams.devtools.chaos.deployment import Deployment
from parcelwatch.streams.devtools.chaos.journeys import Phase, Run, run_deployment
from parcelwatch.streams.devtools.chaos.kafka_io import GroupWatcher, produce
from parcelwatch.streams.devtools.chaos.options import ChaosOptions
from parcelwatch.streams.devtools.chaos.outputs import Outputs, read_outputs, read_states
from parcelwatch.streams.devtools.chaos.progress import wait_drained
from parcelwatch.streams.devtools.chaos.report import ScenarioReport
from parcelwatch.streams.devtools.chaos.verify import compare_states, compare_told
from parcelwatch.streams.devtools.chaos.workers import Supervisor
from parcelwatch.streams.devtools.chaos.workload import Workload

Fault = Literal["kill", "kill_restart", "join_leave"]
SAMPLE_SECONDS = 0.25  # committed offsets move once per Faust commit (2.8 s): finer is noise


@dataclass(frozen=True)
class Variant:
    name: str
    fault: Fault  # kill: the survivor takes over; kill_restart: the killed worker comes back
    static: bool = False  # group.instance.id per worker (KIP-345)
    standby_replicas: int = 1
    session_timeout_seconds: float = 10.0  # the worker's default
    at_fraction: float = 0.25  # of the scans handled when the fault strikes
    leave_at_fraction: float = 0.6  # join_leave: when the second worker leaves (SIGTERM)


VARIANTS = (
    Variant("dynamic, standby 1, SIGKILL", "kill"),
    Variant("dynamic, standby 0, SIGKILL", "kill", standby_replicas=0),
    Variant("dynamic, standby 1, SIGKILL + restart", "kill_restart"),
    Variant("static, standby 1, SIGKILL + restart (same id)", "kill_restart", static=True),
    # A static member is only waited for while its session lasts: the restart (~10 s to start
    # Python, Faust and the tables here) must fit in it, or the group rebalances twice.
    Variant(
        "static, standby 1, session 30 s, SIGKILL + restart (same id)",
        "kill_restart",
        static=True,
        session_timeout_seconds=30.0,
    ),
    Variant("dynamic, standby 1, second worker joins then leaves", "join_leave"),
)


@dataclass
class VariantRun:
    variant: Variant
    supervisors: list[Supervisor]
    outputs: Outputs | None = None
    drain: str = "not reached"
    drained: bool = False
    takeover_seconds: float | None = None  # fault -> every lagging partition committed again
    idle_partitions: int = 0  # partitions with input waiting when the fault struck

    @property
    def logs(self) -> list[str]:
        return [str(path) for supervisor in self.supervisors for path in supervisor.log_paths]


async def run_scale_out(
    options: ChaosOptions, broker: ChaosBroker, run_dir: Path
) -> ScenarioReport:
    return await scale_out(options, broker.bootstrap_servers, run_dir, VARIANTS)


async def scale_out(
    options: ChaosOptions, bootstrap: str, run_dir: Path, variants: Sequence[Variant]
) -> ScenarioReport:
    report = ScenarioReport("scale-out")
    workload = Workload.simulate(options.shipments, options.seed)
    token = uuid.uuid4().hex[:6]
    partitions = options.scale_out_partitions
    run_dir = run_dir / f"scale-{token}"  # data dirs of their own, never an earlier run's
    run_dir.mkdir(parents=True, exist_ok=True)
    report.figures.update(
        events=workload.events, shipments=workload.shipments, partitions=partitions
    )

    def deployment(name: str, *overrides: tuple[str, str]) -> Deployment:
        # parcel_lost cases are judged against the processing clock (promise + 72 h < now): a
        # shipment near that line opens a case in one run and not the next. Not what is compared.
        never_lost = ("PARCELWATCH_LOST_AFTER_PROMISE_HOURS", "1000000")
        return Deployment(bootstrap, f"scale-{token}.{name}.", partitions, (never_lost, *overrides))

    reference = await run_deployment(
        deployment("one-worker"),
        run_dir,
        "one-worker",
        [
            Phase("orders", workload.order_messages(deployment("one-worker").topics)),
            Phase("scans", workload.scan_messages(deployment("one-worker").topics)),
        ],
        options.deadlines,
    )
    report.logs += [str(path) for path in reference.supervisor.log_paths]
    report.failures += reference.problems()
    if not reference.usable or reference.outputs is None:
        report.failures.append("no reference: the one-worker run did not complete")
        return report
    for number, variant in enumerate(variants, start=1):
        target = deployment(
            f"v{number}",
            ("PARCELWATCH_STANDBY_REPLICAS", str(variant.standby_replicas)),
            ("PARCELWATCH_SESSION_TIMEOUT_SECONDS", str(variant.session_timeout_seconds)),
        )
        run = await _run_variant(variant, target, workload, run_dir, f"v{number}", options)
        report.logs += run.logs
        _judge(report, run, reference, workload)
    return report


async def _run_variant(
    variant: Variant,
    deployment: Deployment,
    workload: Workload,
    run_dir: Path,
    name: str,
    options: ChaosOptions,
) -> VariantRun:
    await deployment.create_topics()
    supervisors = [
        Supervisor(
            _member(deployment, member, variant.static),
            run_dir,
            member,
            web_port=free_port() if variant.static else None,  # a static member keeps its URL
        )
        for member in (f"{name}-a", f"{name}-b")
    ]
    first, second = supervisors
    run = VariantRun(variant, supervisors)
    drains = GroupWatcher(
        deployment.bootstrap,
        deployment.app_id,
        deployment.topics.consumed,
        deployment.changelog_topic,
    )
    commits = GroupWatcher(deployment.bootstrap, deployment.app_id, deployment.topics.consumed)
    deadlines = options.deadlines
    try:
        for supervisor in supervisors if variant.fault != "join_leave" else [first]:
            supervisor.start()
        if not await _all_ready(supervisors, deadlines.worker_ready):
            run.drain = "the workers never became ready"
            return run
        await produce(deployment.bootstrap, workload.order_messages(deployment.topics))
        orders = await wait_drained(
            drains, first, no_progress=deadlines.no_progress, deadline=deadlines.drain
        )
        if not orders.drained:
            run.drain = f"orders: {orders.describe()}"
            return run
        scans = len(workload.scans)
        await produce(deployment.bootstrap, workload.scan_messages(deployment.topics))
        handled = len(workload.orders) + variant.at_fraction * scans
        await _wait_handled(supervisors, handled, deadlines.drain)
        if variant.fault == "join_leave":
            second.start()
            await _wait_handled([second], 1, deadlines.recovery)  # it has partitions, works them
            handled = len(workload.orders) + variant.leave_at_fraction * scans
            await _wait_handled(supervisors, handled, deadlines.drain)
        waiting = await _lagging(commits)
        run.idle_partitions = len(waiting)
        struck = time.monotonic()
        if variant.fault == "join_leave":
            second.stop()  # an orderly leave: the group rebalances at once
        elif variant.fault == "kill_restart":
            second.kill_and_restart(empty_data_dir=False)
        else:
            assert second.current is not None
            second.current.kill()
        run.takeover_seconds = await _until_all_move(commits, waiting, struck, deadlines.recovery)
        drain = await wait_drained(
            drains, first, no_progress=deadlines.no_progress, deadline=deadlines.drain
        )
        run.drain, run.drained = drain.describe(), drain.drained
        outputs = await read_outputs(deployment)
        for supervisor in supervisors:
            supervisor.stop()
        states, unreadable = await read_states(deployment)
        run.outputs = replace(outputs, states=states, unreadable=outputs.unreadable + unreadable)
        return run
    finally:
        await drains.close()
        await commits.close()
        for supervisor in supervisors:
            supervisor.stop()


def _member(deployment: Deployment, name: str, static: bool) -> Deployment:
    """The deployment as one worker sees it: with static membership, a name of its own that a
    restart keeps (the Supervisor restarts with the same environment)."""
    if not static:
        return deployment
    return replace(
        deployment,
        overrides=(*deployment.overrides, ("PARCELWATCH_INSTANCE_ID", name)),
    )


async def _all_ready(supervisors: Sequence[Supervisor], timeout: float) -> bool:
    workers = [supervisor.current for supervisor in supervisors if supervisor.current is not None]
    ready = await asyncio.gather(*(worker.wait_healthy(timeout) for worker in workers))
    return all(ready)


async def _wait_handled(supervisors: Sequence[Supervisor], target: float, timeout: float) -> None:
    """Until the supervisors' current processes have handled ``target`` inputs between them
    (any outcome, by their own /metrics), or ``timeout`` passed (the verdict then tells)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = [
            await supervisor.current.events_total()
            for supervisor in supervisors
            if supervisor.current is not None and supervisor.current.alive()
        ]
        if sum(count or 0 for count in counts) >= target:
            return
        await asyncio.sleep(0.2)


async def _lagging(commits: GroupWatcher) -> dict[TopicPartition, int]:
    """Partitions with input waiting, and their committed offsets now."""
    progress = None
    while progress is None:
        progress = await commits.progress()
    return {
        tp: progress.committed.get(tp, 0)
        for tp, end in progress.ends.items()
        if end > progress.committed.get(tp, 0)
    }


async def _until_all_move(
    commits: GroupWatcher, waiting: dict[TopicPartition, int], since: float, timeout: float
) -> float | None:
    """Seconds from ``since`` until every partition of ``waiting`` has committed past its offset
    then: the dead worker's partitions are worked again. None: not within ``timeout``."""
    left = dict(waiting)
    while left and time.monotonic() - since < timeout:
        progress = await commits.progress()
        if progress is not None:
            left = {tp: at for tp, at in left.items() if progress.committed.get(tp, 0) <= at}
        if left:
            await asyncio.sleep(SAMPLE_SECONDS)
    return None if left else round(time.monotonic() - since, 2)


def _judge(report: ScenarioReport, run: VariantRun, reference: Run, workload: Workload) -> None:
    name = run.variant.name
    takeover = "stalled" if run.takeover_seconds is None else f"{run.takeover_seconds:.1f} s"
    report.figures[f"{name}: takeover ({run.idle_partitions} partitions waiting)"] = takeover
    report.require(run.takeover_seconds is not None, f"{name}: partitions idle past the deadline")
    report.require(run.drained, f"{name}: not drained ({run.drain})")
    if run.outputs is None or reference.outputs is None:
        report.failures.append(f"{name}: no outputs")
        return
    summaries = []
    for topic, comparison in compare_told(reference.outputs, run.outputs).items():
        summary = comparison.summary()
        summaries.append(
            f"{topic} {summary['seen']}/{summary['expected']}, lost {summary['lost']}, "
            f"extra {summary['extra']}, same-id copies {summary['redelivered_copies']}"
        )
        report.details[f"{name}: {topic}"] = summary
        report.require(comparison.ok, f"{name}: {topic} differ from the one-worker run {summary}")
    states = compare_states(
        run.outputs.states,
        workload.replayed_states(),
        workload.input_ids(),
        reference=reference.outputs.states,
    )
    # Support cases are judged on the state a batch ends with, so where batches end can decide a
    # few (seen: unrequested_return cases on two parcels back in transit, opened by the one-worker
    # run only). Reported, not failed: batch boundaries differ between any two runs.
    cases_only = {
        tracking
        for tracking, fields in states.different.items()
        if set(fields) == {"outputs.escalated"}
    }
    summaries.append(
        f"inputs not applied {len(states.not_applied)}, out of order {len(states.out_of_order)}, "
        f"states differing {len(states.different) - len(cases_only)} "
        f"(+{len(cases_only)} by support cases only)"
    )
    report.figures[f"{name}: outputs"] = "; ".join(summaries)
    report.details[f"{name}: states"] = states.summary()
    report.require(
        not (states.missing or states.unexpected or states.not_applied or states.out_of_order)
        and set(states.different) <= cases_only,
        f"{name}: final states differ {states.summary()}",
    )
