from __future__ import annotations

import pytest

from parcelwatch.schemas.carrier_raw import MAX_RAW_PAYLOAD_CHARS
from parcelwatch.schemas.types import CarrierSource
from parcelwatch.streams.ingest.settings import IngestSettings, secret_variable
from parcelwatch.streams.ingest.signatures import DEFAULT_SHIPPO_TOLERANCE_SECONDS
from parcelwatch.streams.runtime.settings import SettingsError


def test_defaults():
    ingest = IngestSettings.from_env({})
    assert (ingest.host, ingest.port) == ("127.0.0.1", 8088)
    assert ingest.max_body_bytes == MAX_RAW_PAYLOAD_CHARS
    assert ingest.shippo_tolerance_seconds == DEFAULT_SHIPPO_TOLERANCE_SECONDS
    assert ingest.secrets == {}
    assert ingest.allow_unsigned == frozenset()
    assert ingest.kafka.topics.carrier_raw == "carrier-raw"


def test_secret_variable_names():
    platforms = (
        CarrierSource.EASYPOST, CarrierSource.AFTERSHIP, CarrierSource.SHIPPO,
        CarrierSource.SEVENTEEN_TRACK,
    )  # fmt: skip
    assert [secret_variable(platform) for platform in platforms] == [
        "PARCELWATCH_WEBHOOK_SECRET_EASYPOST",
        "PARCELWATCH_WEBHOOK_SECRET_AFTERSHIP",
        "PARCELWATCH_WEBHOOK_SECRET_SHIPPO",
        "PARCELWATCH_WEBHOOK_SECRET_17TRACK",
    ]
    ingest = IngestSettings.from_env({name: "secret" for name in map(secret_variable, platforms)})
    assert set(ingest.secrets) == set(platforms)


def test_environment():
    ingest = IngestSettings.from_env(
        {
            "PARCELWATCH_INGEST_HOST": "0.0.0.0",
            "PARCELWATCH_INGEST_PORT": "9000",
            "PARCELWATCH_INGEST_MAX_BODY_BYTES": "100000",
            "PARCELWATCH_INGEST_SHIPPO_TOLERANCE_SECONDS": "600",
            "PARCELWATCH_INGEST_PUBLISH_TIMEOUT_SECONDS": "3",
            "PARCELWATCH_WEBHOOK_SECRET_EASYPOST": "ep-secret",
            "PARCELWATCH_WEBHOOK_SECRET_17TRACK": "key17",
            "PARCELWATCH_WEBHOOK_SECRET_SHIPPO": "  ",  # blank: not set
            "PARCELWATCH_WEBHOOK_ALLOW_UNSIGNED": "Shippo, 17track",
            "PARCELWATCH_TOPIC_PREFIX": "eu.",
            "PARCELWATCH_KAFKA_BROKER": "kafka://k1:9092",
        }
    )
    assert (ingest.host, ingest.port, ingest.max_body_bytes) == ("0.0.0.0", 9000, 100_000)
    assert ingest.shippo_tolerance_seconds == 600
    assert ingest.publish_timeout_seconds == 3
    assert ingest.secrets == {
        CarrierSource.EASYPOST: "ep-secret",
        CarrierSource.SEVENTEEN_TRACK: "key17",
    }
    assert ingest.allow_unsigned == {CarrierSource.SHIPPO, CarrierSource.SEVENTEEN_TRACK}
    assert ingest.kafka.topics.carrier_raw == "eu.carrier-raw"
    assert ingest.kafka.bootstrap_servers == "k1:9092"


def test_secrets_are_not_in_repr():
    ingest = IngestSettings.from_env({"PARCELWATCH_WEBHOOK_SECRET_AFTERSHIP": "very-secret-value"})
    assert "very-secret-value" not in repr(ingest)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PARCELWATCH_INGEST_PORT", "0"),
        ("PARCELWATCH_INGEST_MAX_BODY_BYTES", str(MAX_RAW_PAYLOAD_CHARS + 1)),
        ("PARCELWATCH_INGEST_MAX_BODY_BYTES", "10"),
        ("PARCELWATCH_INGEST_SHIPPO_TOLERANCE_SECONDS", "10"),
        ("PARCELWATCH_WEBHOOK_ALLOW_UNSIGNED", "ups"),
    ],
)
def test_bad_values_are_refused(name, value):
    with pytest.raises(SettingsError) as error:
        IngestSettings.from_env({name: value})
    assert name in str(error.value)
