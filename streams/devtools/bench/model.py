"""The delay-risk model of the "with a model" run: trained on a simulated history of its own (not
the backlog) and promoted, forced, so the worker scores with the learned model even if this
small training set lets it lose to a baseline."""

from __future__ import annotations

from pathlib import Path

from parcelwatch.models.registry import ModelRegistry
from parcelwatch.streams.offline.ml_commands import HistoryFiles, announce_promotion, train_command
from parcelwatch.streams.runtime.settings import Settings
from parcelwatch.streams.simulation.sinks import simulate_to_jsonl


def train_model(root: Path, *, shipments: int, seed: int) -> tuple[Path, str]:
    """A model directory holding one trained version; the directory and the version."""
    history = root / "history"
    simulate_to_jsonl(history, shipments=shipments, seed=seed, days=70, feedback_rate=0.0)
    files = HistoryFiles(orders=[history / "orders.jsonl"], scans=[history / "scans.jsonl"])
    model_dir = root / "models"
    version, _ = train_command(files, model_dir, maturity_days=14, test_fraction=0.25)
    return model_dir, version


async def promote_model(settings: Settings, model_dir: Path, version: str) -> None:
    await announce_promotion(settings, ModelRegistry(model_dir), version, force=True)
