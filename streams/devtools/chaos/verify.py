"""Comparisons behind every verdict: outputs id by id against a reference run, final states field
by field against the offline replay, and every input found in its shipment's state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from parcelwatch.schemas.state import (
    MAX_SEEN_EVENT_IDS,
    ShipmentState,
    state_to_json,
    stored_fields,
)
from parcelwatch.streams.devtools.chaos.outputs import Outputs

# Processing-time fields: they say when a worker handled something, not what it decided.
OUTPUT_PROCESSING_FIELDS = frozenset({"detected_at", "created_at", "received_at"})
# A notification tells the best expected date still ahead of the moment it is written
# (``notification_text._expected_delivery``), so a copy written once that date has passed tells
# the next one, in other words. Two runs of one input are a minute apart, and the simulator
# promises delivery by 23:59:59 local time: a run across midnight in a customer's time zone
# (05:00 UTC for New York in winter) writes such copies.
TOLD_LATER_FIELDS = frozenset({"expected_delivery", "expected_delivery_source", "message"})
# States are compared field by field, a part's fields by dotted name (see ``stored_fields``).
# ``home_partition`` is where the state was written (a producer's partitioner may differ between
# runs); ``next_check_at`` is computed from the processing time.
STATE_PROCESSING_FIELDS = frozenset({"timer.home_partition", "timer.next_check_at"})
# What identifies an entry of the state's logs (see ``comparable_fields``).
LOG_IDENTITY_KEYS = {
    "outputs.alert_log": ("kind", "alert_id"),
    "outputs.notification_log": ("kind", "milestone", "notification_id"),
}
# Written by the worker's follow-up (notifications sent), its support desk (cases opened) and its
# model monitoring (outcome decided), which the core's replay does not run: compared with the
# undisturbed run instead.
WORKER_FIELDS = frozenset(
    {
        "outputs.notified",
        "outputs.notification_log",
        "outputs.escalated",
        "outputs.outcome_recorded",
    }
)
EXAMPLES = 10  # ids listed per problem in a report; the counts are always complete


@dataclass(frozen=True)
class OutputComparison:
    """One output topic of a run against the same topic of a reference run, by id."""

    expected: int  # distinct ids in the reference
    seen: int  # distinct ids in the run
    messages: int  # messages in the run, redeliveries included
    lost: list[str]  # expected ids never seen
    extra: list[str]  # ids the reference never produced
    redelivered: dict[str, int]  # id -> copies, for ids seen more than once
    different: list[str]  # ids whose payload differs from the reference's (or between copies)
    # ids whose copies differ only as the passing time explains (``notification_told_later``)
    told_later: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.extra or self.different)

    def summary(self) -> dict[str, Any]:
        return {
            "expected": self.expected,
            "seen": self.seen,
            "messages": self.messages,
            "lost": len(self.lost),
            "extra": len(self.extra),
            "redelivered_ids": len(self.redelivered),
            "redelivered_copies": sum(copies - 1 for copies in self.redelivered.values()),
            "payload_differs": len(self.different),
            "told_later": len(self.told_later),
            "examples": {
                "lost": self.lost[:EXAMPLES],
                "extra": self.extra[:EXAMPLES],
                "redelivered": sorted(self.redelivered)[:EXAMPLES],
                "payload_differs": self.different[:EXAMPLES],
                "told_later": self.told_later[:EXAMPLES],
            },
        }


def compare_outputs(
    reference: Iterable[Mapping[str, Any]],
    run: Iterable[Mapping[str, Any]],
    identity: str | Any,
    *,
    told_later: Callable[[Mapping[str, Any], Mapping[str, Any]], bool] | None = None,
) -> OutputComparison:
    """``identity`` is the id field's name, or a function of a message giving its identity.
    ``told_later(a, b)``: whether two copies of one id differ only as the time between their
    writing explains; such ids are listed apart, not as different."""
    key = (lambda message: message[identity]) if isinstance(identity, str) else identity
    expected = _by_identity(reference, key)
    seen = _by_identity(run, key)
    different: list[str] = []
    later: list[str] = []
    for ident, copies in sorted(seen.items()):
        others = [*copies[1:], *expected.get(ident, ())[:1]]
        differing = [copy for copy in others if _decided(copy) != _decided(copies[0])]
        if not differing:
            continue
        explained = told_later is not None and all(told_later(copies[0], c) for c in differing)
        (later if explained else different).append(ident)
    return OutputComparison(
        expected=len(expected),
        seen=len(seen),
        messages=sum(len(copies) for copies in seen.values()),
        lost=sorted(set(expected) - set(seen)),
        extra=sorted(set(seen) - set(expected)),
        redelivered={ident: len(copies) for ident, copies in seen.items() if len(copies) > 1},
        different=different,
        told_later=later,
    )


def notification_told_later(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two copies of a notification differ only because the date the earlier one told
    had passed when the later one was written."""
    if _decided(a, TOLD_LATER_FIELDS) != _decided(b, TOLD_LATER_FIELDS):
        return False
    earlier, later = sorted((a, b), key=lambda copy: _moment(copy["created_at"]))
    told = earlier.get("expected_delivery")
    return told is not None and _moment(told) < _moment(later["created_at"])


def compare_told(reference: Outputs, run: Outputs) -> dict[str, OutputComparison]:
    """A run's alerts and notifications against a reference run's, by id, by topic."""
    return {
        "alerts": compare_outputs(reference.alerts, run.alerts, "alert_id"),
        "notifications": compare_outputs(
            reference.notifications,
            run.notifications,
            "notification_id",
            told_later=notification_told_later,
        ),
    }


