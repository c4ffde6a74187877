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


PAGE_KEY = "a-tracking-page-key-of-32-bytes-or-more"


def test_tracking_link_prints_a_signed_link_under_the_base_url(monkeypatch, capsys):
    from parcelwatch.streams.runtime.page_links import link_signature, signature_matches

    monkeypatch.setenv("PARCELWATCH_TRACKING_PAGE_KEY", PAGE_KEY)
    monkeypatch.setenv("PARCELWATCH_WEB_PORT", "7070")
    monkeypatch.delenv("PARCELWATCH_WEB_HOST", raising=False)
    assert main(["tracking-link", "1Z999AA1"]) == 0
    signature = link_signature(PAGE_KEY.encode(), "1Z999AA1")
    assert capsys.readouterr().out == f"http://127.0.0.1:7070/track/1Z999AA1?sig={signature}\n"
    assert main(["tracking-link", "1Z999AA1", "--base-url", "https://t.example.com"]) == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith("https://t.example.com/track/1Z999AA1?sig=")
    assert signature_matches(PAGE_KEY.encode(), "1Z999AA1", link.rsplit("=", 1)[1])


@pytest.mark.parametrize(
    ("key", "tracking_number", "complaint"),
    [
        (None, "1Z999AA1", "PARCELWATCH_TRACKING_PAGE_KEY is not set"),
        ("short", "1Z999AA1", "at least 32 bytes"),
        (PAGE_KEY, "not a number!", "not a tracking number"),
    ],
)
def test_tracking_link_says_why_it_cannot_sign(
    monkeypatch, capsys, key, tracking_number, complaint
):
    monkeypatch.delenv("PARCELWATCH_TRACKING_PAGE_KEY", raising=False)
    if key is not None:
        monkeypatch.setenv("PARCELWATCH_TRACKING_PAGE_KEY", key)
    assert main(["tracking-link", tracking_number]) == 2
    captured = capsys.readouterr()
    assert complaint in captured.err and captured.out == ""
