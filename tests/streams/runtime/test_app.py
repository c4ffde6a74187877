"""The Faust app built from Settings: what it exposes, and where."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from parcelwatch.streams.runtime.app import create_app
from parcelwatch.streams.runtime.settings import Settings


@pytest.mark.parametrize("host", ["127.0.0.1", "10.20.30.40", "0.0.0.0"])
def test_the_web_server_binds_to_the_configured_host(host: str, tmp_path) -> None:
    app = create_app(
        Settings(web_host=host, web_port=6077, data_dir=tmp_path), registry=CollectorRegistry()
    ).faust
    assert app.conf.web_bind == host  # Faust would otherwise listen on 0.0.0.0
    assert app.conf.web_port == 6077


def test_recovery_settings_reach_the_consumer(tmp_path) -> None:
    app = create_app(
        Settings(
            data_dir=tmp_path,
            instance_id="worker-7",
            session_timeout_seconds=12,
            standby_replicas=2,
        ),
        registry=CollectorRegistry(),
    ).faust
    assert app.conf.consumer_group_instance_id == "worker-7"  # static membership
    assert app.conf.broker_session_timeout == 12  # Faust's default is 60 s
    assert app.conf.broker_heartbeat_interval == 4
    assert app.conf.table_standby_replicas == 2


def test_the_pain_point_agent_table_and_timer_are_registered(tmp_path) -> None:
    app = create_app(Settings(data_dir=tmp_path), registry=CollectorRegistry()).faust
    assert "pain_point_windows" in app.tables
    (agent,) = [a for name, a in app.agents.items() if name.endswith("count_pain_points")]
    assert {topic for channel in [agent.channel] for topic in channel.topics} == {
        "feedback-tallies"
    }
    assert agent.concurrency == 1


def test_the_carrier_raw_agent_reads_carrier_raw_without_a_table(tmp_path) -> None:
    app = create_app(
        Settings(data_dir=tmp_path, topic_prefix="p."), registry=CollectorRegistry()
    ).faust
    (agent,) = [a for name, a in app.agents.items() if name.endswith("normalize_carrier_raw")]
    assert set(agent.channel.topics) == {"p.carrier-raw"}
    assert agent.concurrency == 1
    assert set(app.tables) == {  # it keeps no state
        "shipments",
        "pain_point_windows",
        "model_quality_windows",
    }


def test_the_model_monitoring_agent_and_table_are_registered(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, topic_prefix="p.")
    app = create_app(settings, registry=CollectorRegistry()).faust
    assert "model_quality_windows" in app.tables
    (agent,) = [a for name, a in app.agents.items() if name.endswith("watch_model_quality")]
    assert set(agent.channel.topics) == {"p.model-outcomes"}
    assert agent.concurrency == 1


def test_table_routing_partitions_the_input_keys_bytes(tmp_path) -> None:
    """Tables are partitioned like their inputs (raw UTF-8 keys), not by the changelog's quoted
    JSON keys: the lookup API's table routing must find the same partition as the producers."""
    app = create_app(Settings(data_dir=tmp_path), registry=CollectorRegistry()).faust
    table = app.tables["shipments"]
    assert table.changelog_topic.prepare_key("1Z999", None)[0] == b'"1Z999"'
    assert app.router._get_serialized_key(table, "1Z999") == b"1Z999"


def test_the_producer_lingers_as_configured(tmp_path) -> None:
    default = create_app(Settings(data_dir=tmp_path), registry=CollectorRegistry()).faust
    assert default.conf.producer_linger == 0.005  # Faust's default, 0, sends tiny requests
    assert default.conf.producer_max_batch_size == 256 * 1024  # Faust's default: 16 KB
    eager = Settings.from_env({"PARCELWATCH_PRODUCER_LINGER_MS": "0"})
    assert eager.producer_linger_ms == 0


def test_faust_sensors_only_when_asked_for(tmp_path) -> None:
    from faust.sensors.prometheus import PrometheusMonitor

    quiet = create_app(Settings(data_dir=tmp_path), registry=CollectorRegistry()).faust
    assert not isinstance(quiet.monitor, PrometheusMonitor)
    assert any(str(route).endswith("/metrics") for route in _routes(quiet))  # ours still serve
    loud = create_app(
        Settings(data_dir=tmp_path, faust_metrics=True), registry=CollectorRegistry()
    ).faust
    assert isinstance(loud.monitor, PrometheusMonitor)
    assert Settings.from_env({"PARCELWATCH_FAUST_METRICS": "true"}).faust_metrics is True


def _routes(app) -> list[str]:
    return [pattern for pattern in app.web.views]


def test_every_table_asks_for_the_configured_changelog_segments(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, changelog_segment_mb=8, changelog_segment_hours=3)
    app = create_app(settings, registry=CollectorRegistry()).faust
    assert len(app.tables) >= 3
    for name, table in app.tables.items():
        assert table.changelog_topic.config == {
            "segment.bytes": str(8 * 2**20),
            "segment.ms": str(3 * 3_600_000),
        }, name
