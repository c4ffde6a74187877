"""USAID SCMS Delivery History (data.usaid.gov ``a3rc-nmf6``) → delivered shipments.

Mapping (see also tests/data/histories/scms/README.md):

- One shipment per ``ASN/DN #``; its rows are line items. When they disagree on dates, the
  latest ``Delivered to Client Date`` and the earliest ``Scheduled Delivery Date`` count (the
  shipment is delivered when its last item is, and was promised by its earliest promise), and the
  import notes how many shipments disagreed. ``ordered_at`` is the earliest ``PO Sent to Vendor
  Date`` of its items, else the earliest ``PQ First Sent to Client Date``; shipments with
  neither are skipped and counted.
- The data has dates, not times, in the destination country's time zone: ``ordered_at`` and the
  delivered scan are at noon local, ``promised_by`` at the end (23:59:59) of the scheduled day.
- ``service_level`` is ``Shipment Mode`` as a slug (``Air Charter`` → ``air_charter``, ``N/A`` →
  ``unknown``); the carrier is the placeholder ``scms`` (the data names none); the destination
  country is the ISO code of ``Country``; the origin is unknown.
- Skipped and counted: a delivered date before the order date, a promise before the order or
  more than a year after it (outside the orders contract), dates that cannot be read.

PQ and PO dates are ``m/d/yy``, a text (``Date Not Captured``, ``N/A - From RDC``,
``Pre-PQ Process``: no date), or Excel-mangled ``yyyy-mm-dd`` standing for ``m/d/yy`` with
m = yyyy - 2000, d = mm, yy = dd (``2007-03-13`` is 7/3/13). Scheduled, delivered and recorded
dates are ``dd-Mmm-yy``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from parcelwatch.schemas.types import Location, Place, ScanTimeZone, TimeZoneSource
from parcelwatch.streams.carriers.countries import country_code
from parcelwatch.streams.carriers.timezones import zone_of_location
from parcelwatch.streams.offline.histories.shipments import (
    UNKNOWN_SERVICE_LEVEL,
    HistoricShipment,
    ImportReport,
    slug,
    within_contract,
)
from parcelwatch.streams.offline.histories.table import read_rows

DATASET = "scms"
ID = "ID"
SHIPMENT = "ASN/DN #"
COUNTRY = "Country"
MODE = "Shipment Mode"
PQ_SENT = "PQ First Sent to Client Date"
PO_SENT = "PO Sent to Vendor Date"
SCHEDULED = "Scheduled Delivery Date"
DELIVERED = "Delivered to Client Date"
# The columns kept in the vendored copy, in the original file's order.
COLUMNS = (
    ID, SHIPMENT, COUNTRY, "Fulfill Via", "Vendor INCO Term", MODE, PQ_SENT, PO_SENT,
    SCHEDULED, DELIVERED, "Delivery Recorded Date", "Product Group", "Manufacturing Site",
)  # fmt: skip
REQUIRED = (ID, SHIPMENT, COUNTRY, MODE, PQ_SENT, PO_SENT, SCHEDULED, DELIVERED)
DATES_DISAGREE = (
    "shipments whose line items disagree on dates (earliest scheduled, latest delivered)"
)
# Names in the data that CLDR does not list (older or abbreviated ones).
COUNTRY_ALIASES = {"Congo, DRC": "CD", "Swaziland": "SZ"}

_MONTH_DAY_YEAR = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2})")
_EXCEL_MANGLED = re.compile(r"(20\d{2})-(\d{2})-(\d{2})")
_NOON, _END_OF_DAY = time(12), time(23, 59, 59)


class UnreadableDate(ValueError):
    pass


def order_date(text: str) -> date | None:
    """A PQ or PO date; None for the texts that say there is none."""
    if match := _MONTH_DAY_YEAR.fullmatch(text):
        month, day, year = (int(part) for part in match.groups())
    elif match := _EXCEL_MANGLED.fullmatch(text):
        # Excel read m/d/yy as yy/m/d: the "year" holds the month, the "day" the year.
        mangled_year, mangled_month, mangled_day = (int(part) for part in match.groups())
        month, day, year = mangled_year - 2000, mangled_month, mangled_day
    elif text and not any(char.isdigit() for char in text):
        return None  # "Date Not Captured", "N/A - From RDC", "Pre-PQ Process"
    else:
        raise UnreadableDate(f"unreadable order date {text!r}")
    try:
        return date(2000 + year, month, day)
    except ValueError:
        raise UnreadableDate(f"impossible order date {text!r}") from None


def event_date(text: str) -> date:
    """A scheduled, delivered or recorded date: ``02-Jun-06`` (or ``2-Jun-06``)."""
    try:
        return datetime.strptime(text, "%d-%b-%y").date()
    except ValueError:
        raise UnreadableDate(f"unreadable date {text!r}") from None


def destination_country(name: str) -> str | None:
    return COUNTRY_ALIASES.get(name) or country_code(name)


@dataclass(frozen=True, slots=True)
class LineItem:
    """The fields of one SCMS row that the mapping uses, parsed."""

    shipment_id: str
    country: str
    mode: str
    pq_sent: date | None
    po_sent: date | None
    scheduled: date
    delivered: date


def line_item(row: dict[str, str]) -> LineItem:
    """Raises :class:`UnreadableDate` when a date cannot be read."""
    return LineItem(
        shipment_id=row[SHIPMENT],
        country=row[COUNTRY],
        mode=row[MODE],
        pq_sent=order_date(row[PQ_SENT]),
        po_sent=order_date(row[PO_SENT]),
        scheduled=event_date(row[SCHEDULED]),
        delivered=event_date(row[DELIVERED]),
    )


def _zone(country: str | None) -> tuple[tzinfo, ScanTimeZone]:
    name = zone_of_location(Location(country=country)) if country else None
    if name is None:
        return ZoneInfo("UTC"), ScanTimeZone(TimeZoneSource.UTC, "UTC")
    return ZoneInfo(name), ScanTimeZone(TimeZoneSource.LOCATION, name)


def shipment_of(items: Sequence[LineItem], report: ImportReport) -> HistoricShipment | None:
    """The shipment of one ``ASN/DN #``'s line items; None (skipped, counted) when it has none."""
    first = items[0]
    if len({(item.scheduled, item.delivered) for item in items}) > 1:
        report.notes[DATES_DISAGREE] += 1
    po_dates = [item.po_sent for item in items if item.po_sent is not None]
    pq_dates = [item.pq_sent for item in items if item.pq_sent is not None]
    ordered = min(po_dates) if po_dates else min(pq_dates) if pq_dates else None
    if ordered is None:
        report.skip("no PO sent date and no PQ first sent date", first.shipment_id)
        return None
    country = destination_country(first.country)
    if country is None:
        report.notes[f"unknown country {first.country!r} (no destination)"] += 1
    zone, said = _zone(country)
    mode = first.mode
    return HistoricShipment(
        dataset=DATASET,
        shipment_id=first.shipment_id,
        service_level=UNKNOWN_SERVICE_LEVEL if mode in ("", "N/A") else slug(mode),
        ordered_at=datetime.combine(ordered, _NOON, zone),
        promised_by=datetime.combine(min(item.scheduled for item in items), _END_OF_DAY, zone),
        delivered_at=datetime.combine(max(item.delivered for item in items), _NOON, zone),
        destination=None if country is None else Place(country=country),
        time_zone=said,
    )


def shipments_from_rows(
    rows: Iterable[dict[str, str]], report: ImportReport
) -> list[HistoricShipment]:
    """Rows of any number of files → shipments; a repeated ``ID`` counts once."""
    per_shipment: dict[str, list[LineItem]] = defaultdict(list)
    seen_ids: set[str] = set()
    for row in rows:
        if row[ID] in seen_ids:
            report.notes["repeated ID rows ignored"] += 1
            continue
        seen_ids.add(row[ID])
        report.rows += 1
        try:
            item = line_item(row)
        except UnreadableDate as error:
            report.skip("rows with an unreadable date", f"ID {row[ID]}: {error}")
            continue
        per_shipment[item.shipment_id].append(item)
    report.shipments = len(per_shipment)
    # Lazily: each shipment is built, then judged, before the next (the report's order).
    built = (shipment_of(items, report) for items in per_shipment.values())
    return within_contract((shipment for shipment in built if shipment is not None), report)


def read_shipments(paths: Sequence[Path], report: ImportReport) -> list[HistoricShipment]:
    rows = (row for path in paths for row in read_rows(path, REQUIRED))
    return shipments_from_rows(rows, report)
