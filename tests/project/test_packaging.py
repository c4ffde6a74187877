"""One import name: the wheel installs `parcelwatch` and nothing else at the top level.

The three top-level folders (`streams/`, `models/`, `schemas/`) are installed as subpackages of
`parcelwatch` through setuptools' package-dir mapping; a bare `import schemas` must not work, or a
user's own `schemas.py` would shadow ours (or ours theirs).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from parcelwatch.streams.simulation.feedback_wording import LANGUAGES
from tests.project.source_imports import absolute_imports

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("streams", "models", "schemas")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _source_files() -> list[Path]:
    skipped = {".venv", ".git", "build", ".parcelwatch"}
    return [path for path in ROOT.rglob("*.py") if not skipped & set(path.relative_to(ROOT).parts)]


def test_the_package_list_names_every_package_folder():
    folders = {
        "parcelwatch." + ".".join(init.parent.relative_to(ROOT).parts)
        for folder in FOLDERS
        for init in (ROOT / folder).rglob("__init__.py")
    }
    assert set(PYPROJECT["tool"]["setuptools"]["packages"]) == folders


def test_no_code_imports_a_bare_top_level_folder():
    bare = [
        f"{path.relative_to(ROOT)}:{line} {name}"
        for path in _source_files()
        for line, name in absolute_imports(path)
        if name.split(".")[0] in FOLDERS
    ]
    assert bare == []


def test_every_module_imports():
    """A moved module's old name fails here, not first in a worker process."""
    failures = {}
    for package in PYPROJECT["tool"]["setuptools"]["packages"]:
        for module in pkgutil.iter_modules(importlib.import_module(package).__path__):
            name = f"{package}.{module.name}"
            try:
                importlib.import_module(name)
            except Exception as error:
                failures[name] = repr(error)
    assert failures == {}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy: setuptools leaves a build/ folder beside the sources.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", *FOLDERS):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(source)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (built,) = out.glob("parcelwatch-*.whl")
    return built


def test_the_wheel_installs_one_import_name_with_its_data(wheel: Path):
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert {name for name in top_level if not name.endswith(".dist-info")} == {"parcelwatch"}
    for expected in (
        "parcelwatch/streams/core/tracking.py",
        "parcelwatch/streams/runtime/agents.py",
        "parcelwatch/models/registry.py",
        "parcelwatch/schemas/json/scan.v1.schema.json",
        "parcelwatch/schemas/asyncapi.yaml",
        "parcelwatch/streams/message_templates/en.json",
        *(f"parcelwatch/streams/simulation/feedback_texts/{lang}.json" for lang in LANGUAGES),
    ):
        assert expected in names
    assert not any("/tests/" in name or name.startswith("tests/") for name in names)


def test_the_installed_wheel_imports_parcelwatch_and_not_the_bare_folders(
    wheel: Path, tmp_path: Path
):
    """Installed into a fresh virtual environment whose only other packages are this one's
    dependencies (a path entry, so the editable install of the work tree is not seen)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    target = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", target, wheel],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    # The dependencies, as a plain path entry: its .pth files (the editable finder) are not run.
    (Path(target) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    script = (
        "import importlib.util, parcelwatch.streams.core, parcelwatch.streams.runtime.app\n"
        "print(parcelwatch.streams.core.__file__)\n"
        "print([importlib.util.find_spec(n) for n in ('schemas', 'models', 'streams')])\n"
    )
    clean = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    run = subprocess.run(
        [python, "-c", script], cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    location, bare = run.stdout.splitlines()
    assert location.startswith(target)
    assert bare == "[None, None, None]"


def test_the_editable_install_maps_the_folders_too(tmp_path: Path):
    script = (
        "import importlib.util, parcelwatch.streams.core\n"
        "print(parcelwatch.streams.core.__file__)\n"
        "print([importlib.util.find_spec(n) for n in ('schemas', 'models', 'streams')])\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    location, bare = run.stdout.splitlines()
    assert Path(location).resolve() == ROOT / "streams" / "core" / "__init__.py"
    assert bare == "[None, None, None]"
