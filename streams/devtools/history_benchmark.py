"""The delay-risk model on the simulator and on real public histories, as a Markdown table.

    python -m parcelwatch.streams.devtools.history_benchmark [--datasets simulator scms dataco]

For each dataset: import it (``parcelwatch import-history``; the simulator: a fixed-seed
simulated history, by default the README's 50,000 shipments over 120 days, seed 11), train with
``train_command`` on a time split (the older 80% of orders train, the newer 20% test) and report
the held-out figures of the model and of each baseline, with the promotable verdict. The public
histories are complete, so none of their shipments is left out as too recent (maturity 0 days);
the simulated one is cut at its end, so it keeps ``train``'s default of 14 days.

A dataset whose training fails gets a row that says why, and the others still run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from threadpoolctl import threadpool_limits

from parcelwatch.models.baselines import BASELINE_NAMES
from parcelwatch.models.dataset import time_split
from parcelwatch.models.registry import ModelRegistry
from parcelwatch.schemas.codec import to_jsonable
from parcelwatch.streams.offline.histories.command import import_history
from parcelwatch.streams.offline.ml_commands import HistoryFiles, mature_examples, train_command
from parcelwatch.streams.simulation import SimulationConfig, generate_journeys

TEST_FRACTION = 0.2
VENDORED = Path("tests/data/histories")
SCMS_FILE = VENDORED / "scms" / "scms_delivery_history.tsv"
DATACO_FILE = VENDORED / "dataco" / "dataco_sample.tsv"
# Fixed, so the simulated calendar (weekends, holidays, promises) is the same on every run.
SIMULATION_END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NOT_AVAILABLE = "n/a"


@dataclass(frozen=True)
class Dataset:
    name: str
    maturity_days: float
    write: Callable[[Path], HistoryFiles]  # the history's JSONL into a folder


@dataclass(frozen=True)
class Figures:
    """One dataset's row of the table; ``error`` says why training failed (no figures then)."""

    dataset: str
    period: tuple[str, str] | None = None  # first and last order date
    shipments: tuple[int, int] | None = None  # train, test
    late_rate: tuple[float | None, float | None] | None = None
    model: tuple[float | None, float | None] | None = None  # ROC-AUC, PR-AUC
    baselines: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    promotable: bool | None = None
    error: str | None = None


def public_history(dataset: str, files: Sequence[Path]) -> Callable[[Path], HistoryFiles]:
    def write(folder: Path) -> HistoryFiles:
        import_history(dataset, files, folder)
        return HistoryFiles(orders=[folder / "orders.jsonl"], scans=[folder / "scans.jsonl"])

    return write


def simulated_history(shipments: int, days: float, seed: int) -> Callable[[Path], HistoryFiles]:
    def write(folder: Path) -> HistoryFiles:
        folder.mkdir(parents=True, exist_ok=True)
        config = SimulationConfig(shipments=shipments, seed=seed, window_days=days)
        orders, scans = folder / "orders.jsonl", folder / "scans.jsonl"
        with orders.open("wb") as order_lines, scans.open("wb") as scan_lines:
            for item in generate_journeys(config, now=SIMULATION_END):
                if item.topic_kind in ("order", "scan"):
                    lines = order_lines if item.topic_kind == "order" else scan_lines
                    lines.write(orjson.dumps(to_jsonable(item.event)) + b"\n")
        return HistoryFiles(orders=[orders], scans=[scans])

    return write


def _per_shipment_late_rate(tracking_numbers: Sequence[str], late: np.ndarray) -> float | None:
    outcome = dict(zip(tracking_numbers, late.tolist(), strict=True))
    return sum(outcome.values()) / len(outcome) if outcome else None


def _split_figures(
    files: HistoryFiles, maturity_days: float, heldout: dict[str, Any] | None
) -> dict[str, Any]:
    """Period and late rates: the model card's (``heldout``) when train wrote one, else the same
    split computed here."""
    if heldout is not None:
        return {
            "period": (heldout["train_period"][0][:10], heldout["test_period"][1][:10]),
            "late_rate": (heldout["train_late_rate"], heldout["test_late_rate"]),
        }
    train, test = time_split(mature_examples(files.load(), maturity_days), TEST_FRACTION)
    ordered = train.ordered_at + test.ordered_at
    return {
        "period": (min(ordered).date().isoformat(), max(ordered).date().isoformat()),
        "late_rate": (
            _per_shipment_late_rate(train.tracking_numbers, train.late),
            _per_shipment_late_rate(test.tracking_numbers, test.late),
        ),
    }


