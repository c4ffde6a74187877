"""Kafka connection options and topic set-up, shared by the worker, the simulator and the CLI."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from typing import Any

import faust
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError
from aiokafka.helpers import create_ssl_context

from parcelwatch.streams.runtime.settings import KafkaSecurity, Settings

log = logging.getLogger(__name__)


class TopicLayoutError(RuntimeError):
    """The existing topics cannot be used as they are (e.g. inputs not co-partitioned)."""


class KafkaUnreachableError(RuntimeError):
    """No broker accepted a connection made with the configured security settings."""


def _ssl_context(security: KafkaSecurity) -> ssl.SSLContext | None:
    if not security.uses_ssl:
        return None
    return create_ssl_context(
        cafile=security.ssl_cafile, certfile=security.ssl_certfile, keyfile=security.ssl_keyfile
    )


def aiokafka_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client (producer, consumer, admin)."""
    security = settings.security
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "security_protocol": security.protocol,
    }
    context = _ssl_context(security)
    if context is not None:
        options["ssl_context"] = context
    if security.uses_sasl:
        options.update(
            sasl_mechanism=security.sasl_mechanism,
            sasl_plain_username=security.sasl_username,
            sasl_plain_password=security.sasl_password,
        )
    return options


def faust_credentials(security: KafkaSecurity) -> faust.types.auth.CredentialsT | None:
    context = _ssl_context(security)
    if security.uses_sasl:
        return faust.SASLCredentials(
            username=security.sasl_username,
            password=security.sasl_password,
            mechanism=security.sasl_mechanism,
            ssl_context=context,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


_TOPIC_ALREADY_EXISTS = 36


async def ensure_topics(settings: Settings, timeout: float = 30.0) -> list[str]:
    """Create missing input/output topics; refuse inputs that are not co-partitioned.

    Topics are created before the worker subscribes: a topic that appears after the consumer
    joined its group is not picked up until the next rebalance. The partition counts are checked
    on what the broker reports afterwards, not on what was asked for: another worker may have
    created a topic first, and a new topic's metadata takes a moment to appear.
    """
    names = list(settings.topics.all)
    consumed = settings.topics.consumed
    admin = await _started_admin(settings)
    try:
        existing = await _partition_counts(admin, names)
        missing = [name for name in names if name not in existing]
        # A consumed topic added by an upgrade (shipment-checks) joins the existing inputs'
        # partition count, which may differ from PARCELWATCH_PARTITIONS.
        consumed_partitions = next(
            (existing[name] for name in consumed if name in existing), settings.partitions
        )
        created: list[str] = []
        if missing:
            new_topics = [
                _new_topic(
                    settings,
                    name,
                    consumed_partitions if name in consumed else settings.partitions,
                )
                for name in missing
            ]
            response = await admin.create_topics(new_topics)
            created = _created(response.topic_errors)
            log.info("created topics %s", created)
        counts = await _wait_for_partition_counts(admin, names, timeout)
    finally:
        await admin.close()
    if len({counts[name] for name in consumed}) != 1:
        layout = ", ".join(f"{name}: {counts[name]}" for name in consumed)
        raise TopicLayoutError(
            f"partition counts differ ({layout}): these topics feed one table keyed by tracking "
            "number, so their partition counts must match"
        )
    return created


def connection_summary(settings: Settings) -> str:
    """Where and how parcelwatch connects, for messages: never the password."""
    security = settings.security
    how = security.protocol
    if security.uses_sasl:
        how += f" ({security.sasl_mechanism}, user {security.sasl_username!r})"
    return f"{settings.bootstrap_servers} over {how}"


async def _started_admin(settings: Settings) -> AIOKafkaAdminClient:
    admin = AIOKafkaAdminClient(**aiokafka_options(settings))
    try:
        await admin.start()
    except KafkaConnectionError:
        await admin.close()
        # aiokafka logs each broker's reason (refused, SaslAuthenticationFailed, certificate
        # verify failed) but raises only "Unable to bootstrap from [...]": say what was tried.
        raise KafkaUnreachableError(
            f"cannot connect to Kafka at {connection_summary(settings)}; the aiokafka error above "
            "says why. Check PARCELWATCH_KAFKA_BROKER and the PARCELWATCH_KAFKA_SECURITY_PROTOCOL, "
            "_SASL_* and _SSL_* settings"
        ) from None
    return admin


def _created(topic_errors: list[tuple[Any, ...]]) -> list[str]:
    """The topics this call created; "already exists" is fine (someone was first), the rest is
    not."""
    created = []
    for topic, error_code, *details in topic_errors:
        if error_code == 0:
            created.append(topic)
        elif error_code != _TOPIC_ALREADY_EXISTS:
            message = details[0] if details and details[0] else f"error code {error_code}"
            raise TopicLayoutError(f"could not create topic {topic}: {message}")
    return created


async def _wait_for_partition_counts(
    admin: AIOKafkaAdminClient, names: list[str], timeout: float
) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        counts = await _partition_counts(admin, names)
        if len(counts) == len(names) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    unseen = [name for name in names if name not in counts]
    if unseen:
        raise TopicLayoutError(f"topics {unseen} did not appear within {timeout:g} s")
    return counts


def _new_topic(settings: Settings, name: str, partitions: int) -> NewTopic:
    if name == settings.topics.model_updates:
        # One partition, compacted: the last announcement is the promoted model, kept forever.
        return NewTopic(
            name, 1, settings.replication_factor, topic_configs={"cleanup.policy": "compact"}
        )
    if name == settings.topics.shipment_checks:
        # Timer requests are worth nothing after a day: a later sweep asks again.
        return NewTopic(
            name,
            partitions,
            settings.replication_factor,
            topic_configs={"retention.ms": str(24 * 3600 * 1000)},
        )
    return NewTopic(name, partitions, settings.replication_factor)


async def _partition_counts(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    """Partition counts of those of ``names`` the broker knows (with their partitions).

    Asks for *all* topics: a metadata request naming a missing topic makes brokers with
    ``auto.create.topics.enable`` (Kafka's default) create it, with the wrong settings.
    """
    wanted = set(names)
    described = await admin.describe_topics()
    return {
        topic["topic"]: len(topic["partitions"])
        for topic in described
        if topic["topic"] in wanted and topic["partitions"]
    }


async def broker_reachable(settings: Settings, timeout: float = 5.0) -> bool:
    """A quiet probe: "no broker" is an expected answer here, not an error worth logging."""
    client_log = logging.getLogger("aiokafka")
    previous_level = client_log.level
    client_log.setLevel(logging.CRITICAL)
    admin = AIOKafkaAdminClient(
        **aiokafka_options(settings), request_timeout_ms=int(timeout * 1000)
    )
    try:
        await asyncio.wait_for(admin.start(), timeout)
        await asyncio.wait_for(admin.list_topics(), timeout)
        return True
    except (TimeoutError, KafkaError, OSError):
        return False
    finally:
        await admin.close()
        client_log.setLevel(previous_level)
