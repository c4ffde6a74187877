"""Publishing a webhook body to ``carrier-raw``: one message, answered only once Kafka has it."""

from __future__ import annotations

from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from parcelwatch.streams.runtime.kafka_admin import (
    KafkaUnreachableError,
    aiokafka_options,
    connection_summary,
)
from parcelwatch.streams.runtime.settings import Settings


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

    async def publish(self, key: bytes, value: bytes) -> None:
        if self._producer is None:
            raise RuntimeError("the publisher is not started")
        await self._producer.send_and_wait(self._topic, value=value, key=key)

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
