"""A real single-node Apache Kafka (KRaft, broker+controller) for development, without Docker.

The official jars come from Maven Central through ``mvn dependency:copy-dependencies`` and run
on the machine's Java (17 or newer). Everything lives under one home directory::

    home/pom.xml             what Maven resolves (pinned Kafka version)
    home/libs/               the runtime jars
    home/data/               the KRaft log dirs (formatted once; meta.properties marks it)
    home/server.properties   rewritten on every start from the dataclass fields
    home/log4j.properties    Kafka's own logging, into home/kafka.log
    home/kafka.out           the JVM's stdout/stderr (normally empty)
    home/kafka.pid           pid of the detached broker
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import fcntl
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Coroutine, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KAFKA_VERSION = "3.9.2"
SCALA_VERSION = "2.13"
SLF4J_VERSION = "1.7.36"
MIN_JAVA_MAJOR = 17

_JAVA_HINT = (
    "install Java 17 or newer (e.g. `apt-get install openjdk-17-jre-headless`) "
    "or point JAVA_HOME at one"
)
_MAVEN_HINT = "install Maven (e.g. `apt-get install maven`)"
_MAVEN_TIMEOUT_S = 900.0
_JAVA_OPTS = ("-Xms256m", "-Xmx1g", "-Djava.awt.headless=true")


class KafkaLauncherError(RuntimeError):
    """The local Kafka broker could not be prepared, started, reached or stopped."""


@dataclass(frozen=True)
class LocalKafka:
    """A Kafka broker owned by this machine's user, started detached and found again by pid."""

    home: Path = Path(".parcelwatch/kafka")
    port: int = 9092
    controller_port: int = 9093
    host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        if self.port == self.controller_port:
            raise KafkaLauncherError(
                f"the broker port and the controller port must differ (both are {self.port})"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LocalKafka:
        """Honour PARCELWATCH_KAFKA_HOME, _KAFKA_PORT and _KAFKA_CONTROLLER_PORT."""
        env = os.environ if env is None else env
        defaults = cls()
        home = env.get("PARCELWATCH_KAFKA_HOME", "").strip()
        return cls(
            home=Path(home) if home else defaults.home,
            port=_port_from_env(env, "PARCELWATCH_KAFKA_PORT", defaults.port),
            controller_port=_port_from_env(
                env, "PARCELWATCH_KAFKA_CONTROLLER_PORT", defaults.controller_port
            ),
        )

    # -- layout ------------------------------------------------------------------------------

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def libs_dir(self) -> Path:
        return self.home / "libs"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def pid_path(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def log_path(self) -> Path:
        return self.home / "kafka.log"

    @property
    def out_path(self) -> Path:
        return self.home / "kafka.out"

    @property
    def server_properties_path(self) -> Path:
        return self.home / "server.properties"

    @property
    def log4j_path(self) -> Path:
        return self.home / "log4j.properties"

    @property
    def pom_path(self) -> Path:
        return self.home / "pom.xml"

    @property
    def kafka_jar(self) -> Path:
        """The jar whose presence means the pinned version's libs are complete."""
        return self.libs_dir / f"kafka_{SCALA_VERSION}-{KAFKA_VERSION}.jar"

    # -- rendered files ----------------------------------------------------------------------

    def render_server_properties(self) -> str:
        data_dir = self.data_dir.resolve()
        return "\n".join(
            [
                "# Written by parcelwatch (streams/localkafka.py) on every start; edits are lost.",
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@{self.host}:{self.controller_port}",
                f"listeners=PLAINTEXT://{self.host}:{self.port},"
                f"CONTROLLER://{self.host}:{self.controller_port}",
                f"advertised.listeners=PLAINTEXT://{self.host}:{self.port}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                f"log.dirs={data_dir}",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "num.partitions=4",
                "group.initial.rebalance.delay.ms=0",
                # parcelwatch creates its topics explicitly; an auto-created topic would be
                # invisible to an already-subscribed faust consumer and hide a setup bug.
                "auto.create.topics.enable=false",
                "",
            ]
        )

    def render_log4j_properties(self) -> str:
        log_path = self.log_path.resolve()
        return "\n".join(
            [
                "log4j.rootLogger=INFO, file",
                "log4j.appender.file=org.apache.log4j.RollingFileAppender",
                f"log4j.appender.file.File={log_path}",
                "log4j.appender.file.MaxFileSize=20MB",
                "log4j.appender.file.MaxBackupIndex=2",
                "log4j.appender.file.layout=org.apache.log4j.PatternLayout",
                "log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n",
                "log4j.logger.kafka.request.logger=WARN",
                "log4j.logger.org.apache.kafka.clients=WARN",
                "",
            ]
        )

    def render_pom(self) -> str:
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by parcelwatch (streams/localkafka.py): the jars of a local Kafka broker. -->
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.parcelwatch</groupId>
  <artifactId>parcelwatch-local-kafka</artifactId>
  <version>{KAFKA_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_{SCALA_VERSION}</artifactId>
      <version>{KAFKA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-reload4j</artifactId>
      <version>{SLF4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
"""

    # -- lifecycle ---------------------------------------------------------------------------

    def is_running(self) -> bool:
        """True when the broker from the pid file is alive and its port accepts connections."""
        return self._live_pid() is not None and _port_open(self.host, self.port)

    def up(self, timeout: float = 90.0) -> bool:
        """Start the broker unless it runs already; return True if this call started it.

        ``timeout`` bounds the wait for readiness; a first-time jar fetch is not counted.
        """
        with self._lock():
            pid = self._live_pid()
            if pid is not None:
                # Ours, alive: running, or still starting (a concurrent or interrupted ``up``).
                self.wait_ready(timeout)
                return False
            self.pid_path.unlink(missing_ok=True)
            java = find_java()
            self._check_ports_free()
            self._ensure_libs()
            self.server_properties_path.write_text(self.render_server_properties())
            self.log4j_path.write_text(self.render_log4j_properties())
            self._ensure_formatted(java)
            pid = self._spawn(java)
            self.pid_path.write_text(f"{pid}\n")
        try:
            self.wait_ready(timeout)
        except KafkaLauncherError:
            self.down()
            raise
        return True

    def ensure_libs(self) -> Path:
        """The folder of the runtime jars, fetched with Maven first if missing.

        Public for other brokers built from the same jars (the tests' secured broker).
        """
        with self._lock():
            self._ensure_libs()
        return self.libs_dir

    def down(self, timeout: float = 30.0) -> bool:
        """Stop the broker (SIGTERM, then SIGKILL after ``timeout``); False if none was running."""
        with self._lock():
            pid = self._live_pid()
            if pid is None:
                self.pid_path.unlink(missing_ok=True)
                return False
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            if not _wait_exit(pid, timeout):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                if not _wait_exit(pid, 10.0):
                    raise KafkaLauncherError(f"Kafka (pid {pid}) survived SIGKILL")
            self.pid_path.unlink(missing_ok=True)
            return True

    def wait_ready(self, timeout: float) -> None:
        """Block until the broker answers a metadata request listing itself, or raise."""
        deadline = time.monotonic() + timeout
        last_error = "the port never accepted a connection"
        while True:
            if self.pid_path.exists() and self._live_pid() is None:
                raise KafkaLauncherError(f"Kafka exited during start-up.\n{self._log_tail()}")
            if _port_open(self.host, self.port):
                try:
                    _run(_probe(self.bootstrap_servers, timeout_s=5.0))
                    return
                except Exception as exc:  # any failure just means "not ready yet"
                    last_error = f"{type(exc).__name__}: {exc}"
            if time.monotonic() >= deadline:
                raise KafkaLauncherError(
                    f"Kafka on {self.bootstrap_servers} was not ready after {timeout:.0f}s "
                    f"(last error: {last_error}).\n{self._log_tail()}"
                )
            time.sleep(0.5)

    # -- steps -------------------------------------------------------------------------------

    def _check_ports_free(self) -> None:
        if _port_open(self.host, self.port):
            try:
                _run(_probe(self.bootstrap_servers, timeout_s=5.0))
            except Exception:
                what = "another (non-Kafka) process"
            else:
                what = (
                    f"a Kafka broker not started from {self.home} (no live pid in {self.pid_path})"
                )
            raise KafkaLauncherError(
                f"port {self.bootstrap_servers} is already in use by {what}; stop it or choose "
                "other ports with PARCELWATCH_KAFKA_PORT / PARCELWATCH_KAFKA_CONTROLLER_PORT"
            )
        if _port_open(self.host, self.controller_port):
            raise KafkaLauncherError(
                f"controller port {self.host}:{self.controller_port} is already in use by another "
                "process; stop it or choose another with PARCELWATCH_KAFKA_CONTROLLER_PORT"
            )

    def _ensure_libs(self) -> None:
        if self.kafka_jar.is_file():
            return
        mvn = shutil.which("mvn")
        if mvn is None:
            raise KafkaLauncherError(
                f"Maven (`mvn`) is needed once to fetch the Kafka {KAFKA_VERSION} jars "
                f"into {self.libs_dir}; {_MAVEN_HINT}"
            )
        self.home.mkdir(parents=True, exist_ok=True)
        self.pom_path.write_text(self.render_pom())
        # Copy into a scratch dir and rename, so an interrupted fetch never looks complete.
        staging = self.home / "libs.partial"
        shutil.rmtree(staging, ignore_errors=True)
        command = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(self.pom_path),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging.resolve()}",
            "-DincludeScope=runtime",
        ]
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=_MAVEN_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise KafkaLauncherError(
                f"Maven did not fetch the Kafka jars within {_MAVEN_TIMEOUT_S:.0f}s"
            ) from None
        if result.returncode != 0 or not (staging / self.kafka_jar.name).is_file():
            output = (result.stdout + result.stderr).strip().splitlines()[-20:]
            raise KafkaLauncherError(
                f"Maven could not fetch org.apache.kafka:kafka_{SCALA_VERSION}:{KAFKA_VERSION} "
                f"(exit {result.returncode}):\n" + "\n".join(output)
            )
        shutil.rmtree(self.libs_dir, ignore_errors=True)
        staging.rename(self.libs_dir)

    def _ensure_formatted(self, java: str) -> None:
        if (self.data_dir / "meta.properties").is_file():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            *self._java_command(java),
            "kafka.tools.StorageTool",
            "format",
            "--ignore-formatted",
            "-t",
            new_cluster_id(),
            "-c",
            str(self.server_properties_path.resolve()),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise KafkaLauncherError(
                f"formatting Kafka storage in {self.data_dir} failed "
                f"(exit {result.returncode}):\n{(result.stdout + result.stderr).strip()}"
            )

    def _spawn(self, java: str) -> int:
        command = [
            *self._java_command(java),
            "kafka.Kafka",
            str(self.server_properties_path.resolve()),
        ]
        with open(self.out_path, "ab") as out:
            process = subprocess.Popen(
                command,
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                # Own session: a Ctrl-C in the parent's terminal must not reach the broker.
                start_new_session=True,
            )
        return process.pid

    def _java_command(self, java: str) -> list[str]:
        return [
            java,
            *_JAVA_OPTS,
            f"-Dlog4j.configuration=file:{self.log4j_path.resolve()}",
            "-cp",
            str(self.libs_dir.resolve() / "*"),
        ]

    def _live_pid(self) -> int | None:
        try:
            pid = int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _is_kafka_process(pid) else None

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise up/down on one home across processes (two CLIs racing to start)."""
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def _log_tail(self, lines: int = 30) -> str:
        parts = []
        for path in (self.log_path, self.out_path):
            try:
                tail = path.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            if tail:
                parts.append(f"--- last lines of {path} ---\n" + "\n".join(tail))
        return "\n".join(parts) or f"(no log in {self.log_path})"


# -- Java ------------------------------------------------------------------------------------


def find_java(env: Mapping[str, str] | None = None) -> str:
    """Return a Java >= 17 executable from JAVA_HOME or PATH, or raise KafkaLauncherError."""
    env = os.environ if env is None else env
    java_home = env.get("JAVA_HOME", "").strip()
    candidate = Path(java_home, "bin", "java") if java_home else None
    if candidate is not None and os.access(candidate, os.X_OK):
        java = str(candidate)
    else:
        found = shutil.which("java", path=env.get("PATH", os.defpath))
        if found is None:
            raise KafkaLauncherError(f"Java was not found on PATH or in JAVA_HOME; {_JAVA_HINT}")
        java = found
    try:
        result = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise KafkaLauncherError(f"could not run `{java} -version` ({exc}); {_JAVA_HINT}") from None
    major = parse_java_major(result.stderr + result.stdout)
    if major < MIN_JAVA_MAJOR:
        raise KafkaLauncherError(
            f"{java} is Java {major}, Kafka {KAFKA_VERSION} needs Java {MIN_JAVA_MAJOR} "
            f"or newer; {_JAVA_HINT}"
        )
    return java


_JAVA_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')


def parse_java_major(version_output: str) -> int:
    """The major version from ``java -version`` output ("1.8.0_392" is 8, "17.0.15" is 17)."""
    match = _JAVA_VERSION.search(version_output)
    if match is None:
        first_line = version_output.strip().splitlines()[:1]
        raise KafkaLauncherError(f"cannot tell the Java version from {first_line!r}; {_JAVA_HINT}")
    major = int(match.group(1))
    if major == 1 and match.group(2) is not None:  # pre-9 scheme: 1.<major>.0_<update>
        major = int(match.group(2))
    return major


# -- helpers ---------------------------------------------------------------------------------


def new_cluster_id() -> str:
    """A Kafka cluster id, made as ``kafka-storage random-uuid`` does, without starting a JVM."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):  # Kafka rejects ids that look like CLI flags
            return cluster_id


def _port_from_env(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise KafkaLauncherError(f"{name}={raw!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise KafkaLauncherError(f"{name}={port} is outside 1-65535")
    return port


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _is_kafka_process(pid: int) -> bool:
    """Alive and really our broker: a pid file can outlive its process and the pid be reused."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it if we started it and it died (else a zombie)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True  # no /proc to ask: trust the pid file
    if "\nState:\tZ" in status:
        return False
    # The cmdline reads empty for a moment while the java launcher starts up.
    return not cmdline or b"kafka.Kafka" in cmdline


def _wait_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _is_kafka_process(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)
    return True


async def _probe(bootstrap_servers: str, timeout_s: float) -> None:
    """Raise unless the broker answers a metadata request that lists at least one broker."""
    from aiokafka.admin import AIOKafkaAdminClient

    # A refused probe can leave aiokafka futures with unretrieved errors; this loop is ours
    # alone (see _run), so keep them from being printed when they are collected.
    asyncio.get_running_loop().set_exception_handler(lambda _loop, _context: None)
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            cluster = await admin.describe_cluster()
    finally:
        await admin.close()
    if not cluster.get("brokers"):
        raise KafkaLauncherError("the broker answered but lists no live broker yet")


def _run(coro: Coroutine[Any, Any, None]) -> None:
    """asyncio.run, also from inside a running loop (then in a helper thread)."""
    with quiet_aiokafka():
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(coro)
            return
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, coro).result()


@contextlib.contextmanager
def quiet_aiokafka() -> Iterator[None]:
    """aiokafka logs every refused connection at ERROR; while probing a broker, or while it
    restarts, those are expected."""
    logger = logging.getLogger("aiokafka")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)
