"""Lenient history reading: bad lines are skipped and counted, up to a limit; --strict stops."""

from __future__ import annotations

import shutil

import orjson
import pytest

from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.streams.cli import main
from parcelwatch.streams.offline.ml_commands import HistoryFiles
from parcelwatch.streams.offline.replay import HistoryError, read_events, read_jsonl
from tests.factories import order_json, scan_json


def _write(path, lines):
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def _scans(count):
    """``count`` valid scans of one shipment, a minute apart."""
    moments = [f"2026-11-20T{i // 60:02d}:{i % 60:02d}:00Z" for i in range(count)]
    return [
        orjson.dumps(scan_json(event_id=f"evt-{i}", occurred_at=moment))
        for i, moment in enumerate(moments)
    ]


def test_invalid_lines_are_skipped_with_file_line_and_reason(tmp_path):
    path = _write(tmp_path / "scans.jsonl", [*_scans(3), b"{not json", b"", *_scans(2)])
    read = read_events([path], "scan", now=utc_now())
    assert len(read.events) == 5
    assert read.lines == 6  # blank lines are not lines of the history
    (bad,) = read.invalid
    assert str(bad).startswith(f"{path}:4: ")


def test_strict_reading_stops_at_the_first_invalid_line(tmp_path):
    path = _write(tmp_path / "scans.jsonl", [*_scans(2), b'{"schema_version": 1}'])
    with pytest.raises(HistoryError, match=rf"{path}:3: "):
        read_events([path], "scan", now=utc_now(), strict=True)
    with pytest.raises(HistoryError):
        read_jsonl([path], "scan", now=utc_now())  # the strict reader, as before


def _history(tmp_path, bad_scans, good_scans=200):
    orders = _write(tmp_path / "orders.jsonl", [orjson.dumps(order_json())])
    scans = _write(tmp_path / "scans.jsonl", [*_scans(good_scans), *[b"[1, 2]"] * bad_scans])
    return orders, scans


def test_loading_tolerates_invalid_lines_up_to_the_limit_and_says_so(tmp_path):
    orders, scans = _history(tmp_path, bad_scans=2)
    notices = []
    files = HistoryFiles([orders], [scans], max_invalid_fraction=0.01, notify=notices.append)
    history = files.load()
    assert len(history.snapshots) == 200
    (notice,) = notices
    assert "skipped 2 of 203 history lines" in notice
    assert f"{scans}:201: " in notice and f"{scans}:202: " in notice


def test_loading_stops_above_the_limit(tmp_path):
    orders, scans = _history(tmp_path, bad_scans=3)
    files = HistoryFiles([orders], [scans], max_invalid_fraction=0.01)
    with pytest.raises(HistoryError, match="3 of 204 history lines fail the contract"):
        files.load()


def test_only_the_first_five_reasons_are_shown(tmp_path):
    orders, scans = _history(tmp_path, bad_scans=8)
    notices = []
    HistoryFiles([orders], [scans], max_invalid_fraction=0.5, notify=notices.append).load()
    assert notices[0].count(f"{scans}:") == 5


def test_score_skips_bad_lines_and_strict_stops(trained, tmp_path, capsys):
    orders = tmp_path / "orders.jsonl"
    scans = tmp_path / "scans.jsonl"
    shutil.copy(trained.files.orders[0], orders)
    shutil.copy(trained.files.scans[0], scans)
    with scans.open("ab") as lines:
        lines.write(b'{"event_id": "broken"}\n')
    out = tmp_path / "out.jsonl"
    command = ["score", "--orders", str(orders), "--scans", str(scans),
               "--model-dir", str(trained.model_dir), "--out", str(out)]  # fmt: skip
    assert main(command) == 0
    err = capsys.readouterr().err
    assert "skipped 1 of" in err and f"{scans}:" in err

    assert main([*command, "--strict"]) == 2
    assert f"{scans}:" in capsys.readouterr().err

    assert main([*command, "--max-invalid-fraction", "0"]) == 2
    assert "--max-invalid-fraction" in capsys.readouterr().err


def test_without_a_notice_callback_the_log_carries_counts_not_reasons(tmp_path, caplog):
    orders, scans = _history(tmp_path, bad_scans=2)
    with caplog.at_level("WARNING"):
        HistoryFiles([orders], [scans], max_invalid_fraction=0.01).load()
    assert "skipped 2 of 203 invalid history lines" in caplog.text
    assert str(scans) not in caplog.text
