"""``parcelwatch demo``: local broker, a worker process and the simulator, printing alerts,
customer notifications and flagged customer feedback live, then the alert mix and the feedback
flags against the simulator's ground truth.

The simulated journeys are played on the live clock, days in seconds (``demo_clock``), and the
worker's timers run on that clock too, so the silences they see are the ones the simulator meant.

With ``raw_source`` the scans go to ``carrier-raw`` as that source's payloads (each the parcel's
history so far) and the worker's normaliser turns them back into scans; the expected alert mix is
still the simulator's, from its canonical journeys.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

from parcelwatch.schemas.timestamps import parse_rfc3339, utc_now
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.streams.core.notification_text import customer_text
from parcelwatch.streams.devtools.alert_mix import SeenAlerts, alert_mix_lines
from parcelwatch.streams.devtools.demo_clock import (
    DRAIN_SECONDS,
    DemoClock,
    scaled_check_interval,
    scaled_feedback_wait_env,
    scaled_worker_env,
)
from parcelwatch.streams.devtools.feedback_mix import (
    SeenFeedback,
    expected_flags,
    feedback_mix_lines,
    flagged_feedback_line,
)
from parcelwatch.streams.devtools.localkafka import LocalKafka
from parcelwatch.streams.runtime.kafka_admin import (
    aiokafka_options,
    broker_reachable,
    ensure_topics,
)
from parcelwatch.streams.runtime.settings import Settings
from parcelwatch.streams.simulation import (
    SimulatedFeedback,
    SimulatedRun,
    SimulationConfig,
    generate_run,
)
from parcelwatch.streams.simulation.ground_truth import expected_alert_mix, injected_trouble
from parcelwatch.streams.simulation.playback import compress_timeline, playback_origin, played_at
from parcelwatch.streams.simulation.raw_payloads import as_raw_payloads
from parcelwatch.streams.simulation.sinks import play_to_kafka

SEVERITY_MARK = {"critical": "!!", "warning": " !", "info": "  "}
NOTIFICATION_MARK = " >"
# Unless the environment says otherwise, quiet hours do not hold back half the demo's
# notifications at night. (The timers' settings are not defaults: they follow the demo's clock.)
DEMO_WORKER_DEFAULTS = {"PARCELWATCH_QUIET_HOURS": "off"}
START_LEAD_SECONDS = 0.5  # the first event is played this long after the timeline is laid out


def run_demo(
    settings: Settings,
    *,
    shipments: int,
    seed: int | None,
    duration: float | None,
    raw_source: str | None = None,
) -> int:
    clock = DemoClock.for_duration(duration)
    seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    simulated_end = utc_now()  # the simulated journeys are those of the last days, cut here
    config = SimulationConfig(
        shipments=shipments, seed=seed, window_days=clock.simulated / timedelta(days=1)
    )
    run = generate_run(config, now=simulated_end)
    events = run.journeys
    # The policy (defaults or the environment's) is in simulated time, the worker's in played.
    wait = timedelta(hours=settings.feedback_wait_hours)
    worker_clock = {
        **scaled_worker_env(
            settings.follow_up_policy, settings.check_interval_seconds, clock.factor
        ),
        **scaled_feedback_wait_env(wait, clock.factor),
    }
    # A silence due this shortly before the next scan may be over when the timer gets to it: a
    # sweep every check interval, then the check's trip through Kafka (on a busy machine, the
    # sweep's own run time too). Two intervals, in simulated time.
    close_call = clock.simulated_span(
        2 * scaled_check_interval(settings.check_interval_seconds, clock.factor)
    )
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
                env={**DEMO_WORKER_DEFAULTS, **os.environ, **worker_clock},
                stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us; we stop the worker cleanly ourselves
            )  # fmt: skip
        print(f"worker starting (log: {log_path}) ...", flush=True)
        _wait_healthy(settings, worker, log_path)
        print(f"worker ready: metrics on http://{settings.web_host}:{settings.web_port}/metrics")
        print(f"playing {shipments} shipments (seed {seed}): {clock.describe()}", flush=True)
        if raw_source is not None:
            print(f"scans go to {settings.topics.carrier_raw} as {raw_source} payloads", flush=True)
        counts = asyncio.run(_stream(settings, run, clock.factor, simulated_end, raw_source))
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
        for topic, label in (
            ("alert", "alerts"),
            ("notification", "notifications"),
            ("feedback", "feedback flags"),
        ):
            seen = {
                kind: n for (kind_topic, kind), n in counts.outputs.items() if kind_topic == topic
            }
            summary = ", ".join(f"{kind}: {n}" for kind, n in sorted(seen.items())) or "none"
            print(f"{label} seen: {summary}")
        expected, close_calls = expected_alert_mix(
            events, settings.follow_up_policy.silence, until=simulated_end, close_call=close_call
        )
        trouble = injected_trouble(events)
        words = _words(close_call)
        for line in alert_mix_lines(expected, close_calls, counts.alerts, trouble, words):
            print(line)
        for line in _feedback_lines(run.feedback, counts.feedback, clock, simulated_end, wait):
            print(line)
    return 0


def _feedback_lines(
    played: list[SimulatedFeedback],
    seen: SeenFeedback,
    clock: DemoClock,
    simulated_end: datetime,
    wait: timedelta,
) -> list[str]:
    # The last flags can come in while the demo drains.
    until = simulated_end + clock.simulated_span(DRAIN_SECONDS)
    expected = expected_flags(played, wait=wait, until=until)
    languages = Counter(piece.language for piece in played)
    return feedback_mix_lines(expected, seen, languages, _words(wait))


def _words(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:.1f} simulated hours"


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


@dataclass
class _Seen:
    """What the demo read back: this run's outputs by (topic, kind), and its alerts sorted."""

    tracking_numbers: frozenset[str]
    order_ids: frozenset[str]  # those this run's feedback names (unknown orders included)
    window_end: datetime  # the end of the played window on the live clock
    outputs: Counter[tuple[str, str]] = field(default_factory=Counter)
    alerts: SeenAlerts = field(default_factory=SeenAlerts)
    feedback: SeenFeedback = field(default_factory=SeenFeedback)


