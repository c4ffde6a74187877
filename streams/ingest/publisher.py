"""Publishing a webhook body to ``carrier-raw``: one message, answered only once Kafka has it."""

from __future__ import annotations

import logging
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError, KafkaError

from parcelwatch.streams.runtime.kafka_admin import (
    KafkaUnreachableError,
    aiokafka_options,
    connection_summary,
)
from parcelwatch.streams.runtime.settings import Settings

log = logging.getLogger(__name__)


class Publisher(Protocol):
    async def publish(self, key: bytes, value: bytes) -> None:
        """Returns once the broker acknowledged the message; raises if it did not."""


class KafkaPublisher:
    """An idempotent producer waiting for every in-sync replica (acks=all) on each message."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._topic = settings.topics.carrier_raw
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        producer = AIOKafkaProducer(
            **aiokafka_options(self._settings), acks="all", enable_idempotence=True
        )
        try:
            await producer.start()
        except KafkaConnectionError:
            await producer.stop()
            raise KafkaUnreachableError(
                f"cannot connect to Kafka at {connection_summary(self._settings)}; the aiokafka "
                "error above says why. Check PARCELWATCH_KAFKA_BROKER and the "
                "PARCELWATCH_KAFKA_SECURITY_PROTOCOL, _SASL_* and _SSL_* settings"
            ) from None
        self._producer = producer
        if not await _topic_exists(self._settings, self._topic):
            log.warning(
                "topic %s does not exist yet: webhooks are answered 503 until it does (a worker "
                "creates it at start, or run `parcelwatch topics`)",
                self._topic,
            )

    async def publish(self, key: bytes, value: bytes) -> None:
        if self._producer is None:
            raise RuntimeError("the publisher is not started")
        await self._producer.send_and_wait(self._topic, value=value, key=key)

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


async def _topic_exists(settings: Settings, topic: str) -> bool:
    """Asks for all topics: asking for a missing one by name makes a broker with
    ``auto.create.topics.enable`` create it, with the wrong settings."""
    admin = AIOKafkaAdminClient(**aiokafka_options(settings))
    try:
        await admin.start()
        return any(entry["topic"] == topic for entry in await admin.describe_topics())
    except KafkaError:
        return True  # unknown: the producer is connected, publishing will tell
    finally:
        await admin.close()
