"""The DataCo adapter on hand-written rows: every mapping rule, from the original CSV (Latin-1,
as the original is) and from the vendored TSV alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from parcelwatch.schemas.types import TimeZoneSource
from parcelwatch.streams.offline.histories import dataco
from parcelwatch.streams.offline.histories.command import import_history
from parcelwatch.streams.offline.histories.shipments import ImportReport
from parcelwatch.streams.offline.replay import read_jsonl
from tests.streams.offline.histories.tables import write_both


def row(order_id: int, **fields: str) -> dict[str, str]:
    base = {
        dataco.ORDER_ID: str(order_id),
        dataco.ORDERED: "4/1/2016 21:05",
        dataco.REAL_DAYS: "5",
        dataco.SCHEDULED_DAYS: "4",
        dataco.STATUS: "Late delivery",
        dataco.LATE_RISK: "1",
        dataco.MODE: "Standard Class",
        dataco.SHIPPED: "4/6/2016 21:05",
        dataco.COUNTRY: "México",
        dataco.STATE: "Baja California",
    }
    return {**base, **fields}


ON_TIME = {
    dataco.REAL_DAYS: "2",
    dataco.SHIPPED: "4/3/2016 21:05",
    dataco.STATUS: "Advance shipping",
    dataco.LATE_RISK: "0",
}
SAME_DAY_ON_TIME = {
    dataco.MODE: "Same Day", dataco.REAL_DAYS: "0", dataco.SCHEDULED_DAYS: "0",
    dataco.SHIPPED: "4/2/2016 9:05", dataco.STATUS: "Shipping on time", dataco.LATE_RISK: "0",
    dataco.COUNTRY: "Alemania", dataco.STATE: "Berlín",
}  # fmt: skip
ROWS = [
    row(1),
    row(2, **ON_TIME, **{dataco.COUNTRY: "Estados Unidos", dataco.STATE: "California"}),
    row(2, **ON_TIME, **{dataco.COUNTRY: "Estados Unidos", dataco.STATE: "California"}),
    row(3, **{dataco.STATUS: "Shipping canceled", dataco.LATE_RISK: "0"}),
    # Same Day: shipped 12 h after the order with 0 real days, on time by the data's own measure.
    row(4, **SAME_DAY_ON_TIME),
    # A row whose late flag contradicts its days (not in the data; the import must say so).
    row(8, **{dataco.LATE_RISK: "0"}),
    row(5, **{dataco.COUNTRY: "Costa de Marfil", dataco.STATE: "Abiyán"}),
    row(7, **{dataco.COUNTRY: "República Checa", dataco.STATE: "Bohemia Central"}),
    row(6, **{dataco.ORDERED: "09-06-2017 12:07"}),  # another copy's Excel-mangled time
]


@pytest.fixture(params=["csv", "tsv"])
def table(request, tmp_path: Path) -> Path:
    return write_both(tmp_path / "in", dataco.COLUMNS, ROWS, encoding="latin-1")[request.param]


def read(table: Path) -> tuple[dict[str, dataco.HistoricShipment], ImportReport]:
    report = ImportReport()
    shipments = dataco.read_shipments([table], report)
    return {s.shipment_id: s for s in shipments}, report


def test_an_order_is_promised_its_scheduled_days_after_it_was_placed_in_utc(table):
    shipment = read(table)[0]["1"]
    ordered = datetime(2016, 4, 1, 21, 5, tzinfo=UTC)
    assert shipment.ordered_at == ordered
    assert shipment.promised_by == ordered + timedelta(days=4)
    assert shipment.delivered_at == datetime(2016, 4, 6, 21, 5, tzinfo=UTC)
    assert shipment.late
    assert shipment.service_level == "standard_class"
    assert shipment.tracking_number == "dataco-1"
    assert shipment.time_zone.resolved_by is TimeZoneSource.UTC
    assert shipment.destination is not None
    assert (shipment.destination.country, shipment.destination.region) == ("MX", "Baja California")


def test_spanish_country_names_become_iso_codes(table):
    shipments = read(table)[0]
    countries = {number: s.destination.country for number, s in shipments.items() if s.destination}
    assert countries == {"1": "MX", "2": "US", "4": "DE", "5": "CI", "7": "CZ", "8": "MX"}


def test_one_shipment_per_order_cancelled_and_unreadable_orders_skipped_and_counted(table):
    shipments, report = read(table)
    assert set(shipments) == {"1", "2", "4", "5", "7", "8"}
    assert not shipments["2"].late
    assert report.rows == 9 and report.shipments == 8
    assert report.skipped == {
        "orders whose status is 'Shipping canceled'": 1,
        "orders with an unreadable field": 1,
    }
    assert "09-06-2017 12:07" in report.examples["orders with an unreadable field"]


def test_delivery_is_the_order_time_plus_the_real_days_not_the_shipping_date(table):
    shipments, report = read(table)
    same_day = shipments["4"]
    assert same_day.delivered_at == same_day.ordered_at == same_day.promised_by
    assert not same_day.late  # shipped 12 h later, but delivered within its 0 days
    assert report.notes == {dataco.LABEL_MISMATCH: 1}  # order 8 only


def test_the_events_pass_the_trainers_reader(tmp_path: Path, table):
    report = import_history("dataco", [table], tmp_path / "out")
    assert (report.written, report.late) == (6, 4)
    now = datetime.now(UTC)
    assert len(read_jsonl([tmp_path / "out" / "orders.jsonl"], "order", now=now)) == 6
    assert len(read_jsonl([tmp_path / "out" / "scans.jsonl"], "scan", now=now)) == 12


def test_csv_and_tsv_give_the_same_shipments(tmp_path: Path):
    paths = write_both(tmp_path, dataco.COLUMNS, ROWS, encoding="latin-1")
    assert read(paths["csv"]) == read(paths["tsv"])
