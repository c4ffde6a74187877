"""Benchmark (not a test): the stored size and codec cost of the ``shipments`` table's values.

    .venv/bin/python -m tests.benchmarks.bench_state [--shipments N] [--fields]

The simulator's mix (``generate_journeys``) goes through the processor with a dict store, as the
bench's workers run it (no quiet hours, every milestone told however old, the clock at each
batch's publish time). For the latest value of each shipment key it reports its bytes and the
CPU µs of ``state_to_json`` + encoding and of decoding + ``state_from_json``: for version 4 as
the table stores it (``schemas.stored_value``: deflated, the bench's "state per shipment"), and
in the same run as JSON text (stored so before) and version 3 (the readable form, stored before
version 4). ``--fields`` breaks the bytes down by top-level field and
part field (each field's share: the bytes of its ``"name":value``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import orjson
from prometheus_client import CollectorRegistry

from parcelwatch.schemas.order_state import is_order_key, is_return_key
from parcelwatch.schemas.state import readable_state_json, state_from_json, state_to_json
from parcelwatch.schemas.stored_value import dump_stored, load_stored
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import Limits
from parcelwatch.streams.core.follow_up import FollowUpPolicy
from parcelwatch.streams.core.notifications import NotificationPolicy
from parcelwatch.streams.pipeline.input_ledger import is_ledger_key
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.processing import ShipmentProcessor
from parcelwatch.streams.simulation import SimulationConfig, generate_journeys
from tests.model_fixtures import DATA_END, simulated_inputs

BATCH = 256
# The bench's deterministic worker: no quiet hours, every milestone told however old.
TELL_EVERYTHING = FollowUpPolicy(
    notifications=NotificationPolicy(quiet_hours=None, stale_after=timedelta(days=3650))
)


def stored_states(shipments: int, seed: int = 5) -> dict[str, dict[str, Any]]:
    """The latest stored value of every shipment key after the simulator's events."""
    # As ``parcelwatch bench``'s backlog: orders and scans, no feedback.
    simulated = generate_journeys(
        SimulationConfig(shipments=shipments, seed=seed, feedback_rate=0.0), now=DATA_END
    )
    events = [item for item in simulated if item.topic_kind in ("order", "scan")]
    topics = TopicNames()
    messages = simulated_inputs(events, topics)
    store: dict[str, dict[str, Any]] = {}
    now = [DATA_END]

    async def publish(topic, key, value):
        return None

    processor = ShipmentProcessor(
        topics=topics, limits=Limits(), store=store, publish=publish, clock=lambda: now[0],
        metrics=WorkerMetrics(CollectorRegistry()), follow_up_policy=TELL_EVERYTHING,
    )  # fmt: skip

    async def run() -> None:
        for start in range(0, len(messages), BATCH):
            now[0] = events[min(start + BATCH, len(events)) - 1].emit_at
            await processor.process_batch(messages[start : start + BATCH])

    asyncio.run(run())
    return {
        key: value
        for key, value in store.items()
        if not (is_ledger_key(key) or is_order_key(key) or is_return_key(key))
    }


def percentile(values: list[int], share: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def best_per_item(repeats: int, items: list, run) -> float:
    """CPU µs per item, the best of ``repeats`` passes over ``items`` (CPU time: the machine may
    be shared)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        for item in items:
            run(item)
        best = min(best, time.process_time() - started)
    return best / len(items) * 1e6


def field_bytes(values: list[dict[str, Any]]) -> Counter[str]:
    """Bytes per field (``"name":value`` and its comma), a part's fields by dotted name."""
    totals: Counter[str] = Counter()
    for value in values:
        for name, item in value.items():
            if isinstance(item, dict):
                totals[name] += len(name) + 6  # "name":{} and the comma
                for inner, part_item in item.items():
                    totals[f"{name}.{inner}"] += len(orjson.dumps({inner: part_item})) - 1
            else:
                totals[name] += len(orjson.dumps({name: item})) - 1
    return totals


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shipments", type=int, default=2000)
    parser.add_argument("--fields", action="store_true", help="bytes by field")
    args = parser.parse_args()
    stored = stored_states(args.shipments)
    states = [state_from_json(value) for value in stored.values()]
    print(f"{len(states)} shipment states of {args.shipments} shipments (CPU µs, best of 3)")
    # Version 3 (the readable form, as stored before version 4) beside version 4, as JSON text
    # (stored before schemas.stored_value) and as the table stores it now, in one run.
    forms = (
        ("version 3, JSON", readable_state_json, orjson.dumps, orjson.loads),
        ("version 4, JSON", state_to_json, orjson.dumps, orjson.loads),
        ("version 4, stored", state_to_json, dump_stored, load_stored),
    )
    for name, to_json, dump, load in forms:
        values = [to_json(state) for state in states]
        blobs = [dump(value) for value in values]
        sizes = [len(blob) for blob in blobs]
        encode_us = best_per_item(
            3, states, lambda state, to_json=to_json, dump=dump: dump(to_json(state))
        )
        decode_us = best_per_item(3, blobs, lambda blob, load=load: state_from_json(load(blob)))
        print(
            f"{name}: bytes per shipment mean {statistics.fmean(sizes):,.0f}, "
            f"p50 {percentile(sizes, 0.5):,}, p95 {percentile(sizes, 0.95):,}, "
            f"max {max(sizes):,}; encode {encode_us:.1f} µs, decode {decode_us:.1f} µs"
        )
        if args.fields:
            totals = field_bytes(values)
            for field_name, total in totals.most_common(15):
                share = total / sum(sizes)
                print(f"  {field_name:32} {total / len(values):7.0f} B/shipment  {share:5.1%}")


if __name__ == "__main__":
    main()
