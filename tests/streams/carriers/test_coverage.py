"""The README's coverage table is the one the mapping tables give."""

from __future__ import annotations

from pathlib import Path

from parcelwatch.streams.carriers.coverage import END, START, coverage_markdown

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_coverage_table_is_current():
    text = README.read_text(encoding="utf-8")
    assert START in text and END in text
    shown = text[text.index(START) : text.index(END) + len(END)]
    assert shown == coverage_markdown(), (
        "regenerate it: python -m parcelwatch.streams.carriers.coverage"
    )
