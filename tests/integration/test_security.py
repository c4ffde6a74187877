"""TLS and SASL/SCRAM against a real secured broker: a worker, the CLI and refused clients.

The secured broker (``secured_broker.py``) runs next to the shared plaintext one, with a
``SASL_SSL`` (SCRAM-SHA-512) listener and a mutual-TLS ``SSL`` listener, certificates made for
this run. If it cannot start, these tests fail: they are never skipped.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError

from parcelwatch.schemas.codec import encode
from tests.factories import order, scan
from tests.integration.certificates import make_certificates
from tests.integration.conftest import REPO, Deployment, collect, free_port, produce
from tests.integration.secured_broker import SecuredKafka, shared_libs_dir
from tests.integration.test_pipeline import shifted

WRONG_PASSWORD = "not-the-password-0f3a"


@pytest.fixture(scope="module")
def secured_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredKafka]:
    root = tmp_path_factory.mktemp("secured-kafka")
    sasl_ssl_port, ssl_port, controller_port = distinct_free_ports(3)
    broker = SecuredKafka(
        home=root / "broker",
        libs_dir=shared_libs_dir(REPO),
        tls=make_certificates(root / "tls"),
        sasl_ssl_port=sasl_ssl_port,
        ssl_port=ssl_port,
        controller_port=controller_port,
    )
    broker.start()
    yield broker
    broker.stop()


def distinct_free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:  # a port just released may be handed out again
        ports.add(free_port())
    return sorted(ports)


# -- small TLS/SASL-capable clients ------------------------------------------------------------


async def topic_names(options: dict[str, Any]) -> set[str]:
    admin = AIOKafkaAdminClient(**options)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


def run_cli(deployment: Deployment, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """A ``parcelwatch`` command as its own process, on this deployment's topics."""
    full_env = {**deployment.env(deployment.root / "cli-data", free_port()), **env}
    return subprocess.run(
        [sys.executable, "-m", "parcelwatch.streams.cli", *args],
        env=full_env, cwd=REPO, capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip


# -- tests --------------------------------------------------------------------------------------


async def test_a_worker_over_sasl_ssl_creates_its_topics_and_raises_exactly_the_alert(
    deployment, workers, secured_kafka
):
    worker = deployment.start_worker(extra_env=secured_kafka.sasl_ssl_env())
    workers.append(worker)
    options = secured_kafka.sasl_ssl_options()
    assert set(deployment.topics.all) <= await topic_names(options)

    topics, tracking = deployment.topics, "TLS0000001"
    events = [
        (topics.orders, shifted(order(72, "o-tls", tracking_number=tracking))),
        (topics.carrier_scans, shifted(scan("picked_up", 1, "tls-1", tracking_number=tracking))),
        (
            topics.carrier_scans,
            shifted(scan("exception", 10, "tls-2", reason="damaged", tracking_number=tracking)),
        ),
    ]
    await produce(
        [(topic, tracking.encode(), encode(event)) for topic, event in events], client=options
    )

    alerts = await collect(topics.shipment_alerts, lambda values: len(values) >= 1, client=options)
    assert [(a["tracking_number"], a["kind"], a["source_event_id"]) for a in alerts] == [
        (tracking, "carrier_exception", "tls-2")
    ]
    assert worker.events_total("applied") == 3
    assert secured_kafka.password not in worker.log_path.read_text(errors="replace")


async def test_a_client_with_a_wrong_password_is_refused_by_authentication(secured_kafka, caplog):
    caplog.set_level(logging.ERROR, logger="aiokafka")
    with pytest.raises(KafkaConnectionError):
        await topic_names(secured_kafka.sasl_ssl_options(password=WRONG_PASSWORD))
    assert "SaslAuthenticationFailed" in caplog.text
    assert "invalid credentials" in caplog.text


def test_a_worker_with_a_wrong_password_stops_with_a_clear_error(deployment, secured_kafka):
    result = run_cli(deployment, secured_kafka.sasl_ssl_env(password=WRONG_PASSWORD), "worker")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output  # a message for the operator, not a crash
    assert "SaslAuthenticationFailed" in output
    assert (
        f"parcelwatch: cannot connect to Kafka at {secured_kafka.sasl_ssl_bootstrap} "
        "over SASL_SSL (SCRAM-SHA-512, user 'parcelwatch')"
    ) in output
    assert WRONG_PASSWORD not in output


async def test_the_cli_creates_topics_and_simulates_over_mutual_tls(deployment, secured_kafka):
    env = secured_kafka.mtls_env()
    topics_run = run_cli(deployment, env, "topics")
    assert topics_run.returncode == 0, topics_run.stderr
    options = secured_kafka.mtls_options()
    assert set(deployment.topics.all) <= await topic_names(options)

    simulate_run = run_cli(
        deployment, env, "simulate", "--shipments", "3", "--rate", "1000", "--seed", "7"
    )
    assert simulate_run.returncode == 0, simulate_run.stderr
    summary = re.fullmatch(r"produced (\d+) events\n", simulate_run.stdout)
    assert summary is not None, simulate_run.stdout
    produced = int(summary.group(1))
    inputs = [deployment.topics.orders, deployment.topics.carrier_scans]
    events = await collect(inputs, lambda values: len(values) >= produced, client=options)
    assert produced > 0
    assert len(events) == produced


async def test_the_mutual_tls_listener_refuses_a_client_without_a_certificate(secured_kafka):
    with pytest.raises(KafkaConnectionError):
        await topic_names(secured_kafka.mtls_options(with_client_certificate=False))
