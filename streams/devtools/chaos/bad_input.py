"""Scenario 2, bad input: hypothesis-generated invalid messages and poison keys and values on
every input topic, among good journeys whose outputs are known from a clean run. Every invalid
message must be dead-lettered once with a specific reason, every good output appear once, the
worker stay up, and good events flow about as fast as without the bad ones."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from parcelwatch.schemas.codec import to_jsonable
from parcelwatch.schemas.ids import deterministic_id
from parcelwatch.schemas.state import stored_fields
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import DeadLetterReason
from parcelwatch.streams.devtools.chaos.broker import ChaosBroker
from parcelwatch.streams.devtools.chaos.deployment import Deployment
from parcelwatch.streams.devtools.chaos.invalid_inputs import (
    BadMessage,
    GoodPool,
    generate_bad_messages,
    interleave,
    poison_messages,
)
from parcelwatch.streams.devtools.chaos.journeys import Phase, Run, run_deployment
from parcelwatch.streams.devtools.chaos.kafka_io import Message
from parcelwatch.streams.devtools.chaos.options import ChaosOptions
from parcelwatch.streams.devtools.chaos.report import ScenarioReport
from parcelwatch.streams.devtools.chaos.verify import EXAMPLES, compare_runs, compare_told
from parcelwatch.streams.devtools.chaos.workload import Workload


async def run_bad_input(
    options: ChaosOptions, broker: ChaosBroker, run_dir: Path
) -> ScenarioReport:
    report = ScenarioReport("bad-input")
    workload = Workload.simulate(options.bad_input_shipments, options.seed)
    pool = GoodPool(
        orders=tuple(to_jsonable(event.event) for event in workload.orders),
        scans=tuple(to_jsonable(event.event) for event in workload.scans),
        now=workload.generated_at,
    )
    generated = generate_bad_messages(pool, options.bad_examples, options.seed)
    poison = poison_messages(pool, options.seed)
    bad = generated + poison
    report.figures.update(
        {
            "good events (shipments)": f"{workload.events} ({workload.shipments})",
            "invalid messages (hypothesis)": len(generated),
            "poison keys and values": len(poison),
            "invalid messages by topic": dict(Counter(m.topic_kind for m in bad)),
        }
    )
    token = uuid.uuid4().hex[:6]

    async def run(name: str, with_bad: bool) -> tuple[Run, list[tuple[bool, Any]], list[Phase]]:
        deployment = Deployment(
            broker.bootstrap_servers, f"chaos-{token}.{name}.", options.partitions
        )
        mixed_orders, mixed_scans = _mixed(workload, bad if with_bad else [], options.seed)
        phases = [
            Phase("orders", [_message(item, deployment.topics) for item in mixed_orders], True),
            Phase("scans", [_message(item, deployment.topics) for item in mixed_scans], True),
        ]
        result = await run_deployment(deployment, run_dir, name, phases, options.deadlines)
        report.logs += [str(path) for path in result.supervisor.log_paths]
        return result, [*mixed_orders, *mixed_scans], phases

    clean, _, clean_phases = await run("clean", with_bad=False)
    report.failures += clean.problems()
    if not clean.usable or clean.outputs is None:
        report.failures.append("no reference: the clean run did not complete")
        return report
    dirty, mixed, dirty_phases = await run("with-bad-input", with_bad=True)
    report.failures += dirty.problems()
    _throughput(report, workload.events, len(bad), clean_phases, dirty_phases, options)
    report.figures["worker alive at the end / unexpected exits"] = (
        f"{'yes' if dirty.alive_at_end else 'NO'} / {dirty.supervisor.unexpected_exits}"
    )
    report.figures["/healthz at the end"] = dirty.healthz_at_end
    # One process, never restarted: its own count is every input it handled.
    report.figures["inputs handled by the worker / produced"] = (
        f"{dirty.handled_by_last_process} / {dirty.inputs}"
    )
    report.require(
        dirty.supervisor.unexpected_exits > 0 or dirty.handled_by_last_process == dirty.inputs,
        f"the worker handled {dirty.handled_by_last_process} of {dirty.inputs} inputs "
        "(parcelwatch_events_total), yet the group "
        + ("committed them all: the rest were skipped" if dirty.drained else "stopped"),
    )
    report.require(dirty.alive_at_end, "the worker was not running at the end")
    report.require(
        dirty.supervisor.unexpected_exits == 0,
        f"the worker exited {dirty.supervisor.unexpected_exits} times by itself",
    )
    report.require(dirty.healthz_at_end == 200, f"/healthz answered {dirty.healthz_at_end}")
    if dirty.outputs is None:
        report.failures.append("the run with bad input produced no outputs")
        return report
    placed = [placement for phase in dirty_phases for placement in phase.placed]
    _check_dead_letters(report, mixed, placed, dirty.outputs.dead_letters, dirty.outputs.states)
    for topic, comparison in compare_told(clean.outputs, dirty.outputs).items():
        summary = comparison.summary()
        report.details[f"good_{topic}"] = summary
        report.figures[f"good {topic}: expected / lost / extra / duplicated / payload differs"] = (
            f"{summary['expected']} / {summary['lost']} / {summary['extra']} / "
            f"{summary['redelivered_copies']} / {summary['payload_differs']}"
        )
        report.require(
            comparison.ok and not comparison.redelivered,
            f"good {topic} not exactly as in the clean run ({summary['lost']} lost, "
            f"{summary['extra']} extra, {summary['redelivered_copies']} duplicated, "
            f"{summary['payload_differs']} different)",
        )
    changed = compare_runs(clean.outputs.states, dirty.outputs.states)
    report.figures["good shipments whose final state the bad input changed"] = len(changed)
    report.details["changed_states"] = dict(list(changed.items())[:EXAMPLES])
    report.require(not changed, f"bad input changed the final state of {len(changed)} shipments")
    return report


def _mixed(
    workload: Workload, bad: Sequence[BadMessage], seed: int
) -> tuple[list[tuple[bool, Any]], list[tuple[bool, Any]]]:
    """Bad orders among the good orders; bad scans, checks and the rest among the good scans."""
    return (
        interleave(workload.orders, [m for m in bad if m.topic_kind == "orders"], seed, "orders"),
        interleave(workload.scans, [m for m in bad if m.topic_kind != "orders"], seed, "scans"),
    )


def _message(item: tuple[bool, Any], topics: TopicNames) -> Message:
    is_bad, payload = item
    if is_bad:
        topic = {
            "orders": topics.orders,
            "scans": topics.carrier_scans,
            "checks": topics.shipment_checks,
        }[payload.topic_kind]
        return Message(topic, payload.key, payload.value)
    topic = topics.orders if payload.topic_kind == "order" else topics.carrier_scans
    return Message(topic, payload.key, Workload.encode(payload))


def _check_dead_letters(
    report: ScenarioReport,
    mixed: list[tuple[bool, Any]],
    placed: list[Any],
    letters: list[dict[str, Any]],
    states: dict[str, dict[str, Any]],
) -> None:
    expected: dict[str, BadMessage] = {}
    good_ids: set[str] = set()
    for (is_bad, item), where in zip(mixed, placed, strict=False):
        letter_id = deterministic_id(
            "dead-letter", where.topic, str(where.partition), str(where.offset)
        )
        if is_bad:
            expected[letter_id] = item
        else:
            good_ids.add(letter_id)
    copies = Counter(letter["dead_letter_id"] for letter in letters)
    reason_of = {letter["dead_letter_id"]: letter["reason"] for letter in letters}
    not_dead_lettered = [expected[i] for i in expected if i not in copies]
    duplicated = [i for i in expected if copies.get(i, 0) > 1]
    processing_errors = [
        expected[i] for i in expected if reason_of.get(i) == DeadLetterReason.PROCESSING_ERROR
    ]
    good_dead_lettered = [i for i in copies if i in good_ids]
    unknown = [i for i in copies if i not in expected and i not in good_ids]
    agree = sum(reason_of.get(i) == message.expected_reason for i, message in expected.items())
    accepted = [m for m in not_dead_lettered if _applied(m, states)]
    vanished = [m for m in not_dead_lettered if not _applied(m, states)]
    report.figures.update(
        {
            "invalid messages dead-lettered": f"{len(expected) - len(not_dead_lettered)} of "
            f"{len(expected)}",
            "invalid messages accepted (applied to a shipment), by flaw": dict(
                Counter(m.flaw.split(":")[0] for m in accepted).most_common()
            ),
            "invalid messages vanished (neither applied nor dead-lettered), by flaw": dict(
                Counter(m.flaw.split(":")[0] for m in vanished).most_common()
            ),
            "invalid messages by reason": dict(
                Counter(reason_of[i] for i in expected if i in reason_of).most_common()
            ),
            "reason as the contract calls for": f"{agree} of {len(expected)}",
            "dead-lettered as processing_error, by flaw": dict(
                Counter(m.flaw.split(":")[0] for m in processing_errors).most_common()
            ),
            "dead letters duplicated": len(duplicated),
            "good inputs dead-lettered": len(good_dead_lettered),
        }
    )
    report.details["dead_letter_mismatches"] = [
        {"flaw": m.flaw, "expected": m.expected_reason, "got": reason_of.get(i)}
        for i, m in expected.items()
        if reason_of.get(i) != m.expected_reason
    ][:50]
    report.require(
        not accepted, f"{len(accepted)} invalid messages were accepted and applied to a shipment"
    )
    report.require(
        not vanished,
        f"{len(vanished)} invalid messages vanished: neither applied nor dead-lettered",
    )
    report.require(
        not processing_errors,
        f"{len(processing_errors)} invalid messages dead-lettered as processing_error",
    )
    report.require(not duplicated, f"{len(duplicated)} dead letters published more than once")
    report.require(
        not good_dead_lettered, f"{len(good_dead_lettered)} good inputs were dead-lettered"
    )
    report.require(not unknown, f"{len(unknown)} dead letters for no input of this run")


def _applied(message: BadMessage, states: dict[str, dict[str, Any]]) -> bool:
    """Whether the message's event id is in the state of the shipment it names."""
    try:
        event = orjson.loads(message.value)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(event, dict) or not isinstance(event.get("tracking_number"), str):
        return False
    state = states.get(event["tracking_number"])
    if state is None:
        return False
    return event.get("event_id") in stored_fields(state).get("seen_event_ids", ())


