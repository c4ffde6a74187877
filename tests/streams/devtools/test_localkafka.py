"""Unit tests for the local Kafka launcher; none of them starts a JVM or a broker."""

from __future__ import annotations

import base64
import shlex
import socket
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from parcelwatch.streams.devtools.localkafka import (
    KAFKA_VERSION,
    SCALA_VERSION,
    KafkaLauncherError,
    LocalKafka,
    find_java,
    new_cluster_id,
    parse_java_major,
)

JAVA_17 = """openjdk version "17.0.15" 2025-04-15
OpenJDK Runtime Environment (build 17.0.15+6-Debian-1deb12u1)
OpenJDK 64-Bit Server VM (build 17.0.15+6-Debian-1deb12u1, mixed mode, sharing)
"""
JAVA_21 = """openjdk version "21.0.4" 2024-07-16 LTS
OpenJDK Runtime Environment Temurin-21.0.4+7 (build 21.0.4+7-LTS)
OpenJDK 64-Bit Server VM Temurin-21.0.4+7 (build 21.0.4+7-LTS, mixed mode, sharing)
"""
JAVA_22_EA = 'openjdk version "22-ea" 2024-03-19\n'
JAVA_11 = """openjdk version "11.0.24" 2024-07-16
OpenJDK Runtime Environment (build 11.0.24+8-post-Debian-2deb11u1)
"""
JAVA_8 = """java version "1.8.0_392"
Java(TM) SE Runtime Environment (build 1.8.0_392-b08)
"""


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and line[0] != "#")
    return {key: value for key, value in pairs}


