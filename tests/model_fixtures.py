"""A small but real trained model for tests: simulated history -> JSONL -> `train_command`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from parcelwatch.models.evaluation_result import EvaluationResult
from parcelwatch.schemas.codec import to_jsonable
from parcelwatch.streams.offline.ml_commands import HistoryFiles, train_command
from parcelwatch.streams.simulation import SimulationConfig, generate_journeys

# Fixed, so the simulated calendar (weekends, promises) is the same on every run.
DATA_END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class TrainedModel:
    files: HistoryFiles
    model_dir: Path
    version: str
    metrics: EvaluationResult


def simulated_inputs(events, topics) -> list:
    """Simulated orders and scans as the tracking agent reads them (InputMessage), in publish
    order on one partition, each at its own offset."""
    from parcelwatch.schemas.codec import encode
    from parcelwatch.streams.pipeline.messages import InputMessage

    return [
        InputMessage(
            topics.orders if e.topic_kind == "order" else topics.carrier_scans,
            0, offset, e.key, encode(e.event),
        )
        for offset, e in enumerate(events)
    ]  # fmt: skip


def write_history(folder: Path, *, shipments: int, days: float, seed: int) -> HistoryFiles:
    folder.mkdir(parents=True, exist_ok=True)
    events = generate_journeys(
        SimulationConfig(shipments=shipments, seed=seed, window_days=days), now=DATA_END
    )
    orders, scans = folder / "orders.jsonl", folder / "scans.jsonl"
    with orders.open("wb") as order_lines, scans.open("wb") as scan_lines:
        for item in events:
            lines = order_lines if item.topic_kind == "order" else scan_lines
            lines.write(orjson.dumps(to_jsonable(item.event)) + b"\n")
    return HistoryFiles(orders=[orders], scans=[scans])


def train_small_model(root: Path, *, shipments: int = 3000, seed: int = 21) -> TrainedModel:
    files = write_history(root / "history", shipments=shipments, days=70, seed=seed)
    model_dir = root / "models"
    version, metrics = train_command(files, model_dir, maturity_days=14, test_fraction=0.25)
    return TrainedModel(files, model_dir, version, metrics)


async def process_in_rounds(processor, messages, after_round=None) -> None:
    """Feed ``messages`` (InputMessage) as a worker might: batch n holds the n-th message of every
    key, so per-key order is kept and the model is called once per batch, not once per scan."""
    per_key: dict[bytes | None, list] = {}
    for message in messages:
        per_key.setdefault(message.key, []).append(message)
    for step in range(max((len(queue) for queue in per_key.values()), default=0)):
        batch = [queue[step] for queue in per_key.values() if step < len(queue)]
        await processor.process_batch(batch)
        if after_round is not None:
            after_round(batch)
