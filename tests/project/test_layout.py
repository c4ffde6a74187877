"""The layout shows the architecture: dependencies point one way, and the README's table names
every folder there is."""

from __future__ import annotations

import re
from pathlib import Path

from tests.project.source_imports import absolute_imports

ROOT = Path(__file__).resolve().parents[2]

# Who may import whom, inside `parcelwatch`; everything may import `schemas`, and the groups of
# `streams` may import `models` (the one feature function and the scorer).
ALLOWED = {
    "schemas": set(),
    "models": {"schemas"},
    "streams.core": {"schemas"},
    "streams.carriers": {"schemas"},
    "streams.message_templates": {"schemas", "streams.core"},
    "streams.pipeline": {
        "schemas", "models", "streams.core", "streams.carriers", "streams.message_templates",
    },
    "streams.runtime": {
        "schemas", "models", "streams.core", "streams.carriers", "streams.message_templates",
        "streams.pipeline",
    },
    "streams.offline": {
        "schemas", "models", "streams.core", "streams.carriers", "streams.pipeline",
        "streams.runtime",
    },
    "streams.ingest": {"schemas", "streams.carriers", "streams.pipeline", "streams.runtime"},
    "streams.simulation": {
        "schemas", "streams.core", "streams.carriers", "streams.pipeline", "streams.runtime",
    },
}  # fmt: skip
# devtools and cli.py sit on top: they may import anything.


def _group(module: str) -> str | None:
    parts = module.split(".")
    name = ".".join(parts[:2]) if parts[0] == "streams" else parts[0]
    return name if name in ALLOWED else None


def test_dependencies_point_one_way():
    wrong = []
    for folder in ("schemas", "models", "streams"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            group = _group(module)
            if group is None:
                continue
            ours = {
                name.removeprefix("parcelwatch.")
                for _, name in absolute_imports(path)
                if name.startswith("parcelwatch.")
            }
            for imported in sorted(ours):
                target = _group(imported) or imported.split(".")[0]
                if target != group and target not in ALLOWED[group]:
                    wrong.append(f"{module} imports {imported}")
    assert wrong == []


def test_the_readme_layout_table_names_every_folder_and_nothing_else():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("| folder | what lives there |", 1)[1].split("\n\n", 1)[0]
    named = set(re.findall(r"^\| `([^`]+)`", table, flags=re.M))
    folders = {f"{name}/" for name in ("schemas", "models", "deploy", "tests")}
    folders |= {
        f"streams/{path.name}/"
        for path in (ROOT / "streams").iterdir()
        if path.is_dir() and (path / "__init__.py").exists()
    }
    folders |= {f"streams/{path.name}" for path in (ROOT / "streams").glob("*.py")}
    folders.discard("streams/__init__.py")
    assert named == folders
