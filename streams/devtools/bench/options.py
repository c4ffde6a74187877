"""``parcelwatch bench``'s options (light to import: the CLI builds its parser from them)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from parcelwatch.streams.runtime.settings import Settings

FULL_EVENTS = 200_000
TINY_EVENTS = 2_000
FULL_RESTORE_SHIPMENTS = 1_000_000  # the recovery target's scale
TINY_RESTORE_SHIPMENTS = 2_000


@dataclass(frozen=True)
class BenchOptions:
    bootstrap: str
    events: int
    partitions: int
    out: Path
    skip_model: bool
    tiny: bool
    seed: int = 14
    workers: int = 1  # > 1: the rules-only pipeline again, with this many workers in one group
    restore_shipments: int = 0  # > 0: a fresh worker restores this many shipments' rows

    @property
    def model_shipments(self) -> int:
        return 600 if self.tiny else 3_000  # training history, not the backlog

    @property
    def latency_seconds(self) -> float:
        return 3.0 if self.tiny else 30.0

    @property
    def max_latency_rate(self) -> float:
        # A tiny run's "maximum" is mostly start-up noise: keep its probe gentle.
        return 50.0 if self.tiny else 10_000.0

    def throughput_timeout(self) -> float:
        return 180.0 + self.events / 200

    def scaled_recovery_timeout(self) -> float:
        return 180.0 + self.restore_shipments / 200  # ~2 rows per shipment at ≥ 400 rows/s


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--events", type=int,
        help="backlog size (default 200,000; --tiny: 2,000)",
    )  # fmt: skip
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument(
        "--out", type=Path, help="folder for bench.md and bench.json "
        "(default .parcelwatch/bench/<timestamp>/)",
    )  # fmt: skip
    parser.add_argument("--skip-model", action="store_true", help="no 'with a model' run")
    parser.add_argument(
        "--workers", type=int, default=1,
        help="also run the rules-only pipeline with this many workers in one group",
    )  # fmt: skip
    parser.add_argument(
        "--restore-shipments", type=int,
        help="shipments in the seeded changelog a fresh worker restores "
        "(default 1,000,000; --tiny: 2,000; 0: skip)",
    )  # fmt: skip
    parser.add_argument(
        "--tiny", action="store_true",
        help="2,000 events, a small model, a short latency phase: checks the benchmark runs",
    )  # fmt: skip


def options_from_args(args: argparse.Namespace) -> BenchOptions:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    options = BenchOptions(
        bootstrap=Settings.from_env().broker.split("://", 1)[-1],
        events=(TINY_EVENTS if args.tiny else FULL_EVENTS) if args.events is None else args.events,
        partitions=args.partitions,
        out=(args.out or Path(".parcelwatch/bench") / stamp).resolve(),  # workers run elsewhere
        skip_model=args.skip_model,
        tiny=args.tiny,
        workers=args.workers,
        restore_shipments=(TINY_RESTORE_SHIPMENTS if args.tiny else FULL_RESTORE_SHIPMENTS)
        if args.restore_shipments is None
        else args.restore_shipments,
    )
    if options.events < 1 or options.partitions < 1 or options.workers < 1:
        raise ValueError("--events, --partitions and --workers must be positive")
    if options.restore_shipments < 0:
        raise ValueError("--restore-shipments must be 0 (skip) or positive")
    return options
