"""``parcelwatch demo``: local broker, a worker process and the simulator, printing alerts and
customer notifications live."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer

from parcelwatch.streams.core.notification_text import customer_text
from parcelwatch.streams.devtools.localkafka import LocalKafka
from parcelwatch.streams.runtime.kafka_admin import (
    aiokafka_options,
    broker_reachable,
    ensure_topics,
)
from parcelwatch.streams.runtime.settings import Settings
from parcelwatch.streams.simulation.sinks import simulate_to_kafka

SEVERITY_MARK = {"critical": "!!", "warning": " !", "info": "  "}
NOTIFICATION_MARK = " >"
# Livelier than production defaults, unless the environment says otherwise: timers sweep every
# few seconds, and quiet hours do not hold back half the demo's notifications at night.
DEMO_WORKER_DEFAULTS = {"PARCELWATCH_CHECK_INTERVAL_SECONDS": "5", "PARCELWATCH_QUIET_HOURS": "off"}


def run_demo(
    settings: Settings,
    *,
    shipments: int,
    rate: float,
    seed: int | None,
    duration: float | None,
) -> int:
    broker = LocalKafka.from_env()
    started_broker = False
    if not asyncio.run(broker_reachable(settings)):
        if settings.bootstrap_servers != broker.bootstrap_servers:
            raise RuntimeError(f"no Kafka broker answers at {settings.bootstrap_servers}")
        started_broker = broker.up()
    log_path = Path(".parcelwatch/demo-worker.log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    worker = None
    try:
        asyncio.run(ensure_topics(settings))
        with log_path.open("ab") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "parcelwatch.streams.cli", "worker"],
                env={**DEMO_WORKER_DEFAULTS, **os.environ}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us; we stop the worker cleanly ourselves
            )  # fmt: skip
        print(f"worker starting (log: {log_path}) ...", flush=True)
        _wait_healthy(settings, worker, log_path)
        print(f"worker ready: metrics on http://{settings.web_host}:{settings.web_port}/metrics")
        counts = asyncio.run(_stream(settings, shipments, rate, seed, duration))
    except KeyboardInterrupt:
        counts = None
        print("\nstopping ...")
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
        if started_broker:
            broker.down()
    if counts is not None:
        for topic, label in (("alert", "alerts"), ("notification", "notifications")):
            seen = {kind: n for (kind_topic, kind), n in counts.items() if kind_topic == topic}
            summary = ", ".join(f"{kind}: {n}" for kind, n in sorted(seen.items())) or "none"
            print(f"{label} seen: {summary}")
    return 0


def _wait_healthy(settings: Settings, worker: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited; see {log}")
        with contextlib.suppress(OSError):
            url = f"http://127.0.0.1:{settings.web_port}/readyz"
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.5)
    raise RuntimeError(f"the worker did not become ready in 120 s; see {log}")


async def _stream(
    settings: Settings, shipments: int, rate: float, seed: int | None, duration: float | None
) -> Counter[tuple[str, str]]:
    topics = settings.topics
    consumer = AIOKafkaConsumer(
        topics.shipment_alerts,
        topics.customer_notifications,
        **aiokafka_options(settings),
        group_id=None,
    )
    await consumer.start()
    counts: Counter[tuple[str, str]] = Counter()
    try:
        await consumer.seek_to_end()  # only this run's alerts
        simulator = asyncio.create_task(
            simulate_to_kafka(settings, shipments=shipments, rate=rate, seed=seed)
        )
        printer = asyncio.create_task(_print_outputs(consumer, topics.shipment_alerts, counts))
        try:
            sent = await asyncio.wait_for(asyncio.shield(simulator), timeout=duration)
            print(f"simulator done: {sent} events; waiting for the last alerts ...", flush=True)
            await asyncio.sleep(5)
        except TimeoutError:
            simulator.cancel()
        printer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await printer
        simulator.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await simulator
    finally:
        await consumer.stop()
    return counts


async def _print_outputs(
    consumer: AIOKafkaConsumer, alerts_topic: str, counts: Counter[tuple[str, str]]
) -> None:
    async for record in consumer:
        event = orjson.loads(record.value)
        if record.topic == alerts_topic:
            counts["alert", event["kind"]] += 1
            mark = SEVERITY_MARK.get(event["severity"], "  ")
            # The order id comes from a producer: no escape sequences into the terminal.
            order = f" order {customer_text(event['order_id'])}" if event.get("order_id") else ""
            print(
                f"{mark} {event['kind']:<20} {event['tracking_number']}{order}: {event['message']}",
                flush=True,
            )
        else:
            counts["notification", event["kind"]] += 1
            channels = "+".join(event["customer"]["channels"])
            print(
                f"{NOTIFICATION_MARK} {event['kind']:<20} {event['tracking_number']} "
                f"[{event['locale']}, {channels}]: {event['message']}",
                flush=True,
            )
