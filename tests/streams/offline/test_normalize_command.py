"""``parcelwatch normalize``: saved payloads in, scans as JSONL out, problems on stderr."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from parcelwatch.schemas.codec import decode_scan
from parcelwatch.schemas.types import CarrierSource, Limits
from parcelwatch.streams.carriers.reading import scans_from_payload
from parcelwatch.streams.cli import main
from parcelwatch.streams.offline.normalize_command import EXIT_PROBLEM, normalize_files

EASYPOST = Path(__file__).resolve().parents[2] / "data" / "carriers" / "easypost"
DELIVERED = EASYPOST / "constructed_webhook_delivered.json"
FAILURE = EASYPOST / "constructed_tracker_failure.json"
NOT_FOUND = EASYPOST / "constructed_error_tracker_not_found.json"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def printed_scans(out: str) -> list[dict]:
    return [orjson.loads(line) for line in out.splitlines()]


def test_scans_of_every_file_are_printed_as_jsonl_with_the_source_recognised(capsys) -> None:
    assert main(["normalize", str(DELIVERED), str(FAILURE)]) == 0
    captured = capsys.readouterr()
    expected = [
        *scans_from_payload(DELIVERED.read_bytes()).normalized.scans,
        *scans_from_payload(FAILURE.read_bytes()).normalized.scans,
    ]
    lines = captured.out.splitlines()
    assert len(lines) == len(expected) > 0
    for line, scan in zip(lines, expected, strict=True):
        key = scan.tracking_number.encode()
        assert decode_scan(line.encode(), key=key, now=NOW, limits=Limits()) == scan
    assert captured.err == ""


def test_standard_input_is_read_for_a_dash() -> None:
    out, err = io.StringIO(), io.StringIO()
    stdin = io.BytesIO(FAILURE.read_bytes())
    assert normalize_files(["-"], "easypost", out=out, err=err, stdin=stdin) == 0
    statuses = [scan["status"] for scan in printed_scans(out.getvalue())]
    assert statuses[-1] == "attempt_failed"


def test_a_carrier_error_prints_its_code_and_text_and_exits_2_after_the_other_files(
    capsys,
) -> None:
    code = main(["normalize", "--source", "easypost", str(NOT_FOUND), str(DELIVERED)])
    captured = capsys.readouterr()
    assert code == EXIT_PROBLEM
    assert len(printed_scans(captured.out)) == len(
        scans_from_payload(DELIVERED.read_bytes()).normalized.scans
    )  # the good file's scans, none for the error
    (line,) = captured.err.splitlines()
    assert str(NOT_FOUND) in line
    assert "NOT_FOUND: The requested resource could not be found." in line


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"<not xml", "not valid XML"),
        (b'{"hello": "world"}', "not recognised"),
    ],
)
def test_an_unreadable_payload_names_its_file_and_exits_2(
    tmp_path, capsys, content: bytes, words: str
) -> None:
    bad = tmp_path / "saved-body.txt"
    bad.write_bytes(content)
    assert main(["normalize", str(bad)]) == EXIT_PROBLEM
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{bad}: " in captured.err and words in captured.err


def test_a_missing_file_is_named(tmp_path, capsys) -> None:
    missing = tmp_path / "gone.json"
    assert main(["normalize", str(missing), str(FAILURE)]) == EXIT_PROBLEM
    captured = capsys.readouterr()
    assert str(missing) in captured.err
    assert printed_scans(captured.out)  # the other file still printed


def test_unmapped_codes_are_warned_about_once_each(tmp_path, capsys) -> None:
    tracker = orjson.loads(FAILURE.read_bytes())
    for detail in tracker["tracking_details"]:
        detail["status"] = detail["status_detail"] = "zz_brand_new"
        detail["carrier_code"] = None  # else the carrier's own code is the one looked up
    saved = tmp_path / "tracker.json"
    saved.write_bytes(orjson.dumps(tracker))

    assert main(["normalize", "--source", "easypost", str(saved)]) == 0
    captured = capsys.readouterr()
    assert {scan["status"] for scan in printed_scans(captured.out)} == {"unknown"}
    (warning,) = captured.err.splitlines()
    assert "warning" in warning and "'zz_brand_new/zz_brand_new'" in warning


def test_source_choices_are_the_contract_names(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["normalize", "--source", "pigeon", str(DELIVERED)])
    err = capsys.readouterr().err
    assert all(source.value in err for source in CarrierSource)
