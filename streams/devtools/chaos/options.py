"""What a chaos run is asked to do: scenarios, sizes, seed, where to keep its files."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path

SCENARIOS = ("crash-loop", "bad-input", "soak", "scale-out")
MEMORY_FILESYSTEM = Path("/dev/shm")


def _memory_when_usable() -> Path | None:
    return MEMORY_FILESYSTEM if os.access(MEMORY_FILESYSTEM, os.W_OK | os.X_OK) else None


@dataclass(frozen=True)
class Deadlines:
    """Every phase ends: a stalled worker is reported as stalled, never waited for forever."""

    worker_ready: float = 120.0  # start-up until /healthz answers 200
    no_progress: float = 180.0  # committed offsets unchanged this long while input waits: a stall
    drain: float = 1200.0  # a whole drain, even while it keeps moving
    recovery: float = 180.0  # SIGKILL until the restarted worker processes an input


@dataclass(frozen=True)
class ChaosOptions:
    scenarios: tuple[str, ...] = SCENARIOS
    shipments: int = 2600  # ~20,000 simulated events
    kills: int = 5
    broker_restarts: int = 1
    partitions: int = 4
    scale_out_partitions: int = 8  # two workers, four partitions each
    duration_minutes: float = 30.0  # soak
    soak_rate: float = 200.0  # events per second during the soak
    soak_sample_seconds: float = 5.0
    bad_examples: int = 1000  # hypothesis-generated invalid messages
    bad_input_shipments: int = 1000  # good journeys among the bad input
    min_good_throughput_ratio: float = 0.8
    seed: int = 7
    report_dir: Path | None = None
    run_root: Path = Path(".parcelwatch/chaos")  # each run gets a folder here
    kafka_libs: Path = Path(".parcelwatch/chaos/kafka-libs")  # the broker's jars, fetched once
    # Where the suite's broker keeps its log (None: in the run directory). In memory by default:
    # a shared machine's disk can hold an append for half a second (seen in the broker's request
    # log), which decides a one-second throughput comparison. The workers' state stays on disk.
    broker_log_root: Path | None = field(default_factory=_memory_when_usable)
    keep: bool = False
    check_determinism: bool = False  # a second undisturbed run, compared with the first
    deadlines: Deadlines = Deadlines()

    @classmethod
    def quick(cls, **overrides: object) -> ChaosOptions:
        """The CI size: every check runs, on small inputs, in a few minutes on 2 cores."""
        sizes: dict[str, object] = {
            "shipments": 250,
            "kills": 2,
            "duration_minutes": 0.5,
            "soak_rate": 100.0,
            "soak_sample_seconds": 1.5,
            "bad_examples": 300,
            # 400, not 150: at 150 the good traffic took about two seconds, and fixed costs (batch
            # waits, polling) decided the rate ratio (0.44-0.55 from run to run).
            "bad_input_shipments": 400,
            # About a second of backlog per phase on a shared 2-core machine: the rate is noisy
            # at this size (0.73-0.89 in four local runs; 0.68-0.84 in eight at 1,000 shipments),
            # so CI only catches a collapse; the full size holds the 80% line.
            "min_good_throughput_ratio": 0.5,
            "deadlines": Deadlines(no_progress=150.0, drain=400.0, recovery=150.0),
        }
        return cls(**{**sizes, **overrides})  # type: ignore[arg-type]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenario", choices=[*SCENARIOS, "all"], default="all", help="which scenario to run"
    )
    parser.add_argument("--shipments", type=int, help="simulated shipments (crash loop)")
    parser.add_argument("--kills", type=int, help="SIGKILLs in the disturbed run")
    parser.add_argument("--duration", type=float, help="soak minutes")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="the small CI size")
    parser.add_argument("--report-dir", type=Path, help="write the JSON report and markdown here")
    parser.add_argument("--keep", action="store_true", help="keep logs and data dirs")
    parser.add_argument(
        "--broker-on-disk",
        action="store_true",
        help="keep the suite's broker log in the run directory, not in memory (/dev/shm)",
    )
    parser.add_argument(
        "--check-determinism",
        action="store_true",
        help="run the undisturbed crash-loop run twice and compare the two",
    )


def options_from_args(args: argparse.Namespace) -> ChaosOptions:
    overrides: dict[str, object] = {
        "scenarios": SCENARIOS if args.scenario == "all" else (args.scenario,),
        "seed": args.seed,
        "report_dir": args.report_dir,
        "keep": args.keep,
        "check_determinism": args.check_determinism,
    }
    if args.broker_on_disk:
        overrides["broker_log_root"] = None
    if args.shipments is not None:
        overrides["shipments"] = _at_least(args.shipments, 1, "--shipments")
    if args.kills is not None:
        overrides["kills"] = _at_least(args.kills, 0, "--kills")
    if args.duration is not None:
        overrides["duration_minutes"] = _positive(args.duration, "--duration")
    return ChaosOptions.quick(**overrides) if args.quick else ChaosOptions(**overrides)  # type: ignore[arg-type]


def _at_least(value: int, minimum: int, name: str) -> int:
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}")
    return value


def _positive(value: float, name: str) -> float:
    if value <= 0:
        raise ValueError(f"{name} must be positive")
    return value