async def _stream(
    settings: Settings,
    run: SimulatedRun,
    factor: float,
    simulated_end: datetime,
    raw_source: str | None = None,
) -> _Seen:
    topics = settings.topics
    consumer = AIOKafkaConsumer(
        topics.shipment_alerts,
        topics.customer_notifications,
        topics.feedback_flagged,
        **aiokafka_options(settings),
        group_id=None,
    )
    await consumer.start()
    try:
        await consumer.seek_to_end()  # only this run's alerts
        start = utc_now() + timedelta(seconds=START_LEAD_SECONDS)
        events = run.events
        played = compress_timeline(events, factor=factor, now=start)
        if raw_source is not None:  # rendered after compressing: the times are in the payloads
            played = as_raw_payloads(played, raw_source)
        window_end = played_at(
            simulated_end, origin=playback_origin(events), factor=factor, now=start
        )
        seen = _Seen(
            frozenset(item.key.decode() for item in run.journeys),
            frozenset(piece.feedback.order_id for piece in run.feedback),
            window_end,
        )
        simulator = asyncio.create_task(play_to_kafka(settings, played))
        printer = asyncio.create_task(_print_outputs(consumer, topics, seen))
        try:
            sent = await simulator
            print(f"simulator done: {sent} events; waiting for the last alerts ...", flush=True)
            await asyncio.sleep(DRAIN_SECONDS)
        finally:
            printer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await printer
            simulator.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await simulator
    finally:
        await consumer.stop()
    return seen


async def _print_outputs(consumer: AIOKafkaConsumer, topics: TopicNames, seen: _Seen) -> None:
    alerts_topic = topics.shipment_alerts
    async for record in consumer:
        event = orjson.loads(record.value)
        if record.topic == topics.feedback_flagged:
            _print_feedback(event, seen)
            continue
        if event["tracking_number"] not in seen.tracking_numbers:
            # A previous run's shipment in the worker's table, its silences falling due now.
            seen.alerts.other_shipments += record.topic == alerts_topic
            continue
        if record.topic == alerts_topic:
            seen.outputs["alert", event["kind"]] += 1
            due = parse_rfc3339(event["occurred_at"]) <= seen.window_end
            (seen.alerts.in_window if due else seen.alerts.after_window)[event["kind"]] += 1
            mark = SEVERITY_MARK.get(event["severity"], "  ")
            # The order id comes from a producer: no escape sequences into the terminal.
            order = f" order {customer_text(event['order_id'])}" if event.get("order_id") else ""
            print(
                f"{mark} {event['kind']:<20} {event['tracking_number']}{order}: {event['message']}",
                flush=True,
            )
        else:
            seen.outputs["notification", event["kind"]] += 1
            channels = "+".join(event["customer"]["channels"])
            print(
                f"{NOTIFICATION_MARK} {event['kind']:<20} {event['tracking_number']} "
                f"[{event['locale']}, {channels}]: {event['message']}",
                flush=True,
            )


def _print_feedback(event: dict[str, Any], seen: _Seen) -> None:
    if seen.feedback.record(event, seen.order_ids):
        seen.outputs["feedback", event["flag"]["reason"]] += 1
        print(flagged_feedback_line(event), flush=True)
