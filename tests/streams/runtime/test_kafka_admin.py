"""Topic creation answers (which topics a call created, which broker errors stop a worker) and
the security settings as every Kafka client receives them."""

from __future__ import annotations

import ssl

import faust
import pytest

from parcelwatch.streams.runtime.kafka_admin import (
    TopicLayoutError,
    _created,
    aiokafka_options,
    connection_summary,
    faust_credentials,
)
from parcelwatch.streams.runtime.settings import KafkaSecurity, Settings


def test_created_topics_are_those_without_an_error():
    assert _created([("a", 0, None), ("b", 0, None)]) == ["a", "b"]


def test_a_topic_someone_else_created_first_is_fine_but_not_ours():
    assert _created([("a", 36, "Topic 'a' already exists."), ("b", 0, None)]) == ["b"]


def test_any_other_creation_error_stops_with_the_brokers_words():
    with pytest.raises(TopicLayoutError, match="could not create topic a: Replication factor"):
        _created([("a", 38, "Replication factor: 3 larger than available brokers: 1.")])


def test_an_error_without_words_names_its_code():
    with pytest.raises(TopicLayoutError, match="error code 41"):
        _created([("a", 41)])


# -- security settings → client options ------------------------------------------------------

SCRAM_OVER_TLS = KafkaSecurity(
    protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="pw",
    sasl_password="s3cret-value",
)  # fmt: skip


def test_sasl_ssl_gives_every_client_tls_and_the_scram_login():
    options = aiokafka_options(
        Settings(broker="kafka://b1:9093,kafka://b2:9093", security=SCRAM_OVER_TLS)
    )
    assert options["bootstrap_servers"] == "b1:9093,b2:9093"
    assert options["security_protocol"] == "SASL_SSL"
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert (options["sasl_mechanism"], options["sasl_plain_username"]) == ("SCRAM-SHA-512", "pw")
    assert options["sasl_plain_password"] == "s3cret-value"


def test_faust_gets_the_same_protocol_and_login_as_the_other_clients():
    credentials = faust_credentials(SCRAM_OVER_TLS)
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol.value == "SASL_SSL"
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert isinstance(credentials.ssl_context, ssl.SSLContext)


def test_sasl_without_tls_sends_no_tls_context():
    security = KafkaSecurity(protocol="SASL_PLAINTEXT", sasl_username="pw", sasl_password="x")
    assert "ssl_context" not in aiokafka_options(Settings(security=security))
    credentials = faust_credentials(security)
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.protocol.value, credentials.ssl_context) == ("SASL_PLAINTEXT", None)


def test_tls_without_sasl_sends_no_login():
    options = aiokafka_options(Settings(security=KafkaSecurity(protocol="SSL")))
    assert options["security_protocol"] == "SSL"
    assert "sasl_mechanism" not in options
    assert isinstance(faust_credentials(KafkaSecurity(protocol="SSL")), faust.SSLCredentials)


def test_plaintext_needs_no_credentials():
    assert faust_credentials(KafkaSecurity()) is None
    assert aiokafka_options(Settings())["security_protocol"] == "PLAINTEXT"


def test_the_connection_summary_names_the_user_but_never_the_password():
    summary = connection_summary(Settings(broker="kafka://b1:9093", security=SCRAM_OVER_TLS))
    assert summary == "b1:9093 over SASL_SSL (SCRAM-SHA-512, user 'pw')"
    assert "s3cret" not in summary
