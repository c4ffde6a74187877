"""Structure checks for the Docker deploy files (no Docker engine is needed or used).

They catch what silently breaks a ``docker compose up``: a PARCELWATCH_* variable the code
never reads, a broker address Kafka does not advertise, a mount of a file that is not in the
repository, a dashboard query on a metric the worker does not export.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from parcelwatch.streams.devtools.localkafka import KAFKA_VERSION
from parcelwatch.streams.ingest.metrics import IngestMetrics
from parcelwatch.streams.ingest.settings import IngestSettings, secret_variable
from parcelwatch.streams.ingest.signatures import WEBHOOK_PLATFORMS
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.runtime.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "worker.Dockerfile"
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARD_METRICS = (
    "parcelwatch_events_total",
    "parcelwatch_dead_letters_total",
    "parcelwatch_alerts_total",
    "parcelwatch_processing_seconds_bucket",
    "parcelwatch_processing_seconds_sum",
    "parcelwatch_batch_size_bucket",
    "parcelwatch_batch_size_sum",
    "parcelwatch_notifications_total",
    "parcelwatch_timer_sweeps_total",
    "parcelwatch_checks_requested_total",
    "parcelwatch_feedback_flagged_total",
    "parcelwatch_feedback_topics_total",
    "parcelwatch_feedback_waiting",
    "parcelwatch_feedback_unmatched_total",
    "parcelwatch_pain_point_spikes_total",
    "parcelwatch_pain_point_windows_closed_total",
    "parcelwatch_pain_point_late_tallies_total",
    "parcelwatch_carrier_raw_messages_total",
    "parcelwatch_carrier_codes_unmapped_total",
    "parcelwatch_webhooks_total",
    "parcelwatch_webhook_seconds_bucket",
    "parcelwatch_model_live_roc_auc",
    "parcelwatch_model_heldout_roc_auc",
    "parcelwatch_model_live_brier",
    "parcelwatch_model_live_late_rate",
    "parcelwatch_model_live_outcomes",
    "parcelwatch_model_live_alert_precision",
    "parcelwatch_model_live_calibration_predicted",
    "parcelwatch_model_live_calibration_observed",
    "parcelwatch_model_outcomes_total",
    "parcelwatch_returns_total",
    "parcelwatch_deliveries_by_carrier_total",
    "parcelwatch_refund_seconds_bucket",
    "parcelwatch_refunds_open",
)


class _RecordingEnv(Mapping[str, str]):
    """An empty environment that remembers every variable name it was asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return default

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.asked.add(key)
        return False

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@pytest.fixture(scope="module")
def settings_env_names() -> set[str]:
    env = _RecordingEnv()
    IngestSettings.from_env(env)  # the worker's settings and the webhook receiver's
    return {name for name in env.asked if name.startswith("PARCELWATCH_")}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _env(service: dict[str, Any]) -> dict[str, str]:
    """The variables a service sets here; one without a value (passed on from the host's
    environment, as secrets are) is left out."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):  # the "KEY=value" form
        environment = dict(item.split("=", 1) for item in environment if "=" in item)
    return {key: str(value) for key, value in environment.items() if value is not None}


def _env_names(service: dict[str, Any]) -> set[str]:
    """Every variable a service names, with a value or passed on from the host."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return {item.split("=", 1)[0] for item in environment}
    return set(environment)


