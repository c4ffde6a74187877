"""Where a partition's messages stand when it stopped applying: the watchdog's last words.

A worker whose input waits while nothing is applied for ``stuck_after_seconds`` exits, and its
orchestrator restarts it (``agents.watchdog``). Restarting heals it, but "nothing applied" does
not say why: a stall seen once in CI (a worker restarted on an empty disk stopped taking one
partition after its rewinds) took a reproduction to explain (records fetched before a seek
defeated it, see ``read_offsets``). The exit leaves a line per stuck partition naming each
place a message passes through on its way to the agent:

- aiokafka's fetcher: the consumer thread's position, whether the partition is paused or waits
  for an offset reset, and whether fetched records wait to be taken (none is fetched again then);
- Faust's fetch loop: whether it asks aiokafka for the partition at all (its "active" set, left
  while the stream's buffer is under pressure), its read offset (records below are dropped as
  already read), the committed offset and the highwater, and whether the flow is stopped;
- the input ledger: the next offset to apply and any rewind or start probe that holds it.

These read faust-streaming 0.15's and aiokafka's internals (both pinned in pyproject.toml); a
value that cannot be read is reported as ``unknown`` rather than failing the report, and
tests/integration/test_stall_report.py reads a real consumer's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

UNKNOWN = "unknown"


def describe_partition(consumer: Any, tp: Any) -> str:
    """One line: what Faust's consumer ``consumer`` and its aiokafka consumer know of ``tp``."""
    return f"fetcher: {describe_fetcher(_aiokafka_consumer(consumer), tp)}; faust: " + (
        describe_fetch_loop(consumer, tp)
    )


def describe_fetch_loop(consumer: Any, tp: Any) -> str:
    """Faust's side: whether its fetch loop takes ``tp``, and the offsets it judges by."""
    return ", ".join(
        [
            _read(lambda: "assigned" if tp in consumer.assignment() else "NOT assigned"),
            _read(lambda: _membership(consumer, tp)),
            _read(lambda: f"read offset {consumer._read_offset.get(tp)}", "read offset"),
            _read(lambda: f"committed {consumer._committed_offset.get(tp)}", "committed"),
            _read(lambda: f"highwater {consumer.highwater(tp)}", "highwater"),
            _read(lambda: "flowing" if consumer.flow_active else "flow STOPPED"),
        ]
    )


def describe_fetcher(client: Any, tp: Any, now: Callable[[], float] = time.monotonic) -> str:
    """aiokafka's side: the position it fetches from, and records fetched but not taken."""
    if client is None:
        return "no consumer"

    def state() -> str:
        value = client._subscription.subscription.assignment.state_value(tp)
        if value is None:
            return "NOT in its assignment"
        flags = [text for flag, text in ((value.paused, "PAUSED"),
                                         (value.awaiting_reset, "awaiting an offset reset"))
                 if flag]  # fmt: skip
        position = value.position if value.has_valid_position else "none"
        return ", ".join([f"position {position}", *flags])

    def fetched() -> str:
        result = client._fetcher._records.get(tp)
        if result is None:
            return "no fetched records waiting"
        return f"fetched records waiting {now() - result._created:.1f} s to be taken"

    return ", ".join([_read(state, "position"), _read(fetched, "fetched records")])


def _membership(consumer: Any, tp: Any) -> str:
    if tp in consumer._paused_partitions:
        return "PAUSED by Faust"
    if tp in consumer._buffered_partitions:
        return "not fetched: its stream buffer is under pressure"
    active = consumer._active_partitions
    if not active or tp in active:  # none yet: the next fetch takes every assigned partition
        return "fetched"
    return "NOT among the partitions Faust fetches"


def _aiokafka_consumer(consumer: Any) -> Any:
    try:
        return consumer._thread._consumer
    except AttributeError:
        return None


def _read(read: Callable[[], str], label: str = "") -> str:
    """``read()``, or ``label`` and why it is unknown (e.g. a partition no longer assigned)."""
    try:
        return read()
    except Exception as error:  # a report must never fail the exit it explains
        return f"{label} {UNKNOWN} ({type(error).__name__})".lstrip()
