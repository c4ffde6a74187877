"""The vendored SCMS and DataCo tables imported whole: counts, late rate and period checked
against figures computed here straight from the tables, by other code than the adapters'."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from parcelwatch.streams.offline.histories import dataco, scms
from parcelwatch.streams.offline.histories.command import import_history
from parcelwatch.streams.offline.replay import read_jsonl

VENDORED = Path(__file__).resolve().parents[3] / "data" / "histories"
MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def _table(path: Path) -> tuple[list[str], list[list[str]]]:
    header, *lines = path.read_text(encoding="utf-8").splitlines()
    return header.split("\t"), [line.split("\t") for line in lines]


def _records(path: Path) -> list[dict[str, str]]:
    header, rows = _table(path)
    return [dict(zip(header, row, strict=True)) for row in rows]


def _jsonl(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def _day_month_year(text: str) -> date:  # "02-Jun-06"
    day, month, year = text.split("-")
    return date(2000 + int(year), MONTHS[month], int(day))


def _pq_po(text: str) -> tuple[date, bool] | None:
    """A PQ/PO date and whether it was Excel-mangled; None for the texts."""
    if text[:1].isdigit() and "/" in text:
        month, day, year = text.split("/")
        return date(2000 + int(year), int(month), int(day)), False
    if text[:2] == "20" and text.count("-") == 2:
        month_plus_2000, day, year = text.split("-")
        return date(2000 + int(year), int(month_plus_2000) - 2000, int(day)), True
    return None


@pytest.fixture(scope="module")
def scms_import(tmp_path_factory):
    out = tmp_path_factory.mktemp("scms")
    table = VENDORED / "scms" / "scms_delivery_history.tsv"
    return table, import_history("scms", [table], out), out


def test_scms_rows_shipments_and_skips_add_up(scms_import):
    table, report, out = scms_import
    header, rows = _table(table)
    assert header == list(scms.COLUMNS)
    assert len({row[0] for row in rows}) == len(rows) == report.rows  # IDs are unique
    assert report.shipments == len({row[1] for row in rows})
    assert report.written + sum(report.skipped.values()) == report.shipments
    assert len(_jsonl(out / "orders.jsonl")) == report.written
    assert len(_jsonl(out / "scans.jsonl")) == 2 * report.written


def test_scms_late_rate_and_period_match_the_table(scms_import):
    table, report, out = scms_import
    scheduled, delivered, ordered = {}, {}, defaultdict(list)
    for record in _records(table):
        number = record[scms.SHIPMENT]
        sched, deliv = (
            _day_month_year(record[scms.SCHEDULED]),
            _day_month_year(record[scms.DELIVERED]),
        )
        scheduled[number] = min(scheduled.get(number, sched), sched)
        delivered[number] = max(delivered.get(number, deliv), deliv)
        po, pq = _pq_po(record[scms.PO_SENT]), _pq_po(record[scms.PQ_SENT])
        ordered[number].append((0, po[0]) if po else (1, pq[0]) if pq else None)
    written = {order["order_id"] for order in _jsonl(out / "orders.jsonl")}
    late = sum(delivered[n] > scheduled[n] for n in written)
    assert report.late == late
    assert 0.05 < late / len(written) < 0.2  # SCMS is about 11.5% late line items
    order_days = [min(d for d in ordered[n] if d is not None)[1] for n in written]
    imported = [
        datetime.fromisoformat(o["ordered_at"]).date() for o in _jsonl(out / "orders.jsonl")
    ]
    assert (min(imported), max(imported)) == (min(order_days), max(order_days))
    assert date(2006, 1, 1) <= min(order_days) and max(order_days) <= date(2015, 12, 31)


def test_scms_excel_mangled_dates_read_back_fall_before_their_scheduled_date(scms_import):
    """The reading m = yyyy - 2000, d = mm, yy = dd puts every mangled PQ/PO date within two
    years before the scheduled delivery, as the plain m/d/yy dates are."""
    table = scms_import[0]
    mangled = 0
    for record in _records(table):
        sched = _day_month_year(record[scms.SCHEDULED])
        for column in (scms.PQ_SENT, scms.PO_SENT):
            read = _pq_po(record[column])
            if read is not None and read[1]:
                mangled += 1
                assert sched - timedelta(days=730) < read[0] <= sched, record
    assert mangled > 0


@pytest.fixture(scope="module")
def dataco_import(tmp_path_factory):
    out = tmp_path_factory.mktemp("dataco")
    table = VENDORED / "dataco" / "dataco_sample.tsv"
    return table, import_history("dataco", [table], out), out


def _time(text: str) -> datetime:
    day, clock = text.split(" ")
    month, day_of_month, year = (int(part) for part in day.split("/"))
    hour, minute = (int(part) for part in clock.split(":"))
    return datetime(year, month, day_of_month, hour, minute, tzinfo=UTC)


def test_dataco_rows_orders_late_rate_and_period_match_the_table(dataco_import):
    table, report, out = dataco_import
    assert _table(table)[0] == list(dataco.COLUMNS)
    records = _records(table)
    assert report.rows == len(records)
    assert report.shipments == len({r[dataco.ORDER_ID] for r in records})
    kept = {r[dataco.ORDER_ID]: r for r in records if r[dataco.STATUS] != "Shipping canceled"}
    assert report.written == len(kept)
    late = sum(int(r[dataco.REAL_DAYS]) > int(r[dataco.SCHEDULED_DAYS]) for r in kept.values())
    assert report.late == late
    orders = read_jsonl([out / "orders.jsonl"], "order", now=datetime.now(UTC))
    ordered = sorted(order.ordered_at for order in orders)  # type: ignore[union-attr]
    expected = sorted(_time(r[dataco.ORDERED]) for r in kept.values())
    assert (ordered[0], ordered[-1]) == (expected[0], expected[-1])


def test_dataco_labels_agree_with_late_delivery_risk_on_every_order(dataco_import):
    table, report, _ = dataco_import
    kept = [r for r in _records(table) if r[dataco.STATUS] != "Shipping canceled"]
    assert kept and all(
        (int(r[dataco.REAL_DAYS]) > int(r[dataco.SCHEDULED_DAYS])) == (r[dataco.LATE_RISK] == "1")
        for r in kept
    )
    assert dataco.LABEL_MISMATCH not in report.notes
