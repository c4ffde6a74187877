"""The ``parcelwatch`` command: kafka, topics, worker, ingest, simulate, the model commands,
normalize, import-history, tracking-link, demo, chaos, bench."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from parcelwatch.streams.runtime.settings import Settings, SettingsError

if TYPE_CHECKING:
    from parcelwatch.streams.offline.ml_commands import HistoryFiles


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.handler(args) or 0)
    except (SettingsError, RuntimeError, ValueError) as error:
        print(f"parcelwatch: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parcelwatch",
        description="Streaming shipment exception detector. Settings come from PARCELWATCH_* "
        "environment variables (see README).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    kafka = commands.add_parser("kafka", help="a local single-node Kafka broker (no Docker)")
    kafka.add_argument("action", choices=["up", "down", "status"])
    kafka.set_defaults(handler=_kafka)

    topics = commands.add_parser("topics", help="create the input and output topics if missing")
    topics.set_defaults(handler=_topics)

    worker = commands.add_parser("worker", help="run the Faust worker")
    worker.set_defaults(handler=_worker)

    ingest = commands.add_parser(
        "ingest", help="receive tracking platforms' webhooks and publish them to carrier-raw"
    )
    ingest.set_defaults(handler=_ingest)

    simulate = commands.add_parser(
        "simulate", help="produce simulated orders, scan journeys and customer feedback"
    )
    _simulation_arguments(simulate)
    simulate.add_argument(
        "--jsonl", type=Path,
        help="write orders.jsonl, scans.jsonl, feedback.jsonl and feedback-truth.jsonl (the "
        "expected flags) to this folder instead",
    )  # fmt: skip
    simulate.add_argument(
        "--feedback-rate", type=_share,
        help="share of shipments whose customer writes back (0: no feedback; default: the "
        "simulator's, SimulationConfig.feedback_rate)",
    )  # fmt: skip
    simulate.add_argument(
        "--days", type=_positive_float, default=10.0, help="orders spread over this many days"
    )
    _raw_source_argument(simulate)
    simulate.set_defaults(handler=_simulate)

    train = commands.add_parser("train", help="train a delay-risk model on JSONL history")
    _history_arguments(train)
    train.add_argument("--model-dir", type=Path, required=True)
    train.add_argument("--threshold", type=_probability, default=0.5, help="alert threshold")
    train.add_argument(
        "--half-life-days", type=_non_negative_float, default=180.0,
        help="weight of a training row halves every this many days before the newest order "
        "(0: all rows weigh the same)",
    )  # fmt: skip
    train.add_argument(
        "--card", type=Path,
        help="also write the model card (Markdown) here; it is always written beside the version "
        "as MODEL_CARD.md",
    )  # fmt: skip
    train.set_defaults(handler=_train)

    score = commands.add_parser("score", help="score every scan of a history, as the worker would")
    _history_arguments(score, split=False)
    score.add_argument("--model-dir", type=Path, required=True)
    score.add_argument("--version", help="default: the promoted version, else the newest")
    score.add_argument("--out", type=Path, required=True)
    score.set_defaults(handler=_score)

    evaluate = commands.add_parser("evaluate", help="report a model against baselines")
    _history_arguments(evaluate)
    evaluate.add_argument("--model-dir", type=Path, required=True)
    evaluate.add_argument("--version", help="default: the promoted version, else the newest")
    evaluate.add_argument("--report", type=Path, required=True, help="folder for the report")
    evaluate.set_defaults(handler=_evaluate)

    promote = commands.add_parser("promote", help="promote a model version to running workers")
    promote.add_argument("version")
    promote.add_argument("--model-dir", type=Path, required=True)
    promote.add_argument(
        "--force",
        action="store_true",
        help="promote a version that train registered as not promotable (it lost to its baseline)",
    )
    promote.set_defaults(handler=_promote)

    from parcelwatch.streams.offline.feedback_cli import add_arguments as add_feedback_arguments

    feedback = commands.add_parser(
        "feedback", help="the feedback analyzer's learned model: train, evaluate, promote"
    )
    add_feedback_arguments(feedback)

    from parcelwatch.streams.offline import normalize_command

    normalize = commands.add_parser(
        "normalize", help="saved carrier payloads or webhook bodies -> canonical scans as JSONL"
    )
    normalize_command.add_arguments(normalize)

    from parcelwatch.streams.offline.histories import command as import_history_command

    import_history = commands.add_parser(
        "import-history",
        help="a public delivery history (USAID SCMS, DataCo) -> orders.jsonl + scans.jsonl",
    )
    import_history_command.add_arguments(import_history)

    tracking_link = commands.add_parser(
        "tracking-link",
        help="print a signed link to a shipment's tracking page (PARCELWATCH_TRACKING_PAGE_KEY)",
    )
    tracking_link.add_argument("tracking_number")
    tracking_link.add_argument(
        "--base-url",
        help="where customers reach the worker's web port (default: "
        "http://PARCELWATCH_WEB_HOST:PARCELWATCH_WEB_PORT)",
    )
    tracking_link.set_defaults(handler=_tracking_link)

    demo = commands.add_parser("demo", help="broker, worker and simulator together; Ctrl-C stops")
    demo.add_argument("--shipments", type=_positive_int, default=200)
    demo.add_argument(
        "--rate", type=_positive_float,
        help="ignored: the demo plays its journeys on the live clock (see --duration)",
    )  # fmt: skip
    demo.add_argument("--seed", type=int, help="random seed (default: a new one each run)")
    demo.add_argument(
        "--duration", type=_positive_float,
        help="seconds to play 10 simulated days in, and to wait for the last alerts (default 65)",
    )  # fmt: skip
    _raw_source_argument(demo)
    demo.set_defaults(handler=_demo)

    from parcelwatch.streams.devtools.chaos.options import add_arguments as add_chaos_arguments

    chaos = commands.add_parser(
        "chaos",
        help="fault-injection suite (crash loop, bad input, soak, scale-out), own broker",
    )
    add_chaos_arguments(chaos)
    chaos.set_defaults(handler=_chaos)

    from parcelwatch.streams.devtools.bench.options import add_arguments as add_bench_arguments

    bench = commands.add_parser(
        "bench",
        help="throughput, latency, start-up, memory, state size and recovery against a plain "
        "aiokafka ceiling and a Faust floor, on the local broker",
    )
    add_bench_arguments(bench)
    bench.set_defaults(handler=_bench)
    return parser


def _simulation_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--shipments", type=_positive_int, default=200)
    parser.add_argument("--rate", type=_positive_float, default=50.0, help="events per second")
    parser.add_argument("--seed", type=int, help="random seed (default: a new one each run)")


def _history_arguments(parser: argparse.ArgumentParser, *, split: bool = True) -> None:
    parser.add_argument("--orders", type=_existing_file, nargs="+", required=True)
    parser.add_argument("--scans", type=_existing_file, nargs="+", required=True)
    parser.add_argument(
        "--max-invalid-fraction", type=_share, default=0.01,
        help="skip history lines that fail the contract, but stop when they are more than this "
        "share of all lines (default 0.01)",
    )  # fmt: skip
    parser.add_argument(
        "--strict", action="store_true", help="stop at the first history line failing the contract"
    )
    if split:
        parser.add_argument(
            "--maturity-days", type=float, default=14.0,
            help="leave out shipments ordered this close to the end of the data (outcome unknown)",
        )  # fmt: skip
        parser.add_argument("--test-fraction", type=float, default=0.25)


def _existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    return path


def _probability(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError("must be in (0, 1]")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be in [0, 1]")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be zero or positive")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _kafka(args: argparse.Namespace) -> int:
    from parcelwatch.streams.devtools.localkafka import LocalKafka

    broker = LocalKafka.from_env()
    if args.action == "up":
        started = broker.up()
        state = "started" if started else "already running"
        print(f"Kafka {state} on {broker.bootstrap_servers} (data in {broker.home})")
    elif args.action == "down":
        stopped = broker.down()
        print("Kafka stopped" if stopped else "Kafka was not running")
    else:
        running = broker.is_running()
        print(f"Kafka {'running' if running else 'stopped'} on {broker.bootstrap_servers}")
        return 0 if running else 1
    return 0


def _topics(args: argparse.Namespace) -> int:
    from parcelwatch.streams.runtime.kafka_admin import ensure_topics

    settings = Settings.from_env()
    created = asyncio.run(ensure_topics(settings))
    print(f"created: {', '.join(created)}" if created else "all topics exist")
    return 0


def _raw_source_argument(parser: argparse.ArgumentParser) -> None:
    from parcelwatch.streams.simulation.raw_payloads import RAW_FORMATS

    parser.add_argument(
        "--raw-source", choices=sorted(RAW_FORMATS),
        help="send each scan to carrier-raw as this source's payload (the parcel's history so "
        "far), for the worker to normalise, instead of a canonical scan on carrier-scans",
    )  # fmt: skip


def _worker(args: argparse.Namespace) -> int:
    from parcelwatch.streams.runtime.worker import run_worker

    run_worker(Settings.from_env())
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from parcelwatch.streams.ingest.server import run_ingest
    from parcelwatch.streams.ingest.settings import IngestSettings

    run_ingest(IngestSettings.from_env())
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from parcelwatch.streams.simulation.sinks import simulate_to_jsonl, simulate_to_kafka

    settings = Settings.from_env()
    if args.jsonl is not None:
        count = simulate_to_jsonl(
            args.jsonl,
            shipments=args.shipments,
            seed=args.seed,
            days=args.days,
            feedback_rate=args.feedback_rate,
            raw_source=args.raw_source,
        )
        print(f"wrote {count} events to {args.jsonl}")
    else:
        count = asyncio.run(
            simulate_to_kafka(
                settings,
                shipments=args.shipments,
                rate=args.rate,
                seed=args.seed,
                feedback_rate=args.feedback_rate,
                raw_source=args.raw_source,
            )
        )
        print(f"produced {count} events")
    return 0


def _history(args: argparse.Namespace) -> HistoryFiles:
    from parcelwatch.streams.offline.ml_commands import HistoryFiles

    return HistoryFiles(
        orders=args.orders, scans=args.scans, strict=args.strict,
        max_invalid_fraction=args.max_invalid_fraction,
        notify=lambda message: print(f"parcelwatch: {message}", file=sys.stderr),
    )  # fmt: skip


def _train(args: argparse.Namespace) -> int:
    from parcelwatch.streams.offline.ml_commands import train_command

    version, result = train_command(
        _history(args), args.model_dir, maturity_days=args.maturity_days,
        test_fraction=args.test_fraction, threshold=args.threshold,
        signing_key=Settings.from_env().model_signing_key,
        half_life_days=args.half_life_days or None, card=args.card,
    )  # fmt: skip
    from parcelwatch.models.registry import ModelRegistry

    metadata = ModelRegistry(args.model_dir).metadata(version)
    model = result.model
    print(
        f"held-out test: ROC-AUC {_number(model.roc_auc)}, PR-AUC {_number(model.pr_auc)}, "
        f"beats all baselines: {result.comparison.model_beats_all_baselines}"
    )
    if metadata["promotable"]:
        print("verdict: promotable (matches or beats every baseline on ROC-AUC and on PR-AUC)")
    else:
        print("verdict: NOT promotable, registered anyway:")
        for reason in metadata["not_promotable_reasons"]:
            print(f"  - {reason}")
    print(f"model card: {args.model_dir / version / 'MODEL_CARD.md'}")
    print(version)
    return 0


def _score(args: argparse.Namespace) -> int:
    from parcelwatch.streams.offline.ml_commands import score_command

    count = score_command(_history(args), args.model_dir, args.out, version=args.version)
    print(f"scored {count} scans into {args.out}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from parcelwatch.streams.offline.ml_commands import evaluate_command

    result = evaluate_command(
        _history(args), args.model_dir, args.report, version=args.version,
        maturity_days=args.maturity_days, test_fraction=args.test_fraction,
    )  # fmt: skip
    comparison = result.comparison
    print(f"report written to {args.report}")
    for name, diff in comparison.baselines.items():
        print(
            f"vs {name}: ROC-AUC {_number(diff.roc_auc_diff, '+.3f')}, "
            f"median lead time {_hours(diff.median_lead_time_diff_hours)}, "
            "recall at equal false-alert rate "
            f"{_number(diff.recall_diff_at_equal_false_alert_rate, '+.3f')}"
        )
    print(f"beats all baselines: {comparison.model_beats_all_baselines}")
    return 0 if comparison.model_beats_all_baselines else 1


def _hours(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1f} h"


def _number(value: float | None, spec: str = ".3f") -> str:
    """A metric that a one-class test split leaves undefined prints as n/a, not a crash."""
    return "n/a" if value is None else format(value, spec)


def _promote(args: argparse.Namespace) -> int:
    from parcelwatch.streams.offline.ml_commands import promote_command

    announcement = asyncio.run(
        promote_command(Settings.from_env(), args.model_dir, args.version, force=args.force)
    )
    signed = (
        "signed" if announcement.signature else "UNSIGNED: PARCELWATCH_MODEL_SIGNING_KEY is not set"
    )
    forced = ", FORCED although not promotable" if announcement.forced else ""
    print(
        f"promoted {announcement.version} "
        f"(sha256 {announcement.artifact_sha256[:12]}…, {signed}{forced})"
    )
    return 0


def _tracking_link(args: argparse.Namespace) -> int:
    from parcelwatch.streams.runtime.lookup_api import tracking_number_problem
    from parcelwatch.streams.runtime.page_links import signed_link

    settings = Settings.from_env()
    if settings.tracking_page_key is None:
        raise SettingsError("PARCELWATCH_TRACKING_PAGE_KEY is not set: the page is off")
    if tracking_number_problem(args.tracking_number) is not None:
        raise ValueError("not a tracking number (1-64 letters, digits, . _ -)")
    base_url = args.base_url or f"http://{settings.web_host}:{settings.web_port}"
    print(signed_link(settings.tracking_page_key, args.tracking_number, base_url))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from parcelwatch.streams.devtools.demo import run_demo

    if args.rate is not None:
        print("note: --rate is ignored; the demo plays its journeys on the live clock")
    return run_demo(
        Settings.from_env(),
        shipments=args.shipments,
        seed=args.seed,
        duration=args.duration,
        raw_source=args.raw_source,
    )


def _chaos(args: argparse.Namespace) -> int:
    from parcelwatch.streams.devtools.chaos.command import main as run_chaos
    from parcelwatch.streams.devtools.chaos.options import options_from_args

    return run_chaos(options_from_args(args))


def _bench(args: argparse.Namespace) -> int:
    from parcelwatch.streams.devtools.bench.command import main as run_bench
    from parcelwatch.streams.devtools.bench.options import options_from_args

    return run_bench(options_from_args(args))


if __name__ == "__main__":
    sys.exit(main())