def _fake_java(directory: Path, version_output: str) -> Path:
    """An executable `java` that prints the given text to stderr, as `java -version` does."""
    directory.mkdir(parents=True, exist_ok=True)
    java = directory / "java"
    # Only shell builtins: the tests run it with PATH pointing at nothing else.
    java.write_text(f"#!/bin/sh\nprintf '%s' {shlex.quote(version_output)} >&2\n")
    java.chmod(0o755)
    return java


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def no_java(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("JAVA_HOME", str(empty))


@pytest.fixture
def java17_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A fake Java 17 on PATH and nothing else (so no mvn either)."""
    bin_dir = tmp_path / "jdk" / "bin"
    _fake_java(bin_dir, JAVA_17)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("JAVA_HOME", raising=False)


@pytest.fixture
def kafka(tmp_path: Path) -> LocalKafka:
    return LocalKafka(home=tmp_path / "kafka", port=_free_port(), controller_port=_free_port())


# -- rendered files ----------------------------------------------------------------------------


def test_server_properties_use_ports_paths_and_kraft(tmp_path: Path) -> None:
    kafka = LocalKafka(home=tmp_path / "k", port=29092, controller_port=29093)
    props = _properties(kafka.render_server_properties())

    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "1"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:29093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:29092"
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["log.dirs"] == str((tmp_path / "k" / "data").resolve())
    assert props["auto.create.topics.enable"] == "false"
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.replication.factor"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"
    assert props["group.initial.rebalance.delay.ms"] == "0"


def test_relative_home_renders_absolute_paths(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    kafka = LocalKafka()  # home=.parcelwatch/kafka, relative to the working directory
    assert _properties(kafka.render_server_properties())["log.dirs"] == str(
        tmp_path / ".parcelwatch" / "kafka" / "data"
    )
    log4j = _properties(kafka.render_log4j_properties())
    assert log4j["log4j.appender.file.File"] == str(tmp_path / ".parcelwatch/kafka/kafka.log")


def test_pom_pins_kafka_and_slf4j_binding(tmp_path: Path) -> None:
    pom = ET.fromstring(LocalKafka(home=tmp_path).render_pom())
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}

    assert pom.findtext("m:packaging", namespaces=ns) == "pom"
    deps = {
        (d.findtext("m:groupId", namespaces=ns), d.findtext("m:artifactId", namespaces=ns)): (
            d.findtext("m:version", namespaces=ns)
        )
        for d in pom.iterfind("m:dependencies/m:dependency", ns)
    }
    assert deps[("org.apache.kafka", f"kafka_{SCALA_VERSION}")] == KAFKA_VERSION
    assert deps[("org.slf4j", "slf4j-reload4j")] == "1.7.36"
    assert KAFKA_VERSION == "3.9.2"


def test_layout_and_bootstrap_servers(tmp_path: Path) -> None:
    kafka = LocalKafka(home=tmp_path, port=29092, controller_port=29093)
    assert kafka.bootstrap_servers == "127.0.0.1:29092"
    assert kafka.kafka_jar == tmp_path / "libs" / f"kafka_{SCALA_VERSION}-{KAFKA_VERSION}.jar"
    assert kafka.pid_path.parent == kafka.log_path.parent == tmp_path


def test_same_port_for_broker_and_controller_is_rejected() -> None:
    with pytest.raises(KafkaLauncherError, match="must differ"):
        LocalKafka(port=9092, controller_port=9092)


# -- Java --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "major"),
    [(JAVA_17, 17), (JAVA_21, 21), (JAVA_22_EA, 22), (JAVA_11, 11), (JAVA_8, 8)],
)
def test_parse_java_major(output: str, major: int) -> None:
    assert parse_java_major(output) == major


def test_parse_java_major_rejects_garbage() -> None:
    with pytest.raises(KafkaLauncherError, match="cannot tell the Java version"):
        parse_java_major("bash: java: command not found")


@pytest.mark.parametrize("output", [JAVA_17, JAVA_21])
def test_find_java_accepts_17_and_newer(
    output: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    java = _fake_java(tmp_path / "jdk" / "bin", output)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    assert find_java() == str(java)


@pytest.mark.parametrize(("output", "major"), [(JAVA_11, 11), (JAVA_8, 8)])
def test_find_java_rejects_old_java(
    output: str, major: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _fake_java(tmp_path / "jdk" / "bin", output)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    with pytest.raises(KafkaLauncherError, match=f"is Java {major},.*needs Java 17") as info:
        find_java()
    assert "apt-get install openjdk-17-jre-headless" in str(info.value)


def test_find_java_prefers_java_home_over_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _fake_java(tmp_path / "on-path", JAVA_11)
    home_java = _fake_java(tmp_path / "jdk" / "bin", JAVA_21)
    monkeypatch.setenv("PATH", str(tmp_path / "on-path"))
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    assert find_java() == str(home_java)


def test_find_java_falls_back_to_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path_java = _fake_java(tmp_path / "on-path", JAVA_17)
    monkeypatch.setenv("PATH", str(tmp_path / "on-path"))
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "not-a-jdk"))
    assert find_java() == str(path_java)


@pytest.mark.usefixtures("no_java")
def test_missing_java_is_a_clear_error() -> None:
    with pytest.raises(KafkaLauncherError, match="Java was not found") as info:
        find_java()
    assert "apt-get install openjdk-17-jre-headless" in str(info.value)


@pytest.mark.usefixtures("no_java")
def test_up_without_java_fails_before_touching_anything(kafka: LocalKafka) -> None:
    with pytest.raises(KafkaLauncherError, match="Java was not found"):
        kafka.up(timeout=1)
    assert not kafka.pid_path.exists()
    assert not kafka.libs_dir.exists()


@pytest.mark.usefixtures("java17_only")
def test_up_without_maven_explains_how_to_get_it(kafka: LocalKafka) -> None:
    with pytest.raises(KafkaLauncherError, match=r"Maven \(`mvn`\).*apt-get install maven"):
        kafka.up(timeout=1)
    assert not kafka.pid_path.exists()


# -- ports and processes -----------------------------------------------------------------------


@pytest.fixture
def rude_listener() -> Iterator[int]:
    """A non-Kafka server on a free port: accepts connections and hangs up at once."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


@pytest.mark.usefixtures("java17_only")
def test_up_refuses_a_port_held_by_another_process(tmp_path: Path, rude_listener: int) -> None:
    kafka = LocalKafka(home=tmp_path / "k", port=rude_listener, controller_port=_free_port())
    with pytest.raises(KafkaLauncherError, match=f"{rude_listener} is already in use by another"):
        kafka.up(timeout=1)
    assert not kafka.pid_path.exists()


def test_wait_ready_times_out_with_log_tail(kafka: LocalKafka) -> None:
    kafka.home.mkdir(parents=True)
    kafka.log_path.write_text("INFO starting\nERROR something broke\n")
    with pytest.raises(KafkaLauncherError, match="not ready after") as info:
        kafka.wait_ready(timeout=0.5)
    assert "ERROR something broke" in str(info.value)
    assert str(kafka.log_path) in str(info.value)


def test_down_and_is_running_without_a_broker(kafka: LocalKafka) -> None:
    assert kafka.is_running() is False
    assert kafka.down() is False


def test_stale_pid_file_is_ignored_and_removed(kafka: LocalKafka) -> None:
    kafka.home.mkdir(parents=True)
    kafka.pid_path.write_text("1\n")  # pid 1 exists, but it is not a Kafka broker
    assert kafka.is_running() is False
    assert kafka.down() is False
    assert not kafka.pid_path.exists()


# -- misc --------------------------------------------------------------------------------------


def test_from_env_defaults() -> None:
    kafka = LocalKafka.from_env({})
    assert kafka == LocalKafka()
    assert (kafka.home, kafka.port, kafka.controller_port) == (
        Path(".parcelwatch/kafka"),
        9092,
        9093,
    )


def test_from_env_overrides() -> None:
    kafka = LocalKafka.from_env(
        {
            "PARCELWATCH_KAFKA_HOME": "/tmp/elsewhere",
            "PARCELWATCH_KAFKA_PORT": "29092",
            "PARCELWATCH_KAFKA_CONTROLLER_PORT": " 29093 ",
        }
    )
    assert kafka.home == Path("/tmp/elsewhere")
    assert kafka.bootstrap_servers == "127.0.0.1:29092"
    assert kafka.controller_port == 29093


def test_from_env_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARCELWATCH_KAFKA_PORT", "39092")
    assert LocalKafka.from_env().port == 39092


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PARCELWATCH_KAFKA_PORT": "ninety"}, "not a port number"),
        ({"PARCELWATCH_KAFKA_PORT": "70000"}, "outside 1-65535"),
        ({"PARCELWATCH_KAFKA_CONTROLLER_PORT": "9092"}, "must differ"),
    ],
)
def test_from_env_rejects_bad_ports(env: dict[str, str], message: str) -> None:
    with pytest.raises(KafkaLauncherError, match=message):
        LocalKafka.from_env(env)


def test_new_cluster_id_looks_like_kafkas() -> None:
    for _ in range(200):
        cluster_id = new_cluster_id()
        assert len(cluster_id) == 22
        assert not cluster_id.startswith("-")
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
