"""Publishing a batch's outputs: every message acknowledged, retried while the broker is away.

Giving up on an output would let Faust acknowledge (and lose) the input that caused it, so a
retriable failure is retried forever, with backoff; a refusal for good (too large, not
authorised...) raises ``PublishFailed`` and the worker stops instead.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from aiokafka.errors import KafkaError, KafkaTimeoutError

from parcelwatch.streams.pipeline.error_text import describe
from parcelwatch.streams.pipeline.messages import OutputMessage
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.runtime.producer_nudge import app_producer_nudge

log = logging.getLogger(__name__)


class PublishFailed(RuntimeError):
    """The broker refused an output for good (too large, not authorised...): retrying cannot
    help, and dropping it would lose it. The worker stops; the input is read again after the
    restart, because the ledger and the committed offset never pass it."""


class ProducerTopic:
    """Sends to one topic through the app's Kafka producer directly. Faust's ``Topic.send`` wraps
    every message in its channel machinery (a FutureMessage, a PendingMessage, sensor callbacks),
    which cost a worker about a tenth of its CPU; the pipeline awaits the acknowledgements itself,
    so it needs none of it."""

    def __init__(self, app: Any, name: str) -> None:
        self._app = app
        self._name = name

    async def send(self, *, key: bytes | None, value: bytes, partition: int | None) -> Any:
        """The pending acknowledgement (an awaitable), once the producer has taken the message."""
        return await self._app.producer.send(self._name, key, value, partition, None, None)


def producer_topics(app: Any, names: Iterable[str]) -> dict[str, ProducerTopic]:
    return {name: ProducerTopic(app, name) for name in names}


def app_publisher(
    app: Any, names: Iterable[str], metrics: WorkerMetrics
) -> Callable[[Sequence[OutputMessage]], Awaitable[None]]:
    """``retrying_publisher`` to ``names`` through the app's producer, which is told to send
    a batch's outputs as soon as the batch has handed them all over."""
    return retrying_publisher(
        producer_topics(app, names), metrics, send_now=app_producer_nudge(app)
    )


def retrying_publisher(
    topics: Mapping[str, Any],
    metrics: WorkerMetrics,
    *,
    send_now: Callable[[], None] = lambda: None,
) -> Callable[[Sequence[OutputMessage]], Awaitable[None]]:
    """``publish_many`` for the pipeline: all messages handed to the producer in order, then
    awaited together (one round trip for a batch), what failed sent again until it is taken.
    ``send_now`` is called between the two: the producer need not linger for more."""

    async def publish_many(messages: Sequence[OutputMessage]) -> None:
        waiting = list(messages)
        for backoff in backoff_seconds():
            failed = await send_all(topics, waiting, send_now=send_now)
            if not failed:
                return
            for topic in {message.topic for message, _ in failed}:
                metrics.publish_retries.labels(topic).inc()
            first, error = failed[0]
            log.warning(
                "publishing %d message(s) failed (%s, to %s); retrying in %.0f s",
                len(failed), describe(error), first.topic, backoff,
            )  # fmt: skip
            await asyncio.sleep(backoff)
            waiting = [message for message, _ in failed]

    return publish_many


async def send_all(
    topics: Mapping[str, Any],
    messages: Sequence[OutputMessage],
    *,
    send_now: Callable[[], None] = lambda: None,
) -> list[tuple[OutputMessage, BaseException]]:
    """Send ``messages`` in order and wait for every acknowledgement; the ones that failed with
    a retriable error. A refusal for good raises PublishFailed."""
    sent: list[tuple[OutputMessage, Any]] = []
    failed: list[tuple[OutputMessage, BaseException]] = []
    for message in messages:
        try:
            delivery = await topics[message.topic].send(
                key=message.key, value=message.value, partition=message.partition
            )
        except Exception as error:
            failed.append((message, error))
        else:
            sent.append((message, delivery))
    if sent:
        send_now()
    results = await asyncio.gather(*(delivery for _, delivery in sent), return_exceptions=True)
    failed += [
        (message, result)
        for (message, _), result in zip(sent, results, strict=True)
        if isinstance(result, BaseException)
    ]
    for message, error in failed:
        if isinstance(error, asyncio.CancelledError):
            raise error
        if not retriable(error):
            raise PublishFailed(
                f"the broker refused a message for {message.topic}: {describe(error)}"
            ) from error
    return failed


def retriable(error: BaseException) -> bool:
    """Worth retrying: the broker is away or busy (Faust wraps aiokafka's errors)."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, KafkaTimeoutError):
            return True  # no answer in time: an outage, not a refusal
        if isinstance(cause, KafkaError):
            return bool(cause.retriable)
        cause = cause.__cause__
    return False


def backoff_seconds() -> Iterator[float]:
    """1, 2, 4 ... 30, 30, 30 ... seconds: forever, because giving up would lose the input."""
    return (min(30.0, 2.0**attempt) for attempt in itertools.count())