def run_dataset(dataset: Dataset, folder: Path) -> Figures:
    files = dataset.write(folder / "history")
    try:
        version, result = train_command(
            files, folder / "models", maturity_days=dataset.maturity_days,
            test_fraction=TEST_FRACTION,
        )  # fmt: skip
    except Exception as error:  # a benchmark reports each dataset's failure and goes on
        return Figures(dataset.name, error=f"{type(error).__name__}: {error}")
    metadata = ModelRegistry(folder / "models").metadata(version)
    training = metadata["training_data"]
    promotable = metadata.get("promotable", result.comparison.model_beats_all_baselines)
    return Figures(
        dataset=dataset.name,
        shipments=(training["train_shipments"], result.data.shipments),
        model=(result.model.roc_auc, result.model.pr_auc),
        baselines={name: (b.roc_auc, b.pr_auc) for name, b in result.baselines.items()},
        promotable=bool(promotable),
        **_split_figures(files, dataset.maturity_days, metadata.get("heldout")),
    )


def run_benchmark(datasets: Sequence[Dataset], workdir: Path) -> list[Figures]:
    # One OpenMP thread: on a busy shared machine the boosters' spinning threads made these small
    # fits ten times slower (5 min instead of 30 s), and one thread gives the same models.
    with threadpool_limits(limits=1):
        return [run_dataset(dataset, workdir / f"dataset{n}") for n, dataset in enumerate(datasets)]


def _number(value: float | None) -> str:
    return NOT_AVAILABLE if value is None else f"{value:.3f}"


def _pair(values: tuple[float | None, float | None] | None) -> str:
    return NOT_AVAILABLE if values is None else " / ".join(_number(v) for v in values)


def markdown_table(rows: Sequence[Figures]) -> str:
    """One line per dataset; a failed dataset's line names the error."""
    seen = {name for row in rows for name in row.baselines}
    baselines = [n for n in BASELINE_NAMES if n in seen] + sorted(seen - set(BASELINE_NAMES))
    header = [
        "dataset", "period", "shipments train / test", "late rate train / test",
        "model ROC-AUC / PR-AUC", *(f"{name} ROC-AUC / PR-AUC" for name in baselines),
        "promotable",
    ]  # fmt: skip
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        if row.error is not None:
            cells = [row.dataset, f"training failed: {row.error}", *[""] * (len(header) - 2)]
        else:
            assert row.period is not None and row.shipments is not None
            cells = [
                row.dataset,
                f"{row.period[0]} to {row.period[1]}",
                f"{row.shipments[0]} / {row.shipments[1]}",
                _pair(row.late_rate),
                _pair(row.model),
                *(_pair(row.baselines.get(name)) for name in baselines),
                "yes" if row.promotable else "no",
            ]
        lines.append("| " + " | ".join(cell.replace("|", "/") for cell in cells) + " |")
    return "\n".join(lines)


def datasets_from_args(args: argparse.Namespace) -> list[Dataset]:
    known = {
        "simulator": Dataset(
            f"simulator ({args.sim_shipments} shipments, {args.sim_days:g} days, seed {args.seed})",
            14.0,
            simulated_history(args.sim_shipments, args.sim_days, args.seed),
        ),
        "scms": Dataset("USAID SCMS", 0.0, public_history("scms", [args.scms])),
        "dataco": Dataset(
            "DataCo (partly synthetic)", 0.0, public_history("dataco", [args.dataco])
        ),
    }
    return [known[name] for name in args.datasets]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m parcelwatch.streams.devtools.history_benchmark",
        description="train and evaluate the delay-risk model on each history; print a table",
    )
    parser.add_argument(
        "--datasets", nargs="+", choices=["simulator", "scms", "dataco"],
        default=["simulator", "scms", "dataco"],
    )  # fmt: skip
    parser.add_argument("--scms", type=Path, default=SCMS_FILE, help="CSV or vendored TSV")
    parser.add_argument("--dataco", type=Path, default=DATACO_FILE, help="CSV or vendored TSV")
    parser.add_argument("--sim-shipments", type=int, default=50_000)
    parser.add_argument("--sim-days", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workdir", type=Path, help="keep histories and models here")
    args = parser.parse_args(argv)
    datasets = datasets_from_args(args)
    if args.workdir is not None:
        rows = run_benchmark(datasets, args.workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="history-benchmark-") as workdir:
            rows = run_benchmark(datasets, Path(workdir))
    print(markdown_table(rows))
    return 1 if any(row.error is not None for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
