"""The `parcelwatch` command's own printing (the commands it runs are tested where they live)."""

from __future__ import annotations

import orjson
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


def test_simulate_can_write_scans_as_raw_carrier_payloads(tmp_path, capsys):
    assert main(["simulate", "--jsonl", str(tmp_path), "--shipments", "30", "--seed", "3",
                 "--raw-source", "easypost"]) == 0  # fmt: skip
    assert not (tmp_path / "scans.jsonl").exists()
    lines = (tmp_path / "carrier-raw.jsonl").read_bytes().splitlines()
    assert lines
    assert {orjson.loads(line)["source"] for line in lines} == {"easypost"}


def test_simulate_and_demo_pass_the_raw_source_on(monkeypatch):
    from parcelwatch.streams.devtools import demo
    from parcelwatch.streams.simulation import sinks

    asked: dict[str, object] = {}

    async def fake_simulate(settings, **options):
        asked["simulate"] = options["raw_source"]
        return 0

    def fake_demo(settings, **options):
        asked["demo"] = options["raw_source"]
        return 0

    monkeypatch.setattr(sinks, "simulate_to_kafka", fake_simulate)
    monkeypatch.setattr(demo, "run_demo", fake_demo)
    assert main(["simulate", "--raw-source", "easypost"]) == 0
    assert main(["demo", "--raw-source", "easypost"]) == 0
    assert asked == {"simulate": "easypost", "demo": "easypost"}
    assert main(["simulate"]) == 0 and main(["demo"]) == 0
    assert asked == {"simulate": None, "demo": None}  # canonical scans stay the default
    with pytest.raises(SystemExit):
        main(["simulate", "--raw-source", "karrio"])
