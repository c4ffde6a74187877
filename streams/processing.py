"""One input message from start to finish: decode -> apply -> publish -> store.

Independent of Faust, so tests use a dict as the table and a list as the topics; the agent in
``streams.agents`` only feeds it messages.

Delivery guarantees (at-least-once, with deterministic ids):
* every output is acknowledged by the broker *before* the shipment's new state is written, so a
  state that says "alert raised" is never durable without its alert;
* the input offset is committed by Faust only after its outputs and changelog are flushed;
* after a crash the uncommitted inputs are re-read: those whose state made it to the changelog are
  duplicates (no second alert); for the others the same alert is sent again with the same
  ``alert_id``, which consumers use to de-duplicate.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from schemas.codec import InvalidEvent, decode_order, decode_scan, encode, make_dead_letter
from schemas.state import ShipmentState, state_from_json, state_to_json
from schemas.topics import TopicNames
from schemas.types import DeadLetterReason, Limits, Order, Scan, ShipmentStatus
from streams.core.tracking import Applied, apply_event
from streams.metrics import WorkerMetrics

log = logging.getLogger(__name__)

# Sends one message and returns once the broker has acknowledged it.
Publish = Callable[[str, bytes, bytes], Awaitable[None]]
Clock = Callable[[], datetime]


class Result(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True, slots=True)
class InputMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class ShipmentProcessor:
    def __init__(
        self,
        *,
        topics: TopicNames,
        limits: Limits,
        store: MutableMapping[str, dict[str, Any]],
        publish: Publish,
        clock: Clock,
        metrics: WorkerMetrics,
    ) -> None:
        self._topics = topics
        self._limits = limits
        self._store = store
        self._publish = publish
        self._clock = clock
        self._metrics = metrics

    async def process(self, message: InputMessage) -> Result:
        started = time.perf_counter()
        now = self._clock()
        try:
            event = self._decode(message, now)
            before = self._load(event.tracking_number)
            outcome = apply_event(before, event, now)
        except InvalidEvent as error:
            await self._dead_letter(message, error, now)
            result = Result.DEAD_LETTERED
        except Exception as error:  # a bug must not stop the partition nor lose the message
            log.exception("failed to process %s[%d]@%d", *_origin(message))
            problem = InvalidEvent(
                DeadLetterReason.PROCESSING_ERROR, f"{type(error).__name__} while processing"
            )
            await self._dead_letter(message, problem, now)
            result = Result.DEAD_LETTERED
        else:
            if isinstance(outcome, Applied):
                await self._emit(outcome)
                if isinstance(event, Scan):
                    self._observe_scan(event, before, outcome.state, now)
                result = Result.APPLIED
            else:
                result = Result.DUPLICATE
        self._metrics.events.labels(message.topic, result.value).inc()
        self._metrics.processing_seconds.observe(time.perf_counter() - started)
        return result

    def _decode(self, message: InputMessage, now: datetime) -> Scan | Order:
        payload = message.value if message.value is not None else b""
        if message.topic == self._topics.carrier_scans:
            return decode_scan(payload, key=message.key, now=now, limits=self._limits)
        if message.topic == self._topics.orders:
            return decode_order(payload, key=message.key, now=now, limits=self._limits)
        raise InvalidEvent(
            DeadLetterReason.UNKNOWN_TOPIC, f"no decoder for topic {message.topic!r}"
        )

    def _load(self, tracking_number: str) -> ShipmentState | None:
        stored = self._store.get(tracking_number)
        return state_from_json(stored) if stored is not None else None

    async def _emit(self, outcome: Applied) -> None:
        state = outcome.state
        for alert in outcome.alerts:
            await self._publish(
                self._topics.shipment_alerts, state.tracking_number.encode(), encode(alert)
            )
            self._metrics.alerts.labels(alert.kind.value, alert.severity.value).inc()
        self._store[state.tracking_number] = state_to_json(state)

    def _observe_scan(
        self, scan: Scan, before: ShipmentState | None, after: ShipmentState, now: datetime
    ) -> None:
        self._metrics.event_age_seconds.observe(max(0.0, (now - scan.occurred_at).total_seconds()))
        was_delivered = before is not None and before.status is ShipmentStatus.DELIVERED
        if after.status is ShipmentStatus.DELIVERED and not was_delivered:
            on_time = (
                "unknown"
                if after.promised_by is None or after.delivered_at is None
                else str(after.delivered_at <= after.promised_by).lower()
            )
            self._metrics.deliveries.labels(on_time).inc()

    async def _dead_letter(self, message: InputMessage, error: InvalidEvent, now: datetime) -> None:
        letter = make_dead_letter(
            error=error,
            source_topic=message.topic,
            source_partition=message.partition,
            source_offset=message.offset,
            key=message.key,
            payload=message.value if message.value is not None else b"",
            received_at=now,
            limits=self._limits,
        )
        await self._publish(
            self._topics.dead_letter, letter.dead_letter_id.encode(), encode(letter)
        )
        self._metrics.dead_letters.labels(error.reason.value).inc()
        # Never the payload or key: they may carry personal data.
        log.warning("dead-lettered %s[%d]@%d: %s", *_origin(message), error.reason.value)


def _origin(message: InputMessage) -> tuple[str, int, int]:
    return message.topic, message.partition, message.offset
