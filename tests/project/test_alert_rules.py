"""The Prometheus alerting rules (deploy/prometheus/rules.yml): valid, unit-tested with promtool,
loaded by both Prometheus configurations, and written on series the worker exports.

promtool comes with the Debian package ``prometheus`` (deploy/dev.sh installs it). Without it
these tests fail, never skip: untested alerting rules would reach production unnoticed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from parcelwatch.streams.pipeline.metrics import WorkerMetrics

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS / "rules.yml"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail(
            "promtool is not installed: apt-get install prometheus (deploy/dev.sh test does it)"
        )
    return subprocess.run(
        [tool, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120, check=False
    )


def test_rules_are_valid():
    result = promtool("check", "rules", RULES.name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_pass_their_unit_tests():
    result = promtool("test", "rules", "rules.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus.local.yml"])
def test_both_prometheus_configurations_load_the_rules(config):
    assert yaml.safe_load((PROMETHEUS / config).read_text())["rule_files"] == [RULES.name]
    result = promtool("check", "config", config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_mounts_the_rules_beside_the_configuration():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    volumes = compose["services"]["prometheus"]["volumes"]
    assert "./deploy/prometheus/rules.yml:/etc/prometheus/rules.yml:ro" in volumes


def test_rules_use_exported_series_only():
    registry = CollectorRegistry()
    WorkerMetrics(registry)
    gauges = {family.name for family in registry.collect() if family.type == "gauge"}
    groups = yaml.safe_load(RULES.read_text())["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert {rule["alert"] for rule in rules} >= {"ModelLiveQualityBelowHeldOut"}
    for rule in rules:
        used = set(re.findall(r"\bparcelwatch_[a-z_]+\b", rule["expr"]))
        assert used and used <= gauges, rule["alert"]
