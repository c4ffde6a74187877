"""A second, secured Kafka broker for the TLS/SASL tests, next to the shared plaintext one.

Same jars as ``parcelwatch kafka up`` (``LocalKafka.ensure_libs``), its own home, ports and
process, owned by a test fixture. Two client-facing listeners:

- ``SASL_SSL``: TLS plus SCRAM-SHA-512; the user is written into the metadata log when the
  storage is formatted (``kafka-storage format --add-scram``), so no running broker is needed
  to create it.
- ``SSL``: mutual TLS, a client certificate signed by the test CA is required.

The controller listener stays PLAINTEXT on loopback. No authorizer: authenticated is allowed.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.helpers import create_ssl_context

from parcelwatch.streams.devtools.localkafka import LocalKafka, find_java, new_cluster_id
from tests.integration.certificates import TlsFiles

SCRAM_MECHANISM = "SCRAM-SHA-512"
# The machine (2 cores) is shared with the plaintext broker and the workers under test: a small
# heap, the serial collector and the C1 compiler only (starts faster, a test needs no peak speed).
_JAVA_OPTS = (
    "-Xms64m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Djava.awt.headless=true",
)


class SecuredBrokerError(RuntimeError):
    """The secured broker could not be formatted or started."""


@dataclass
class SecuredKafka:
    home: Path
    libs_dir: Path
    tls: TlsFiles
    sasl_ssl_port: int
    ssl_port: int
    controller_port: int
    username: str = "parcelwatch"
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18), repr=False)
    host: str = "127.0.0.1"
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def sasl_ssl_bootstrap(self) -> str:
        return f"{self.host}:{self.sasl_ssl_port}"

    @property
    def ssl_bootstrap(self) -> str:
        return f"{self.host}:{self.ssl_port}"

    @property
    def log_path(self) -> Path:
        return self.home / "kafka.log"

    def render_server_properties(self) -> str:
        sasl_ssl = f"SASL_SSL://{self.host}:{self.sasl_ssl_port}"
        mtls = f"SSL://{self.host}:{self.ssl_port}"
        return "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@{self.host}:{self.controller_port}",
                f"listeners={sasl_ssl},{mtls},CONTROLLER://{self.host}:{self.controller_port}",
                f"advertised.listeners={sasl_ssl},{mtls}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=SASL_SSL:SASL_SSL,SSL:SSL,CONTROLLER:PLAINTEXT",
                # One node has no replicas to fetch; the setting must still name a listener.
                "inter.broker.listener.name=SSL",
                f"sasl.enabled.mechanisms={SCRAM_MECHANISM}",
                f"listener.name.sasl_ssl.{SCRAM_MECHANISM.lower()}.sasl.jaas.config="
                "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                "listener.name.ssl.ssl.client.auth=required",
                "ssl.keystore.type=PEM",
                f"ssl.keystore.location={self.tls.broker_keystore.resolve()}",
                "ssl.truststore.type=PEM",
                f"ssl.truststore.location={self.tls.ca_cert.resolve()}",
                f"log.dirs={(self.home / 'data').resolve()}",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false",
                "",
            ]
        )

    def render_log4j_properties(self) -> str:
        return "\n".join(
            [
                "log4j.rootLogger=INFO, file",
                "log4j.appender.file=org.apache.log4j.FileAppender",
                f"log4j.appender.file.File={self.log_path.resolve()}",
                "log4j.appender.file.layout=org.apache.log4j.PatternLayout",
                "log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n",
                "log4j.logger.kafka.request.logger=WARN",
                "",
            ]
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout: float = 90.0) -> None:
        java = find_java()
        self.home.mkdir(parents=True, exist_ok=True)
        properties = self.home / "server.properties"
        properties.write_text(self.render_server_properties())
        (self.home / "log4j.properties").write_text(self.render_log4j_properties())
        self._format(java, properties)
        with open(self.home / "kafka.out", "ab") as out:
            self.process = subprocess.Popen(
                [*self._java_command(java), "kafka.Kafka", str(properties.resolve())],
                cwd=self.home, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 30.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def _format(self, java: str, properties: Path) -> None:
        scram_user = f"{SCRAM_MECHANISM}=[name={self.username},password={self.password}]"
        command = [
            *self._java_command(java), "kafka.tools.StorageTool", "format",
            "--cluster-id", new_cluster_id(), "--config", str(properties.resolve()),
            "--add-scram", scram_user,
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            output = (result.stdout + result.stderr).replace(self.password, "***").strip()
            raise SecuredBrokerError(
                f"kafka-storage format failed ({result.returncode}):\n{output}"
            )

    def _java_command(self, java: str) -> list[str]:
        log4j = (self.home / "log4j.properties").resolve()
        return [
            java,
            *_JAVA_OPTS,
            f"-Dlog4j.configuration=file:{log4j}",
            "-cp",
            f"{self.libs_dir.resolve()}/*",
        ]

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise SecuredBrokerError(f"the secured broker exited early:\n{self.log_tail()}")
            if _port_open(self.host, self.sasl_ssl_port):  # probing earlier only logs noise
                try:
                    asyncio.run(asyncio.wait_for(self._probe(), 10))
                    return
                except Exception as error:  # not up yet
                    last_error = f"{type(error).__name__}: {error}"
            time.sleep(0.5)
        raise SecuredBrokerError(
            f"the secured broker was not ready in {timeout:g} s ({last_error}):\n{self.log_tail()}"
        )

    async def _probe(self) -> None:
        admin = AIOKafkaAdminClient(**self.sasl_ssl_options(), request_timeout_ms=5000)
        await admin.start()
        try:
            await admin.list_topics()
        finally:
            await admin.close()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return f"(no log at {self.log_path})"

    # -- what clients need -------------------------------------------------------------------

    def sasl_ssl_options(self, password: str | None = None) -> dict[str, Any]:
        """aiokafka keyword arguments for the SASL_SSL listener (another ``password`` to fail)."""
        return {
            "bootstrap_servers": self.sasl_ssl_bootstrap,
            "security_protocol": "SASL_SSL",
            "ssl_context": create_ssl_context(cafile=str(self.tls.ca_cert)),
            "sasl_mechanism": SCRAM_MECHANISM,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password if password is None else password,
        }

    def mtls_options(self, *, with_client_certificate: bool = True) -> dict[str, Any]:
        """aiokafka keyword arguments for the mutual-TLS listener."""
        context: ssl.SSLContext = create_ssl_context(
            cafile=str(self.tls.ca_cert),
            certfile=str(self.tls.client_cert) if with_client_certificate else None,
            keyfile=str(self.tls.client_key) if with_client_certificate else None,
        )
        return {
            "bootstrap_servers": self.ssl_bootstrap,
            "security_protocol": "SSL",
            "ssl_context": context,
        }

    def sasl_ssl_env(self, password: str | None = None) -> dict[str, str]:
        """PARCELWATCH_* settings for a parcelwatch process on the SASL_SSL listener."""
        return {
            "PARCELWATCH_KAFKA_BROKER": f"kafka://{self.sasl_ssl_bootstrap}",
            "PARCELWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "PARCELWATCH_KAFKA_SASL_MECHANISM": SCRAM_MECHANISM,
            "PARCELWATCH_KAFKA_SASL_USERNAME": self.username,
            "PARCELWATCH_KAFKA_SASL_PASSWORD": self.password if password is None else password,
            "PARCELWATCH_KAFKA_SSL_CAFILE": str(self.tls.ca_cert),
        }

    def mtls_env(self) -> dict[str, str]:
        """PARCELWATCH_* settings for a parcelwatch process on the mutual-TLS listener."""
        return {
            "PARCELWATCH_KAFKA_BROKER": f"kafka://{self.ssl_bootstrap}",
            "PARCELWATCH_KAFKA_SECURITY_PROTOCOL": "SSL",
            "PARCELWATCH_KAFKA_SSL_CAFILE": str(self.tls.ca_cert),
            "PARCELWATCH_KAFKA_SSL_CERTFILE": str(self.tls.client_cert),
            "PARCELWATCH_KAFKA_SSL_KEYFILE": str(self.tls.client_key),
        }


def shared_libs_dir(repo: Path) -> Path:
    """The jars of ``parcelwatch kafka up`` (fetched by Maven if this checkout has none yet)."""
    broker = LocalKafka.from_env()
    home = broker.home if broker.home.is_absolute() else repo / broker.home
    return LocalKafka(
        home=home, port=broker.port, controller_port=broker.controller_port
    ).ensure_libs()


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False