def _depends_on(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return {name: {"condition": "service_started"} for name in depends}
    return depends


def _volume_mounts(service: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(source, target) of each short-syntax volume entry."""
    for entry in service.get("volumes", []):
        source, target, *_ = entry.split(":")
        yield source, target


def _published_ports(service: dict[str, Any]) -> dict[int, int]:
    """{container port: host port} from "host_ip:host:container" or "host:container" entries."""
    published = {}
    for entry in service.get("ports", []):
        *_, host, container = str(entry).split(":")
        published[int(container.split("/")[0])] = int(host)
    return published


def _listeners(value: str) -> dict[str, tuple[str, int]]:
    """ "NAME://host:port,..." -> {NAME: (host, port)}."""
    result = {}
    for item in value.split(","):
        name, address = item.split("://")
        host, port = address.rsplit(":", 1)
        result[name] = (host, int(port))
    return result


# -- compose: services -------------------------------------------------------------------------


def test_expected_services(services: dict[str, Any]) -> None:
    assert {"kafka", "worker", "ingest", "simulator", "prometheus", "grafana"} <= services.keys()


def test_every_service_has_an_image_or_a_buildable_dockerfile(services: dict[str, Any]) -> None:
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        build = service.get("build")
        if build is None:
            continue
        context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile")
        assert (context / dockerfile).is_file(), f"{name}: {context / dockerfile} is missing"


# An exact release: a tag of dotted numbers ("3.9.2", "v2.53.0", "3.11.14-slim-bookworm"), or a
# digest. "latest", a bare name or a floating tag such as "3.11-slim" changes under a rebuild.
_PINNED_IMAGE = re.compile(
    r"[a-z0-9./_-]+(:v?\d+\.\d+\.\d+([-.][a-z0-9.-]+)?)?(@sha256:[0-9a-f]{64})?"
)


def is_pinned(image: str) -> bool:
    match = _PINNED_IMAGE.fullmatch(image)
    return match is not None and (match.group(1) is not None or match.group(3) is not None)


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("apache/kafka:3.9.2", True),
        ("prom/prometheus:v2.53.0", True),
        ("python:3.11.14-slim-bookworm", True),
        ("python:3.11.14-slim-bookworm@sha256:" + "a" * 64, True),
        ("python@sha256:" + "0" * 64, True),
        ("apache/kafka", False),
        ("apache/kafka:latest", False),
        ("python:3.11-slim", False),
        ("python:3-slim-bookworm", False),
        ("python:slim", False),
        ("grafana/grafana:11", False),
    ],
)
def test_pinned_image_recognises_exact_versions_only(image: str, pinned: bool) -> None:
    assert is_pinned(image) is pinned


def test_every_pulled_image_is_pinned(services: dict[str, Any]) -> None:
    for name, service in services.items():
        if "build" in service:
            continue  # built here from deploy/worker.Dockerfile, whose base is checked below
        assert is_pinned(service["image"]), f"{name}: {service['image']} is not an exact version"


def test_kafka_image_matches_the_local_launcher_version(services: dict[str, Any]) -> None:
    assert services["kafka"]["image"] == f"apache/kafka:{KAFKA_VERSION}"


def test_parcelwatch_env_vars_are_all_read_by_settings(
    services: dict[str, Any], settings_env_names: set[str]
) -> None:
    assert "PARCELWATCH_KAFKA_BROKER" in settings_env_names  # the recorder works
    assert "PARCELWATCH_WEBHOOK_SECRET_17TRACK" in settings_env_names
    for name, service in services.items():
        unknown = {
            key
            for key in _env_names(service)
            if key.startswith("PARCELWATCH_") and key not in settings_env_names
        }
        assert not unknown, f"{name} passes variables Settings.from_env never reads: {unknown}"


def test_parcelwatch_env_values_are_accepted_by_settings(services: dict[str, Any]) -> None:
    for name in ("worker", "simulator"):
        Settings.from_env(_env(services[name]))  # raises SettingsError on a bad value
    IngestSettings.from_env(_env(services["ingest"]))


def test_dockerfile_env_vars_are_read_by_settings(settings_env_names: set[str]) -> None:
    names = set(re.findall(r"\b(PARCELWATCH_[A-Z_]+)=", DOCKERFILE.read_text()))
    assert names
    assert names <= settings_env_names


def test_worker_and_simulator_use_the_listener_kafka_advertises_to_containers(
    services: dict[str, Any],
) -> None:
    kafka_env = _env(services["kafka"])
    advertised = _listeners(kafka_env["KAFKA_ADVERTISED_LISTENERS"])
    bound = _listeners(kafka_env["KAFKA_LISTENERS"])
    protocols = dict(
        item.split(":") for item in kafka_env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    kafka_names = {"kafka", services["kafka"].get("hostname", "kafka")}

    for name in ("worker", "ingest", "simulator"):
        settings = Settings.from_env(_env(services[name]))
        assert settings.broker.startswith("kafka://")
        host, port = settings.bootstrap_servers.rsplit(":", 1)
        matches = [
            listener for listener, address in advertised.items() if address == (host, int(port))
        ]
        assert matches, f"{name} uses {settings.bootstrap_servers}, not advertised: {advertised}"
        (listener,) = matches
        assert host in kafka_names
        assert bound[listener][1] == int(port)
        assert protocols[listener] == settings.security.protocol == "PLAINTEXT"


def test_kafka_is_kraft_single_node_without_auto_create(services: dict[str, Any]) -> None:
    kafka = services["kafka"]
    env = _env(kafka)
    bound = _listeners(env["KAFKA_LISTENERS"])
    advertised = _listeners(env["KAFKA_ADVERTISED_LISTENERS"])

    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert controller in bound and controller not in advertised
    node_id, voter = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split("@")
    assert node_id == env["KAFKA_NODE_ID"]
    assert int(voter.rsplit(":", 1)[1]) == bound[controller][1]
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] in advertised
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    ):
        assert env[key] == "1", key


def test_kafka_data_is_on_a_named_volume(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    mounts = {target: source for source, target in _volume_mounts(kafka)}
    assert mounts[_env(kafka)["KAFKA_LOG_DIRS"]] in compose["volumes"]


def test_kafka_host_listener_is_published_and_health_checked(services: dict[str, Any]) -> None:
    kafka = services["kafka"]
    env = _env(kafka)
    advertised = _listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    host_listeners = [
        n for n, (host, _) in advertised.items() if host in ("localhost", "127.0.0.1")
    ]
    assert len(host_listeners) == 1
    host_port = advertised[host_listeners[0]][1]
    bound_port = _listeners(env["KAFKA_LISTENERS"])[host_listeners[0]][1]
    assert _published_ports(kafka)[bound_port] == host_port

    test = kafka["healthcheck"]["test"]
    command = test[1] if test[0] == "CMD-SHELL" else shlex.join(test[1:])
    assert "kafka-broker-api-versions.sh" in command
    match = re.search(r"--bootstrap-server\s+(\S+)", command)
    assert match is not None
    assert int(match.group(1).rsplit(":", 1)[1]) in {
        port for _, port in _listeners(env["KAFKA_LISTENERS"]).values()
    }


def test_depends_on_targets_exist_and_are_health_checked(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for target, options in _depends_on(service).items():
            assert target in services, f"{name} depends on unknown service {target}"
            if options.get("condition") == "service_healthy":
                assert "healthcheck" in services[target], f"{target} has no healthcheck"
    assert _depends_on(services["worker"])["kafka"]["condition"] == "service_healthy"


def test_volumes_exist(compose: dict[str, Any]) -> None:
    named = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for source, _target in _volume_mounts(service):
            if source.startswith((".", "/")):
                assert (ROOT / source).resolve().exists(), f"{name} mounts missing {source}"
                assert (ROOT / source).resolve().is_relative_to(ROOT), source
            else:
                assert source in named, f"{name} uses undeclared volume {source}"


def test_worker_service(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    settings = Settings.from_env(_env(worker))
    assert settings.web_host == "0.0.0.0"
    assert str(settings.data_dir) == "/var/lib/parcelwatch"
    assert settings.web_port in _published_ports(worker)
    mounts = {target: source for source, target in _volume_mounts(worker)}
    assert mounts[str(settings.data_dir)] in compose["volumes"]
    assert f":{settings.web_port}/readyz" in " ".join(worker["healthcheck"]["test"])
    # Static membership stalled a restarted worker with faust-streaming 0.15 (see README).
    assert "PARCELWATCH_INSTANCE_ID" not in worker["environment"]


def test_simulator_is_an_opt_in_demo(services: dict[str, Any]) -> None:
    simulator = services["simulator"]
    worker = services["worker"]
    assert simulator["profiles"] == ["demo"]
    assert simulator["command"] == ["simulate", "--rate", "20"]
    assert (simulator.get("image"), simulator.get("build")) == (
        worker.get("image"),
        worker.get("build"),
    )


def test_ingest_service(services: dict[str, Any]) -> None:
    ingest, worker = services["ingest"], services["worker"]
    assert ingest["command"] == ["ingest"]
    assert (ingest.get("image"), ingest.get("build")) == (worker.get("image"), worker.get("build"))
    # the worker creates carrier-raw (broker auto-creation is off)
    assert _depends_on(ingest)["worker"]["condition"] == "service_healthy"
    settings = IngestSettings.from_env(_env(ingest))
    assert settings.host == "0.0.0.0"
    assert settings.port in _published_ports(ingest)
    assert all(entry.startswith("127.0.0.1:") for entry in ingest["ports"])
    assert f":{settings.port}/healthz" in " ".join(ingest["healthcheck"]["test"])
    # every platform's secret is passed on from the host, none is written in the file
    secrets = {secret_variable(platform) for platform in WEBHOOK_PLATFORMS}
    assert secrets <= ingest["environment"].keys()
    assert all(ingest["environment"][name] is None for name in secrets)
    assert settings.secrets == {}
    assert str(settings.port) in _dockerfile_values()["EXPOSE"].split()


def test_service_commands_are_valid_cli_invocations(services: dict[str, Any]) -> None:
    from parcelwatch.streams.cli import _parser

    for name in ("worker", "ingest", "simulator"):
        args = _parser().parse_args(services[name]["command"])
        assert args.command == services[name]["command"][0]


# -- worker image ------------------------------------------------------------------------------


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def _dockerfile_values() -> dict[str, str]:
    return {keyword: rest for keyword, rest in _dockerfile_instructions()}  # last one wins


def test_dockerfile_runs_parcelwatch_as_non_root() -> None:
    instructions = _dockerfile_instructions()
    values = _dockerfile_values()

    assert instructions[0][0] == "FROM"
    assert re.fullmatch(
        r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", instructions[0][1]
    )
    assert json.loads(values["ENTRYPOINT"]) == ["parcelwatch"]
    assert json.loads(values["CMD"]) == ["worker"]
    user = values["USER"].split(":")[0]
    assert user not in ("root", "0")
    assert "6066" in values["EXPOSE"].split()
    assert "/var/lib/parcelwatch" in json.loads(values["VOLUME"])
    assert "PARCELWATCH_DATA_DIR=/var/lib/parcelwatch" in values["ENV"]
    assert any(k == "RUN" and "pip install" in v for k, v in instructions)


def test_dockerfile_base_image_is_pinned() -> None:
    bases = [rest.split()[0] for keyword, rest in _dockerfile_instructions() if keyword == "FROM"]
    assert bases
    assert all(is_pinned(base) for base in bases), bases


def test_entrypoint_is_the_projects_console_script() -> None:
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "parcelwatch" in scripts


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    patterns = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".parcelwatch", ".git"} <= patterns
    assert any("__pycache__" in pattern for pattern in patterns)


# -- prometheus --------------------------------------------------------------------------------


def _scrape_targets(path: Path) -> list[tuple[str, str]]:
    config = yaml.safe_load(path.read_text())
    return [
        (job.get("metrics_path", "/metrics"), target)
        for job in config["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    ]


def test_compose_prometheus_scrapes_the_worker_service(services: dict[str, Any]) -> None:
    mounts = {target: source for source, target in _volume_mounts(services["prometheus"])}
    config_path = ROOT / mounts["/etc/prometheus/prometheus.yml"]
    assert config_path == ROOT / "deploy" / "prometheus" / "prometheus.yml"
    port = Settings.from_env(_env(services["worker"])).web_port
    assert ("/metrics", f"worker:{port}") in _scrape_targets(config_path)


def test_compose_prometheus_scrapes_the_ingest_service(services: dict[str, Any]) -> None:
    mounts = {target: source for source, target in _volume_mounts(services["prometheus"])}
    port = IngestSettings.from_env(_env(services["ingest"])).port
    targets = _scrape_targets(ROOT / mounts["/etc/prometheus/prometheus.yml"])
    assert ("/metrics", f"ingest:{port}") in targets
    registry = CollectorRegistry()
    IngestMetrics(registry)
    assert {family.name for family in registry.collect()} == {
        "parcelwatch_webhooks",
        "parcelwatch_webhook_seconds",
    }


def test_local_prometheus_scrapes_a_worker_on_the_host() -> None:
    port = Settings().web_port
    path = ROOT / "deploy" / "prometheus" / "prometheus.local.yml"
    assert _scrape_targets(path) == [("/metrics", f"127.0.0.1:{port}")]


# -- grafana -----------------------------------------------------------------------------------


def _dashboard() -> dict[str, Any]:
    return json.loads((GRAFANA / "dashboards" / "parcelwatch.json").read_text())


def _exported_sample_names() -> set[str]:
    """What the worker's and the webhook receiver's /metrics can expose, derived from their
    metrics modules themselves (Prometheus scrapes both)."""
    registry = CollectorRegistry()
    WorkerMetrics(registry)
    IngestMetrics(registry)
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
    return {
        family.name + suffix
        for family in registry.collect()
        for suffix in suffixes.get(family.type, ("",))
    }


def test_grafana_datasource_points_at_the_prometheus_service(services: dict[str, Any]) -> None:
    config = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    (datasource,) = config["datasources"]
    assert datasource["type"] == "prometheus"
    host, port = datasource["url"].removeprefix("http://").split(":")
    assert host in services
    assert int(port) in _published_ports(services[host])  # the container port
    for panel in _dashboard()["panels"]:
        assert panel["datasource"]["uid"] == datasource["uid"], panel["title"]


def test_grafana_provisions_the_mounted_dashboards(services: dict[str, Any]) -> None:
    mounts = {source: target for source, target in _volume_mounts(services["grafana"])}
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    config = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "parcelwatch.yml").read_text()
    )
    (provider,) = config["providers"]
    assert provider["options"]["path"] == mounts["./deploy/grafana/dashboards"]


def test_dashboard_queries_use_exported_metrics() -> None:
    exported = _exported_sample_names()
    assert set(DASHBOARD_METRICS) <= exported  # the names the brief promises exist in code
    exprs = [target["expr"] for panel in _dashboard()["panels"] for target in panel["targets"]]
    assert exprs
    for expr in exprs:
        used = set(re.findall(r"\bparcelwatch_[a-z_]+\b", expr))
        assert used, expr
        assert used <= set(DASHBOARD_METRICS), expr
    for metric in DASHBOARD_METRICS:
        assert any(metric in expr for expr in exprs), f"no panel shows {metric}"
    assert any(
        expr.startswith("histogram_quantile(0.99,")
        and "parcelwatch_processing_seconds_bucket" in expr
        for expr in exprs
    )


def test_dashboard_compares_live_model_quality_with_the_held_out_figure() -> None:
    panels = {panel["id"]: panel for panel in _dashboard()["panels"]}
    by_expr = {
        target["expr"]: panel for panel in panels.values() for target in panel.get("targets", [])
    }
    roc = by_expr["max by (model_version, moment) (parcelwatch_model_live_roc_auc)"]
    assert any("parcelwatch_model_heldout_roc_auc" in t["expr"] for t in roc["targets"])
    calibration = next(p for p in panels.values() if "calibration_observed" in str(p["targets"]))
    assert calibration["options"]["xField"] == "risk_band"
    assert any("calibration_predicted" in t["expr"] for t in calibration["targets"])
    variables = {variable["name"] for variable in _dashboard()["templating"]["list"]}
    assert {"model_version", "moment"} <= variables
    for target in calibration["targets"]:
        assert 'model_version="$model_version"' in target["expr"]
