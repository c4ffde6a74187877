"""Dependency bounds: there is no lock file, so pyproject.toml alone decides what gets installed."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _requirements() -> list[Requirement]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    extras = project.get("optional-dependencies", {})
    lines = project["dependencies"] + extras.get("report", []) + extras.get("dev", [])
    return [Requirement(line) for line in lines]


REQUIREMENTS = _requirements()


def test_the_extras_are_read_too() -> None:
    assert {"pytest", "ruff", "matplotlib"} <= {requirement.name for requirement in REQUIREMENTS}


def test_the_worker_does_not_install_a_plotting_library() -> None:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    assert not any(Requirement(line).name == "matplotlib" for line in project["dependencies"])
    assert [Requirement(line).name for line in project["optional-dependencies"]["report"]] == [
        "matplotlib"
    ]


# What the CLI and `parcelwatch train` load: no matplotlib (ml_commands imports the report lazily).
WITHOUT_MATPLOTLIB = [
    "parcelwatch.streams.cli",
    "parcelwatch.streams.offline.ml_commands",
    "parcelwatch.models.evaluate",
    "parcelwatch.models.evaluation_result",
]
# After each import in turn (one interpreter): is matplotlib loaded yet?
_IMPORT_AND_CHECK = """
import importlib, json, sys
loaded = []
for name in sys.argv[1:]:
    importlib.import_module(name)
    loaded.append("matplotlib" in sys.modules)
print(json.dumps(loaded))
"""


def test_only_the_report_imports_matplotlib() -> None:
    modules = [*WITHOUT_MATPLOTLIB, "parcelwatch.models.report"]
    run = subprocess.run(
        [sys.executable, "-c", _IMPORT_AND_CHECK, *modules],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = dict(zip(modules, json.loads(run.stdout), strict=True))
    assert loaded == {**dict.fromkeys(WITHOUT_MATPLOTLIB, False), "parcelwatch.models.report": True}


@pytest.mark.parametrize("requirement", REQUIREMENTS, ids=str)
def test_every_dependency_has_a_lower_and_an_upper_bound(requirement: Requirement) -> None:
    operators = {spec.operator for spec in requirement.specifier}
    assert operators & {">=", ">", "~=", "=="}, f"{requirement} has no lower bound"
    assert operators & {"<", "<=", "~=", "=="}, f"{requirement} has no upper bound"


def test_skops_excludes_versions_with_the_trusted_type_bypass() -> None:
    # CVE-2025-54412: skops < 0.12 can be made to load types the caller did not trust.
    (skops,) = [r for r in REQUIREMENTS if r.name == "skops"]
    lower = [Version(s.version) for s in skops.specifier if s.operator in (">=", ">", "~=")]
    assert lower and min(lower) >= Version("0.12")
    assert not skops.specifier.contains("0.11.0")


@pytest.mark.parametrize("requirement", REQUIREMENTS, ids=str)
def test_the_installed_version_is_inside_the_bounds(requirement: Requirement) -> None:
    installed = metadata.version(requirement.name)
    assert requirement.specifier.contains(installed, prereleases=True), (
        f"{requirement.name} {installed} is installed, outside {requirement.specifier}"
    )
