"""An input that could not be applied becomes a dead letter: the one way every agent rejects."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from parcelwatch.schemas.codec import InvalidEvent, encode, make_dead_letter
from parcelwatch.schemas.types import DeadLetterReason, Limits
from parcelwatch.streams.pipeline.error_text import describe, stack
from parcelwatch.streams.pipeline.messages import InputMessage, OutputMessage
from parcelwatch.streams.pipeline.metrics import WorkerMetrics

log = logging.getLogger(__name__)


def dead_letter(
    message: InputMessage,
    error: Exception,
    *,
    topic: str,
    now: datetime,
    limits: Limits,
    metrics: WorkerMetrics,
) -> OutputMessage:
    """The dead letter for ``message``: an invalid one with its reason; one that met a bug as a
    processing error, so it neither stops the partition nor is lost. Counted and logged, never
    with the payload or key (they may carry personal data)."""
    origin = (message.topic, message.partition, message.offset)
    if not isinstance(error, InvalidEvent):
        # The error's class and frames, not its words: they may quote the input.
        log.error("failed to process %s[%d]@%d: %s\n%s", *origin, describe(error), stack(error))
        error = InvalidEvent(
            DeadLetterReason.PROCESSING_ERROR, f"{type(error).__name__} while processing"
        )
    letter = make_dead_letter(
        error=error,
        source_topic=message.topic,
        source_partition=message.partition,
        source_offset=message.offset,
        key=message.key,
        payload=message.payload,
        received_at=now,
        limits=limits,
    )
    metrics.dead_letters.labels(error.reason.value).inc()
    log.warning("dead-lettered %s[%d]@%d: %s", *origin, error.reason.value)
    return OutputMessage(topic, letter.dead_letter_id.encode(), encode(letter))


@dataclass(frozen=True, slots=True)
class DeadLetterMaker:
    """``dead_letter`` with one processor's dead-letter topic, limits and metrics bound to it."""

    topic: str
    limits: Limits
    metrics: WorkerMetrics

    def __call__(self, message: InputMessage, error: Exception, now: datetime) -> OutputMessage:
        return dead_letter(
            message, error, topic=self.topic, now=now, limits=self.limits, metrics=self.metrics
        )
