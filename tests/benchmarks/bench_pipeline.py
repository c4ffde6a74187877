"""Benchmarks (not tests): cost per event of the pure core, the processor and model scoring.

Each measurement runs its baseline in the same process and run, so the ratio is meaningful on
whatever machine runs it:

    .venv/bin/python -m tests.benchmarks.bench_pipeline [--shipments N]

* core: ``apply_event`` alone, per event (baseline), and with ``follow_up`` after each event as
  the worker runs it live (the clock at each event's publish time, default policy);
* processor: decode + apply + encode + store per event, batches of 256, no model (baseline) and
  with the model;
* scoring: one ``predict`` call per row (baseline) against one call per batch of 256 rows;
* timer sweep: per stored state, decoding every state (baseline) against ``due_check``, which
  reads only ``next_check_at``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry

from parcelwatch.models.features import feature_row
from parcelwatch.models.registry import ModelRegistry
from parcelwatch.models.scoring import DelayRiskModel
from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.state import state_from_json, state_to_json
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import Limits
from parcelwatch.streams.core.follow_up import FollowUpPolicy, follow_up
from parcelwatch.streams.core.tracking import apply_event
from parcelwatch.streams.message_templates import load_templates
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.processing import InputMessage, ShipmentProcessor
from parcelwatch.streams.runtime.timers import CheckRequests, due_check
from parcelwatch.streams.simulation import SimulationConfig, generate_journeys
from tests.model_fixtures import DATA_END, train_small_model


def best_of(repeats: int, run) -> float:
    return min(timed(run) for _ in range(repeats))


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shipments", type=int, default=2000)
    args = parser.parse_args()
    events = generate_journeys(SimulationConfig(shipments=args.shipments, seed=5), now=DATA_END)
    print(f"{len(events)} events of {args.shipments} shipments")

    def core() -> None:
        states: dict = {}
        for item in events:
            states[item.key] = apply_event(states.get(item.key), item.event, DATA_END).state

    per_event = best_of(3, core) / len(events)
    print(f"core apply_event:            {per_event * 1e6:8.1f} µs/event  (baseline)")

    templates, policy = load_templates(), FollowUpPolicy()
    told = 0

    def core_and_follow_up() -> None:
        nonlocal told
        states: dict = {}
        told = 0
        for item in events:
            state = apply_event(states.get(item.key), item.event, item.emit_at).state
            result = follow_up(state, item.emit_at, policy, templates, check_silences=False)
            states[item.key] = result.state
            told += len(result.notifications)

    with_follow_up = best_of(3, core_and_follow_up) / len(events)
    print(
        f"core + follow_up:            {with_follow_up * 1e6:8.1f} µs/event  "
        f"({told} notifications rendered)"
    )

    stored = [(key.decode(), state_to_json(state)) for key, state in _final_states(events).items()]

    def decode_everything() -> None:
        for _, value in stored:
            state_from_json(value)

    def due_checks() -> list:
        requests = CheckRequests(retry_after=timedelta(minutes=10))
        checks = (due_check(key, value, DATA_END, requests) for key, value in stored)
        return [check for check in checks if check is not None]

    naive = best_of(3, decode_everything) / len(stored)
    lean = best_of(3, due_checks) / len(stored)
    due = len(due_checks())
    print(f"sweep, decode every state:   {naive * 1e6:8.1f} µs/state  (baseline)")
    print(
        f"sweep, due_check:            {lean * 1e6:8.1f} µs/state  ({naive / lean:.0f}x; "
        f"{due} of {len(stored)} due)"
    )

    with tempfile.TemporaryDirectory() as folder:
        trained = train_small_model(Path(folder))
        model = DelayRiskModel(ModelRegistry(trained.model_dir).load())
        topics = TopicNames()
        messages = [
            InputMessage(
                topics.orders if e.topic_kind == "order" else topics.carrier_scans,
                0, 0, e.key, encode(e.event),
            )
            for e in events
        ]  # fmt: skip

        def processor_run(scorer) -> None:
            async def publish(topic, key, value):
                return None

            processor = ShipmentProcessor(
                topics=topics, limits=Limits(), store={}, publish=publish,
                clock=lambda: DATA_END, metrics=WorkerMetrics(CollectorRegistry()),
                scorer=lambda: scorer,
            )  # fmt: skip

            async def run() -> None:
                for start in range(0, len(messages), 256):
                    await processor.process_batch(messages[start : start + 256])

            asyncio.run(run())

        rules_only = best_of(3, lambda: processor_run(None)) / len(events)
        with_model = best_of(3, lambda: processor_run(model)) / len(events)
        print(f"processor, rules only:       {rules_only * 1e6:8.1f} µs/event  (baseline)")
        print(f"processor, with model:       {with_model * 1e6:8.1f} µs/event")

        states: dict = {}
        rows, as_of = [], []
        for item in events:
            states[item.key] = apply_event(states.get(item.key), item.event, DATA_END).state
            if item.topic_kind == "scan":
                rows.append(feature_row(states[item.key], item.event.occurred_at))
                as_of.append(item.event.occurred_at)
        sample, sample_times = rows[:256], as_of[:256]
        single = statistics.median(
            timed(lambda i=i: model.score([sample[i]], [sample_times[i]])) for i in range(64)
        )
        batched = best_of(5, lambda: model.score(sample, sample_times)) / len(sample)
        print(f"scoring, one row per call:   {single * 1e6:8.1f} µs/row  (baseline)")
        print(
            f"scoring, 256 rows per call:  {batched * 1e6:8.1f} µs/row  ({single / batched:.0f}x)"
        )


def _final_states(events) -> dict:
    policy, templates = FollowUpPolicy(), load_templates()
    states: dict = {}
    for item in events:
        state = apply_event(states.get(item.key), item.event, DATA_END).state
        states[item.key] = follow_up(state, DATA_END, policy, templates, check_silences=False).state
    return states


if __name__ == "__main__":
    main()
