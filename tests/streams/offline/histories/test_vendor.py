"""Vendoring: transcribed parts → one table with a header, placeholders and repeats dropped."""

from __future__ import annotations

from pathlib import Path

from parcelwatch.streams.cli import main as cli
from parcelwatch.streams.offline.histories import dataco, scms
from parcelwatch.streams.offline.histories.vendor import main, part_files


def _line(*fields: str) -> str:
    return "\t".join(fields)


def _scms(item_id: str, shipment: str) -> str:
    return _line(item_id, shipment, *["x"] * (len(scms.COLUMNS) - 2))


def _dataco(order_id: str, mode: str) -> str:
    return _line(order_id, mode, *["y"] * (len(dataco.COLUMNS) - 2))


def test_parts_are_joined_in_order_with_a_header_and_without_skips_or_repeats(tmp_path: Path):
    parts, out = tmp_path / "parts", tmp_path / "out"
    parts.mkdir()
    # Part 10 comes after part 2: numbers, not names, order the parts.
    (parts / "scms_part10.tsv").write_text(_scms("9", "ASN-9") + "\n")
    (parts / "scms_part2.tsv").write_text(
        "\n".join([_scms("1", "ASN-1"), "#SKIPPED row 2", _scms("1", "ASN-1b"), "a\tb", ""])
    )
    (parts / "dataco_part0.tsv").write_text(
        "\n".join([_dataco("5", "a"), _dataco("5", "a"), _dataco("5", "b")]) + "\n"
    )
    assert [p.name for p in part_files(parts, "scms")] == ["scms_part2.tsv", "scms_part10.tsv"]
    assert main([str(parts), "--out", str(out)]) == 0

    scms_lines = (out / "scms" / "scms_delivery_history.tsv").read_text().splitlines()
    assert scms_lines == ["\t".join(scms.COLUMNS), _scms("1", "ASN-1"), _scms("9", "ASN-9")]
    dataco_lines = (out / "dataco" / "dataco_sample.tsv").read_text().splitlines()
    # DataCo drops exact repeats only: one order's items may differ.
    assert dataco_lines == ["\t".join(dataco.COLUMNS), _dataco("5", "a"), _dataco("5", "b")]


def test_the_import_history_command_writes_what_train_reads(tmp_path: Path, capsys):
    vendored = Path(__file__).resolve().parents[3] / "data" / "histories"
    table = vendored / "dataco" / "dataco_sample.tsv"
    assert cli(["import-history", "--format", "dataco", str(table), "--out", str(tmp_path)]) == 0
    said = capsys.readouterr().out
    assert "orders whose status is 'Shipping canceled'" in said
    assert (tmp_path / "orders.jsonl").stat().st_size > 0
    assert (tmp_path / "scans.jsonl").stat().st_size > 0
