"""The SCMS adapter on hand-written rows: every mapping rule, from the original CSV and from the
vendored TSV alike."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from parcelwatch.schemas.types import ShipmentStatus, TimeZoneSource
from parcelwatch.streams.offline.histories import scms
from parcelwatch.streams.offline.histories.command import import_history
from parcelwatch.streams.offline.histories.shipments import ImportReport, shipment_events
from parcelwatch.streams.offline.histories.table import TableError
from parcelwatch.streams.offline.replay import read_jsonl, replay
from tests.streams.offline.histories.tables import write_both

JOHANNESBURG = ZoneInfo("Africa/Johannesburg")
NOT_CAPTURED, FROM_RDC, PRE_PQ = "Date Not Captured", "N/A - From RDC", "Pre-PQ Process"


def row(item_id: int, shipment: str, **fields: str) -> dict[str, str]:
    base = {
        scms.ID: str(item_id),
        scms.SHIPMENT: shipment,
        scms.COUNTRY: "South Africa",
        scms.MODE: "Air",
        scms.PQ_SENT: "1/15/14",
        scms.PO_SENT: "2/3/14",
        scms.SCHEDULED: "10-Mar-14",
        scms.DELIVERED: "12-Mar-14",
        "Manufacturing Site": "Aurobindo Unit III, India",
    }
    return {**base, **fields}


ROWS = [
    row(1, "ASN-1", **{scms.MODE: "Air Charter"}),
    # Two line items of one shipment that disagree on the dates.
    row(2, "ASN-2", **{scms.SCHEDULED: "10-Mar-14", scms.DELIVERED: "20-Mar-14"}),
    row(3, "ASN-2", **{scms.SCHEDULED: "5-Mar-14", scms.DELIVERED: "25-Mar-14"}),
    # No PO date: the PQ date, here Excel-mangled (2013-07-03 written as 2007-03-13).
    row(4, "DN-3", **{scms.PO_SENT: FROM_RDC, scms.PQ_SENT: "2007-03-13", scms.MODE: "N/A"}),
    # Neither date: skipped.
    row(5, "ASN-4", **{scms.PO_SENT: NOT_CAPTURED, scms.PQ_SENT: PRE_PQ}),
    # Delivered before the order: skipped.
    row(6, "ASN-5", **{scms.PO_SENT: "3/20/14", scms.SCHEDULED: "1-Apr-14"}),
    # Promised more than a year after the order: outside the orders contract, skipped.
    row(7, "ASN-6", **{scms.PO_SENT: "1/2/12", scms.SCHEDULED: "5-Mar-14"}),
    # An ID seen already (a part transcribed twice) counts once.
    row(1, "ASN-1", **{scms.MODE: "Truck"}),
    row(8, "DN-7", **{scms.COUNTRY: "Congo, DRC", scms.MODE: "Ocean"}),
]


@pytest.fixture(params=["csv", "tsv"])
def table(request, tmp_path: Path) -> Path:
    return write_both(tmp_path / "in", scms.COLUMNS, ROWS)[request.param]


def read(table: Path) -> tuple[dict[str, scms.HistoricShipment], ImportReport]:
    report = ImportReport()
    shipments = scms.read_shipments([table], report)
    return {s.shipment_id: s for s in shipments}, report


def local(day: date, at: time, zone: ZoneInfo = JOHANNESBURG) -> datetime:
    return datetime.combine(day, at, zone)


def test_a_shipment_is_ordered_when_its_po_went_out_and_promised_by_the_end_of_the_scheduled_day(
    table,
):
    shipment = read(table)[0]["ASN-1"]
    assert shipment.ordered_at == local(date(2014, 2, 3), time(12))
    assert shipment.promised_by == local(date(2014, 3, 10), time(23, 59, 59))
    assert shipment.delivered_at == local(date(2014, 3, 12), time(12))
    assert shipment.late
    assert shipment.service_level == "air_charter"
    assert shipment.dataset == "scms" and shipment.tracking_number == "scms-ASN-1"
    assert shipment.destination is not None and shipment.destination.country == "ZA"
    assert shipment.time_zone.resolved_by is TimeZoneSource.LOCATION
    assert shipment.time_zone.zone == "Africa/Johannesburg"


def test_line_items_that_disagree_give_the_earliest_promise_and_the_latest_delivery(table):
    shipments, report = read(table)
    shipment = shipments["ASN-2"]
    assert shipment.promised_by == local(date(2014, 3, 5), time(23, 59, 59))
    assert shipment.delivered_at == local(date(2014, 3, 25), time(12))
    assert report.notes[scms.DATES_DISAGREE] == 1


def test_without_a_po_date_the_pq_date_counts_and_excel_mangled_dates_are_read_back(table):
    shipment = read(table)[0]["DN-3"]
    assert shipment.ordered_at == local(date(2013, 7, 3), time(12))
    assert shipment.service_level == "unknown"  # Shipment Mode "N/A"


def test_skips_are_counted_by_reason(table):
    shipments, report = read(table)
    assert set(shipments) == {"ASN-1", "ASN-2", "DN-3", "DN-7"}
    assert report.rows == 8  # the repeated ID 1 is not a row of its own
    assert report.shipments == 7
    assert report.skipped == {
        "no PO sent date and no PQ first sent date": 1,
        "delivered before it was ordered": 1,
        "promise more than 365 days after the order": 1,
    }
    assert report.notes["repeated ID rows ignored"] == 1


def test_country_names_cldr_does_not_know_are_mapped(table):
    shipment = read(table)[0]["DN-7"]
    assert shipment.destination is not None and shipment.destination.country == "CD"
    assert shipment.time_zone.zone == "Africa/Kinshasa"


def test_order_dates_in_every_form_the_data_has():
    assert scms.order_date("12/1/06") == date(2006, 12, 1)
    assert scms.order_date("2012-01-06") == date(2006, 12, 1)  # Excel's reading of 12/1/06
    for text in (NOT_CAPTURED, FROM_RDC, PRE_PQ):
        assert scms.order_date(text) is None
    with pytest.raises(scms.UnreadableDate):
        scms.order_date("13/40/06")


def test_an_unreadable_date_skips_its_row_and_says_which(tmp_path: Path):
    rows = [row(1, "ASN-1"), row(2, "ASN-2", **{scms.DELIVERED: "2014-03-12"})]
    shipments, report = read(write_both(tmp_path, scms.COLUMNS, rows)["tsv"])
    assert set(shipments) == {"ASN-1"}
    assert report.skipped == {"rows with an unreadable date": 1}
    assert "ID 2" in report.examples["rows with an unreadable date"]


def test_a_table_without_a_needed_column_is_refused_with_its_name(tmp_path: Path):
    columns = [name for name in scms.COLUMNS if name != scms.SCHEDULED]
    path = write_both(tmp_path, columns, [row(1, "ASN-1")])["csv"]
    with pytest.raises(TableError, match="Scheduled Delivery Date"):
        read(path)


def test_events_are_an_order_a_label_and_a_delivery_that_the_trainer_reads(tmp_path: Path, table):
    report = import_history("scms", [table], tmp_path / "out")
    assert report.written == 4 and report.late == 4
    now = datetime.now(ZoneInfo("UTC"))
    orders = read_jsonl([tmp_path / "out" / "orders.jsonl"], "order", now=now)
    scans = read_jsonl([tmp_path / "out" / "scans.jsonl"], "scan", now=now)
    assert len(orders) == 4 and len(scans) == 8
    history = replay(orders, scans, now=now)  # type: ignore[arg-type]
    final = history.final_states["scms-ASN-1"]
    assert final.tracking.status is ShipmentStatus.DELIVERED
    assert final.tracking.delivered_at == local(date(2014, 3, 12), time(12))
    label = next(s for s in scans if s.tracking_number == "scms-ASN-1")
    assert label.status is ShipmentStatus.INFO_RECEIVED
    assert label.occurred_at == local(date(2014, 2, 3), time(12))


def test_reimporting_writes_identical_files_with_distinct_uuid5_ids(tmp_path: Path, table):
    import_history("scms", [table], tmp_path / "a")
    import_history("scms", [table], tmp_path / "b")
    for name in ("orders.jsonl", "scans.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    shipment = read(table)[0]["ASN-1"]
    ids = [event.event_id for event in shipment_events(shipment)]
    assert len(set(ids)) == 3 and all(len(i) == 36 and i[14] == "5" for i in ids)


def test_csv_and_tsv_give_the_same_shipments(tmp_path: Path):
    paths = write_both(tmp_path, scms.COLUMNS, ROWS)
    assert read(paths["csv"]) == read(paths["tsv"])
