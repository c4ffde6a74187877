"""The ``parcelwatch`` command: kafka up/down/status, topics, worker, simulate, demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from streams.settings import Settings, SettingsError


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.handler(args) or 0)
    except (SettingsError, RuntimeError) as error:
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

    simulate = commands.add_parser("simulate", help="produce simulated orders and scan journeys")
    _simulation_arguments(simulate)
    simulate.add_argument(
        "--jsonl", type=Path, help="write orders.jsonl and scans.jsonl to this folder instead"
    )
    simulate.set_defaults(handler=_simulate)

    demo = commands.add_parser("demo", help="broker, worker and simulator together; Ctrl-C stops")
    _simulation_arguments(demo)
    demo.add_argument("--duration", type=float, help="stop after this many seconds")
    demo.set_defaults(handler=_demo)
    return parser


def _simulation_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--shipments", type=_positive_int, default=200)
    parser.add_argument("--rate", type=_positive_float, default=50.0, help="events per second")
    parser.add_argument("--seed", type=int, help="random seed (default: a new one each run)")


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _kafka(args: argparse.Namespace) -> int:
    from streams.localkafka import LocalKafka

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
    from streams.kafka_admin import ensure_topics

    settings = Settings.from_env()
    created = asyncio.run(ensure_topics(settings))
    print(f"created: {', '.join(created)}" if created else "all topics exist")
    return 0


def _worker(args: argparse.Namespace) -> int:
    from streams.worker import run_worker

    run_worker(Settings.from_env())
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from streams.simulation_runner import simulate_to_jsonl, simulate_to_kafka

    settings = Settings.from_env()
    if args.jsonl is not None:
        count = simulate_to_jsonl(args.jsonl, shipments=args.shipments, seed=args.seed)
        print(f"wrote {count} events to {args.jsonl}")
    else:
        count = asyncio.run(
            simulate_to_kafka(settings, shipments=args.shipments, rate=args.rate, seed=args.seed)
        )
        print(f"produced {count} events")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from streams.demo import run_demo

    return run_demo(
        Settings.from_env(),
        shipments=args.shipments,
        rate=args.rate,
        seed=args.seed,
        duration=args.duration,
    )


if __name__ == "__main__":
    sys.exit(main())