def _throughput(
    report: ScenarioReport,
    good_events: int,
    bad_messages: int,
    clean: list[Phase],
    dirty: list[Phase],
    options: ChaosOptions,
) -> None:
    """Good events must flow as fast as without the bad ones, but for the bad messages' own
    turn: a worker that handles a bad message no slower than a good one moves good events at
    the clean rate x good / (good + bad). Required: at least ``min_good_throughput_ratio`` of
    that, so one bad message never costs more than a good one, whatever its size."""

    def rate(phases: list[Phase]) -> float | None:
        seconds = [phase.handled_seconds for phase in phases]
        if any(value is None for value in seconds):
            return None
        return good_events / sum(value for value in seconds if value is not None)

    clean_rate, dirty_rate = rate(clean), rate(dirty)
    share = good_events / (good_events + bad_messages)
    fair_rate = clean_rate * share if clean_rate else None
    report.figures["good events/s without / with bad input (fair share)"] = (
        f"{clean_rate or 0:,.0f} / {dirty_rate or 0:,.0f} ({fair_rate or 0:,.0f})"
        if clean_rate and dirty_rate
        else "n/a (a run did not handle all its input)"
    )
    ratio = dirty_rate / fair_rate if fair_rate and dirty_rate else 0.0
    report.figures["throughput ratio (with / fair share)"] = round(ratio, 2)
    report.require(
        ratio >= options.min_good_throughput_ratio,
        f"good events flowed at {ratio:.0%} of their fair share of the clean rate with bad "
        f"input among them (required {options.min_good_throughput_ratio:.0%})",
    )