def _decided(message: Mapping[str, Any], also_left_out: frozenset[str] = frozenset()) -> dict:
    """What a message decided: its fields but the processing-time ones (and ``also_left_out``)."""
    left_out = OUTPUT_PROCESSING_FIELDS | also_left_out
    return {name: value for name, value in message.items() if name not in left_out}


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _by_identity(
    messages: Iterable[Mapping[str, Any]], key: Any
) -> dict[str, list[Mapping[str, Any]]]:
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for message in messages:
        grouped.setdefault(str(key(message)), []).append(message)
    return grouped


@dataclass
class StateComparison:
    """Final states (the changelog's last value per shipment) against what they must be."""

    shipments: int  # expected
    missing: list[str] = field(default_factory=list)  # no state at all
    unexpected: list[str] = field(default_factory=list)  # a state no input asked for
    not_applied: list[str] = field(default_factory=list)  # "tracking/event_id" never applied
    out_of_order: list[str] = field(default_factory=list)  # same inputs, other application order
    different: dict[str, list[str]] = field(default_factory=dict)  # tracking -> fields that differ
    capped_shipments: int = 0  # shipments with more inputs than seen_event_ids keeps
    # Where a shipment's unapplied inputs sit among its inputs: "last" (its latest inputs, e.g.
    # a state write lost after its outputs went out), "first" (applied to a state that had not
    # been restored yet), or "between".
    not_applied_where: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not (
            self.missing or self.unexpected or self.not_applied or self.out_of_order
            or self.different
        )  # fmt: skip

    def summary(self) -> dict[str, Any]:
        field_counts = Counter(name for names in self.different.values() for name in names)
        return {
            "shipments": self.shipments,
            "missing": len(self.missing),
            "unexpected": len(self.unexpected),
            "inputs_not_applied": len(self.not_applied),
            "shipments_missing_inputs_by_where": dict(self.not_applied_where),
            "applied_out_of_order": len(self.out_of_order),
            "differ_from_expected": len(self.different),
            "differing_fields": dict(field_counts.most_common()),
            "shipments_over_seen_ids_cap": self.capped_shipments,
            "examples": {
                "missing": self.missing[:EXAMPLES],
                "not_applied": self.not_applied[:EXAMPLES],
                "out_of_order": self.out_of_order[:EXAMPLES],
                "different": dict(list(self.different.items())[:EXAMPLES]),
            },
        }


def compare_states(
    actual: Mapping[str, Mapping[str, Any]],
    replayed: Mapping[str, ShipmentState],
    input_ids: Mapping[str, list[str]],
    reference: Mapping[str, Mapping[str, Any]] | None = None,
) -> StateComparison:
    """Each shipment's state must be the replay's (ignoring processing-time fields), hold every
    input's event id in the order they were produced, and, where a reference run is given, have
    sent the same notifications."""
    result = StateComparison(shipments=len(replayed))
    result.missing = sorted(set(replayed) - set(actual))
    result.unexpected = sorted(set(actual) - set(replayed))
    ignored = STATE_PROCESSING_FIELDS | WORKER_FIELDS
    for tracking, expected_state in replayed.items():
        state = actual.get(tracking)
        if state is None:
            continue
        expected = comparable_fields(state_to_json(expected_state))
        state = comparable_fields(dict(state))
        ids = input_ids.get(tracking, [])
        if len(ids) > MAX_SEEN_EVENT_IDS:
            result.capped_shipments += 1
            ids = ids[-MAX_SEEN_EVENT_IDS:]
        seen = list(state.get("seen_event_ids", []))
        seen_set = set(seen)
        missing = [event_id for event_id in ids if event_id not in seen_set]
        if missing:
            result.not_applied += [f"{tracking}/{event_id}" for event_id in missing]
            result.not_applied_where[_where(ids, missing)] += 1
        if set(seen) == set(expected["seen_event_ids"]) and seen != expected["seen_event_ids"]:
            result.out_of_order.append(tracking)
        differing = [
            name
            for name in expected
            if name not in ignored
            and name != "seen_event_ids"
            and state.get(name) != expected[name]
        ]
        if reference is not None and tracking in reference:
            reference_state = comparable_fields(dict(reference[tracking]))
            differing += [
                name
                for name in sorted(WORKER_FIELDS)
                if state.get(name) != reference_state.get(name)
            ]
        if differing:
            result.different[tracking] = differing
    return result


def comparable_fields(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored state's fields by dotted name, its logs as the sets of what was raised and told.
    A log is kept in the order things happened to the worker (``raised_at``, ``sent_at``): which
    input came first across two topics, or a batch re-read after a crash, may reorder it and
    change when an episode was first seen, never which alerts and notifications there were."""
    fields = stored_fields(stored)
    for name, keys in LOG_IDENTITY_KEYS.items():
        if name in fields:
            fields[name] = sorted(tuple(entry.get(key) for key in keys) for entry in fields[name])
    return fields


def _where(ids: list[str], missing: list[str]) -> str:
    if ids[-len(missing) :] == missing:
        return "last"
    if ids[: len(missing)] == missing:
        return "first"
    return "between"


def compare_runs(
    first: Mapping[str, Mapping[str, Any]], second: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[str]]:
    """Shipments whose states differ between two runs (processing-time fields ignored)."""
    differing: dict[str, list[str]] = {}
    for tracking in sorted(set(first) | set(second)):
        a = comparable_fields(dict(first.get(tracking, {})))
        b = comparable_fields(dict(second.get(tracking, {})))
        names = [
            name
            for name in sorted(set(a) | set(b))
            if name not in STATE_PROCESSING_FIELDS and a.get(name) != b.get(name)
        ]
        if names:
            differing[tracking] = names
    return differing
