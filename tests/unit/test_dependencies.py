"""Dependency bounds: there is no lock file, so pyproject.toml alone decides what gets installed."""

from __future__ import annotations

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
    return [Requirement(line) for line in project["dependencies"] + extras.get("dev", [])]


REQUIREMENTS = _requirements()


def test_the_dev_extra_is_read_too() -> None:
    assert {"pytest", "ruff"} <= {requirement.name for requirement in REQUIREMENTS}


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
