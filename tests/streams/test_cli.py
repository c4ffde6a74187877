"""The `parcelwatch` command's own printing (the commands it runs are tested where they live)."""

from __future__ import annotations

import pytest

from parcelwatch.streams.cli import _hours, _number, main


def test_metrics_a_one_class_split_leaves_undefined_print_as_n_a():
    assert _number(None) == "n/a"
    assert _number(0.81234) == "0.812"
    assert _number(-0.0456, "+.3f") == "-0.046"
    assert _hours(None) == "n/a"
    assert _hours(5.25) == "+5.2 h"


def test_simulate_writes_feedback_at_the_rate_asked_for(tmp_path, capsys):
    assert main(["simulate", "--jsonl", str(tmp_path), "--shipments", "40", "--seed", "3",
                 "--feedback-rate", "0"]) == 0  # fmt: skip
    assert (tmp_path / "feedback.jsonl").read_bytes() == b""
    assert main(["simulate", "--jsonl", str(tmp_path), "--shipments", "40", "--seed", "3",
                 "--feedback-rate", "1"]) == 0  # fmt: skip
    assert (tmp_path / "feedback.jsonl").read_bytes().count(b"\n") > 4
    with pytest.raises(SystemExit):
        main(["simulate", "--feedback-rate", "1.5"])
    assert "must be in [0, 1]" in capsys.readouterr().err
