"""Scenario 1, the crash loop: the same input through an undisturbed run and a disturbed one
(SIGKILLs restarting on kept and empty data dirs, a broker restart); nothing may be lost,
invented or applied out of order, and every final state must equal the offline replay."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from parcelwatch.streams.devtools.chaos.broker import ChaosBroker
from parcelwatch.streams.devtools.chaos.deployment import Deployment
from parcelwatch.streams.devtools.chaos.faults import FaultInjector, FaultRecord, plan_faults
from parcelwatch.streams.devtools.chaos.journeys import Phase, Run, run_deployment
from parcelwatch.streams.devtools.chaos.options import ChaosOptions
from parcelwatch.streams.devtools.chaos.report import ScenarioReport, spread
from parcelwatch.streams.devtools.chaos.verify import (
    compare_outputs,
    compare_runs,
    compare_states,
    notification_told_later,
)
from parcelwatch.streams.devtools.chaos.workload import Workload


async def run_crash_loop(
    options: ChaosOptions, broker: ChaosBroker, run_dir: Path
) -> ScenarioReport:
    report = ScenarioReport("crash-loop")
    workload = Workload.simulate(options.shipments, options.seed)
    token = uuid.uuid4().hex[:6]
    report.figures.update(
        events=workload.events,
        shipments=workload.shipments,
        partitions=options.partitions,
        seed=options.seed,
    )

    async def run(name: str, fault_hook: Any = None) -> Run:
        deployment = Deployment(
            broker.bootstrap_servers, f"chaos-{token}.{name}.", options.partitions
        )
        phases = [
            Phase("orders", workload.order_messages(deployment.topics)),
            Phase("scans", workload.scan_messages(deployment.topics)),
        ]
        result = await run_deployment(
            deployment, run_dir, name, phases, options.deadlines, fault_hook
        )
        report.logs += [str(path) for path in result.supervisor.log_paths]
        return result

    calm = await run("undisturbed")
    report.figures["undisturbed run"] = _phase_summary(calm)
    report.failures += calm.problems()
    if not calm.usable or calm.outputs is None:
        report.failures.append("no reference: the undisturbed run did not complete")
        return report
    replayed = workload.replayed_states()
    input_ids = workload.input_ids()
    calm_states = compare_states(calm.outputs.states, replayed, input_ids)
    report.details["undisturbed_vs_replay"] = calm_states.summary()
    report.require(
        calm_states.ok,
        "the undisturbed run's final states differ from the offline replay "
        f"({calm_states.summary()['differ_from_expected']} shipments): the reference is unsound",
    )
    if options.check_determinism:
        _compare_twins(report, calm, await run("undisturbed-again"))

    plan = plan_faults(options.kills, options.broker_restarts, options.seed)
    report.details["fault_plan"] = [vars(fault) for fault in plan]
    scans = len(workload.scans)

    async def inject(supervisor: Any, watcher: Any) -> list[FaultRecord]:
        injector = FaultInjector(
            plan, supervisor, broker, watcher, scans, len(workload.orders),
            no_progress_seconds=options.deadlines.no_progress,
            recovery_seconds=options.deadlines.recovery,
        )  # fmt: skip
        return await injector.run()

    storm = await run("disturbed", inject)
    faults: list[FaultRecord] = storm.faults if isinstance(storm.faults, list) else []
    _report_faults(report, faults, storm)
    report.failures += storm.problems()
    if storm.outputs is None:
        report.failures.append("the disturbed run produced no outputs")
        return report

    alerts = compare_outputs(calm.outputs.alerts, storm.outputs.alerts, "alert_id")
    notifications = compare_outputs(
        calm.outputs.notifications,
        storm.outputs.notifications,
        "notification_id",
        told_later=notification_told_later,
    )
    letters = compare_outputs(
        [_portable_letter(letter, calm.deployment) for letter in calm.outputs.dead_letters],
        [_portable_letter(letter, storm.deployment) for letter in storm.outputs.dead_letters],
        "source",
    )
    states = compare_states(
        storm.outputs.states, replayed, input_ids, reference=calm.outputs.states
    )
    for topic, comparison in (
        ("alerts", alerts),
        ("notifications", notifications),
        ("dead letters", letters),
    ):
        summary = comparison.summary()
        report.figures[f"{topic}: expected / seen"] = f"{summary['expected']} / {summary['seen']}"
        report.figures[f"{topic}: lost / extra / redelivered / payload differs"] = (
            f"{summary['lost']} / {summary['extra']} / {summary['redelivered_copies']} / "
            f"{summary['payload_differs']}"
        )
        if comparison.told_later:  # copies written after the date they told had passed
            report.figures[f"{topic}: told again after their date passed"] = len(
                comparison.told_later
            )
        report.details[f"disturbed_{topic.replace(' ', '_')}"] = summary
        report.require(not comparison.lost, f"{topic}: {len(comparison.lost)} lost")
        report.require(not comparison.extra, f"{topic}: {len(comparison.extra)} extra")
        report.require(
            not comparison.different,
            f"{topic}: {len(comparison.different)} ids with a different payload",
        )
    state_summary = states.summary()
    report.details["disturbed_vs_replay"] = state_summary
    report.figures.update(
        {
            "inputs not applied (missing from final state)": state_summary["inputs_not_applied"],
            "shipments missing inputs, by where": state_summary[
                "shipments_missing_inputs_by_where"
            ],
            "shipments applied out of order": state_summary["applied_out_of_order"],
            "final states differing from replay": state_summary["differ_from_expected"],
            "shipments with no final state": state_summary["missing"],
        }
    )
    report.require(
        not states.not_applied,
        f"{len(states.not_applied)} inputs never applied (absent from their shipment's "
        "seen_event_ids)",
    )
    report.require(
        not states.out_of_order, f"{len(states.out_of_order)} shipments applied out of order"
    )
    report.require(
        not states.different and not states.missing,
        f"{len(states.different) + len(states.missing)} final states differ from the replay",
    )
    report.require(storm.drained, "committed offsets never reached the end offsets")
    return report


def _report_faults(report: ScenarioReport, faults: list[FaultRecord], storm: Run) -> None:
    kills = [fault for fault in faults if fault.kind == "kill"]
    restarts = [fault for fault in faults if fault.kind == "broker_restart"]
    recovered = [fault for fault in kills if fault.recovery == "recovered"]
    empty = sum(fault.empty_data_dir for fault in kills)
    report.figures.update(
        {
            "disturbed run": _phase_summary(storm),
            "inputs tried (messages produced)": storm.inputs,
            "kills (kept / empty data dir)": f"{len(kills)} ({len(kills) - empty} / {empty})",
            "kills survived (worker worked again)": (
                f"{len(recovered)} ({sum(not f.empty_data_dir for f in recovered)} kept / "
                f"{sum(f.empty_data_dir for f in recovered)} empty)"
            ),
            "broker restarts (outage s)": (
                f"{len(restarts)} ("
                + ", ".join(f"{fault.broker_outage_seconds or 0:.1f}" for fault in restarts)
                + ")"
            ),
            "worker exits nobody asked for": storm.supervisor.unexpected_exits,
            "recovery s after kill, min / median / max": spread(
                [f.recovery_seconds for f in recovered if f.recovery_seconds is not None]
            ),
            # "nothing_left" (not "stalled") when the input was all handled before the restart.
            "recovery s after broker restart": ", ".join(
                f"{f.recovery_seconds:.1f}" if f.recovery_seconds is not None else f.recovery
                for f in restarts
            )
            or "n/a",
        }
    )
    report.details["faults"] = [fault.to_json() for fault in faults]
    for number, fault in enumerate(faults, start=1):
        what = (
            f"fault {number} ({fault.kind}"
            + (", empty data dir" if fault.kind == "kill" and fault.empty_data_dir else "")
            + ")"
        )
        report.require(
            fault.recovery != "stalled",
            f"{what}: the worker handled no input within the recovery deadline (a stall)",
        )
        report.require(
            fault.waited != "stalled",
            f"before {what}: nothing was handled for the no-progress deadline (a stall)",
        )


def _phase_summary(run: Run) -> str:
    return "; ".join(
        f"{phase.name}: {len(phase.messages)} in "
        + (phase.drain.describe() if phase.drain else "not reached")
        for phase in run.phases
    )


def _portable_letter(letter: dict[str, Any], deployment: Deployment) -> dict[str, Any]:
    """A dead letter without its deployment's prefix (its id is derived from the topic name)."""
    topic = str(letter.get("source_topic", "")).removeprefix(deployment.prefix)
    portable = {key: value for key, value in letter.items() if key != "dead_letter_id"}
    portable["source_topic"] = topic
    portable["source"] = f"{topic}[{letter.get('source_partition')}]@{letter.get('source_offset')}"
    return portable


def _compare_twins(report: ScenarioReport, first: Run, second: Run) -> None:
    """Two undisturbed runs of one input must agree exactly: otherwise outputs depend on timing or
    the clock, and no comparison with a disturbed run would mean anything."""
    if first.outputs is None or second.outputs is None:
        report.failures.append("determinism: the second undisturbed run produced no outputs")
        return
    alerts = compare_outputs(first.outputs.alerts, second.outputs.alerts, "alert_id")
    notifications = compare_outputs(
        first.outputs.notifications,
        second.outputs.notifications,
        "notification_id",
        told_later=notification_told_later,
    )
    states = compare_runs(first.outputs.states, second.outputs.states)
    report.details["determinism"] = {
        "alerts": alerts.summary(),
        "notifications": notifications.summary(),
        "states_differing": len(states),
        "examples": dict(list(states.items())[:10]),
    }
    same = alerts.ok and notifications.ok and not states
    report.figures["two undisturbed runs identical"] = "yes" if same else "NO"
    report.require(same, "determinism: two undisturbed runs of the same input differ")
