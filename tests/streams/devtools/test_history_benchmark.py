"""The real-data evaluation: its table's structure on the vendored histories (not its figures)."""

from __future__ import annotations

import re
from pathlib import Path

from parcelwatch.models.baselines import BASELINE_NAMES
from parcelwatch.streams.devtools.history_benchmark import (
    Figures,
    main,
    markdown_table,
)

VENDORED = Path(__file__).resolve().parents[2] / "data" / "histories"
PAIR = re.compile(r"(\S+) / (\S+)")


def _cells(line: str) -> list[str]:
    assert line.startswith("| ") and line.endswith(" |"), line
    return [cell.strip() for cell in line[2:-2].split(" | ")]


def _fraction(text: str) -> float:
    value = float(text)
    assert 0.0 <= value <= 1.0, text
    return value


def test_the_table_has_a_row_per_history_with_every_figure_a_fraction(tmp_path: Path, capsys):
    status = main(
        [
            "--datasets", "scms", "dataco",
            "--scms", str(VENDORED / "scms" / "scms_delivery_history.tsv"),
            "--dataco", str(VENDORED / "dataco" / "dataco_sample.tsv"),
            "--workdir", str(tmp_path),
        ]
    )  # fmt: skip
    header_line, rule, *rows = capsys.readouterr().out.strip().splitlines()
    header = _cells(header_line)
    assert len(rows) == 2
    assert status == 0, rows
    assert header[:5] == [
        "dataset", "period", "shipments train / test", "late rate train / test",
        "model ROC-AUC / PR-AUC",
    ]  # fmt: skip
    assert header[-1] == "promotable"
    baselines = header[5:-1]
    assert {f"{name} ROC-AUC / PR-AUC" for name in BASELINE_NAMES} <= set(baselines)
    assert rule == "|" + "---|" * len(header)
    for line, dataset in zip(rows, ("USAID SCMS", "DataCo (partly synthetic)"), strict=True):
        cells = _cells(line)
        assert len(cells) == len(header)
        assert cells[0] == dataset
        first, last = re.fullmatch(r"(\d{4}-\d\d-\d\d) to (\d{4}-\d\d-\d\d)", cells[1]).groups()
        assert first < last
        train, test = (int(n) for n in PAIR.fullmatch(cells[2]).groups())
        assert train > test > 0
        for cell in cells[3 : len(header) - 1]:  # late rates, the model's and baselines' AUCs
            for figure in PAIR.fullmatch(cell).groups():
                _fraction(figure)
        # the gate on real data: promotable exactly when no baseline beats the model on either
        model = [float(x) for x in PAIR.fullmatch(cells[4]).groups()]
        beaten = any(
            float(theirs) > ours
            for cell in cells[5:-1]
            for ours, theirs in zip(model, PAIR.fullmatch(cell).groups(), strict=True)
        )
        assert cells[-1] == ("no" if beaten else "yes")


def test_a_dataset_whose_training_failed_says_why_and_the_others_keep_their_figures():
    table = markdown_table(
        [
            Figures("ok", ("2020-01-01", "2020-12-31"), (80, 20), (0.1, 0.2), (0.7, None),
                    {"slack_to_promise": (0.6, 0.3)}, promotable=False),
            Figures("broken", error="TrainingDataError: one class only"),
        ]
    )  # fmt: skip
    header_line, _, ok_line, broken_line = table.splitlines()
    header, ok, broken = _cells(header_line), _cells(ok_line), _cells(broken_line)
    assert header[5] == "slack_to_promise ROC-AUC / PR-AUC"
    assert ok[1:] == [
        "2020-01-01 to 2020-12-31", "80 / 20", "0.100 / 0.200", "0.700 / n/a", "0.600 / 0.300",
        "no",
    ]  # fmt: skip
    assert broken[:2] == ["broken", "training failed: TrainingDataError: one class only"]
    assert len(broken) == len(header)
