"""The JSONL files of ``parcelwatch simulate --jsonl``: inputs by topic, and the feedback truth."""

from __future__ import annotations

from pathlib import Path

import orjson

from parcelwatch.schemas.feedback import FlagReason
from parcelwatch.streams.simulation.feedback import Situation
from parcelwatch.streams.simulation.sinks import simulate_to_jsonl


def _lines(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_the_files_hold_orders_scans_feedback_and_what_each_piece_should_be_flagged(
    tmp_path: Path,
) -> None:
    count = simulate_to_jsonl(tmp_path, shipments=120, seed=4, days=10.0, feedback_rate=0.5)

    orders = _lines(tmp_path / "orders.jsonl")
    scans = _lines(tmp_path / "scans.jsonl")
    feedback = _lines(tmp_path / "feedback.jsonl")
    truth = _lines(tmp_path / "feedback-truth.jsonl")
    assert len(orders) == 120 and scans and feedback
    assert count == len(orders) + len(scans) + len(feedback)
    assert [line["event_id"] for line in truth] == [line["event_id"] for line in feedback]
    for line in truth:
        assert FlagReason(line["expected_flag"]) and Situation(line["situation"])
        assert line["language"] in {"en", "pt", "es", "de", "fr"}
    for line in feedback:
        assert "expected_flag" not in line  # the truth never travels with the message
        assert set(line) >= {"event_id", "order_id", "channel", "received_at", "text", "rating"}
    assert len({line["event_id"] for line in feedback}) == len(feedback)


def test_a_feedback_rate_of_zero_writes_an_empty_feedback_file(tmp_path: Path) -> None:
    count = simulate_to_jsonl(tmp_path, shipments=30, seed=4, days=10.0, feedback_rate=0.0)

    assert (tmp_path / "feedback.jsonl").read_bytes() == b""
    assert (tmp_path / "feedback-truth.jsonl").read_bytes() == b""
    orders, scans = _lines(tmp_path / "orders.jsonl"), _lines(tmp_path / "scans.jsonl")
    assert count == len(orders) + len(scans)
