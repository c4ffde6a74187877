"""Scenario verdicts: a markdown table for people, JSON for machines."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson


@dataclass
class ScenarioReport:
    scenario: str
    figures: dict[str, Any] = field(default_factory=dict)  # the table: figure -> value
    failures: list[str] = field(default_factory=list)  # each a failed requirement, in words
    details: dict[str, Any] = field(default_factory=dict)  # JSON only
    logs: list[str] = field(default_factory=list)  # worker and broker logs of the run

    @property
    def passed(self) -> bool:
        return not self.failures

    def require(self, condition: bool, failure: str) -> None:
        if not condition:
            self.failures.append(failure)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "passed": self.passed,
            "failures": self.failures,
            "figures": self.figures,
            "details": self.details,
            "logs": self.logs,
        }

    def markdown(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        lines = [f"### {self.scenario}: {verdict}", "", "| figure | value |", "|---|---|"]
        lines += [f"| {name} | {_cell(value)} |" for name, value in self.figures.items()]
        if self.failures:
            lines += ["", "Failed requirements:", *(f"- {failure}" for failure in self.failures)]
        return "\n".join(lines) + "\n"


def spread(values: list[float]) -> str:
    """min / median / max, or "n/a"."""
    if not values:
        return "n/a"
    return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f}"


def write_reports(reports: list[ScenarioReport], folder: Path, context: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    document = {**context, "passed": all(r.passed for r in reports)}
    document["scenarios"] = [report.to_json() for report in reports]
    path = folder / "chaos-report.json"
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2, default=str))
    (folder / "chaos-report.md").write_text("\n".join(report.markdown() for report in reports))
    return path


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_cell(item)}" for key, item in value.items()) or "none"
    return str(value).replace("|", "\\|")
