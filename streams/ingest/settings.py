"""Settings of ``parcelwatch ingest``, read once from the environment at start-up.

Kafka (broker, TLS/SASL, topic prefix) comes from the worker's own settings, so one environment
configures both. Secrets are kept out of ``repr`` and never printed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from parcelwatch.schemas.carrier_raw import MAX_RAW_PAYLOAD_CHARS
from parcelwatch.schemas.types import CarrierSource
from parcelwatch.streams.ingest.signatures import (
    DEFAULT_SHIPPO_TOLERANCE_SECONDS,
    SHIPPO_MAX_FUTURE_SECONDS,
    WEBHOOK_PLATFORMS,
)
from parcelwatch.streams.runtime.settings import Settings, SettingsError, _EnvReader

# + the platform in capitals, after the prefix: PARCELWATCH_WEBHOOK_SECRET_17TRACK
SECRET_VARIABLE = "WEBHOOK_SECRET_"


def secret_variable(platform: CarrierSource) -> str:
    """The environment variable holding ``platform``'s webhook secret."""
    return f"PARCELWATCH_{SECRET_VARIABLE}{platform.value.upper()}"


@dataclass(frozen=True)
class IngestSettings:
    """Where the webhook receiver listens, what it accepts, and the Kafka it publishes to."""

    kafka: Settings = field(default_factory=Settings)
    host: str = "127.0.0.1"  # behind a TLS-terminating reverse proxy on the same host
    port: int = 8088
    max_body_bytes: int = MAX_RAW_PAYLOAD_CHARS  # the carrier-raw contract's payload limit
    shippo_tolerance_seconds: float = DEFAULT_SHIPPO_TOLERANCE_SECONDS
    # A webhook is answered 503 (the platform retries) when Kafka has not acknowledged it in time.
    publish_timeout_seconds: float = 5.0
    secrets: Mapping[CarrierSource, str] = field(default_factory=dict, repr=False)
    # Platforms whose webhooks are accepted without a signature while no secret is set for them.
    allow_unsigned: frozenset[CarrierSource] = frozenset()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IngestSettings:
        env = os.environ if env is None else env
        reader = _EnvReader(env)
        defaults = cls()
        secrets = {
            platform: secret
            for platform in WEBHOOK_PLATFORMS
            if (secret := reader.optional(SECRET_VARIABLE + platform.value.upper()))
        }
        return cls(
            kafka=Settings.from_env(env),
            host=reader.text("INGEST_HOST", defaults.host),
            port=reader.integer("INGEST_PORT", defaults.port, minimum=1, maximum=65535),
            max_body_bytes=reader.integer(
                "INGEST_MAX_BODY_BYTES",
                defaults.max_body_bytes,
                minimum=1024,
                maximum=MAX_RAW_PAYLOAD_CHARS,
            ),
            shippo_tolerance_seconds=reader.number(
                "INGEST_SHIPPO_TOLERANCE_SECONDS",
                defaults.shippo_tolerance_seconds,
                minimum=SHIPPO_MAX_FUTURE_SECONDS,
            ),
            publish_timeout_seconds=reader.number(
                "INGEST_PUBLISH_TIMEOUT_SECONDS",
                defaults.publish_timeout_seconds,
                minimum=0.5,
                maximum=120,
            ),
            secrets=secrets,
            allow_unsigned=_platforms(reader, "WEBHOOK_ALLOW_UNSIGNED"),
        )


def _platforms(reader: _EnvReader, name: str) -> frozenset[CarrierSource]:
    """``"shippo,17track"`` -> those platforms; empty or unset: none."""
    text = reader.text(name, "", allow_empty=True)
    chosen = {part.strip().lower() for part in text.split(",") if part.strip()}
    known = {platform.value for platform in WEBHOOK_PLATFORMS}
    if unknown := chosen - known:
        raise SettingsError(
            f"{reader.prefix}{name}: unknown platform(s) {sorted(unknown)}; expected some of "
            f"{sorted(known)}"
        )
    return frozenset(CarrierSource(value) for value in chosen)
