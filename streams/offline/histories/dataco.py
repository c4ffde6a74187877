"""DataCo Smart Supply Chain (Constante, Silva & Pereira 2019, DOI 10.17632/8gx2fvg2k6.5, CC BY
4.0, partly synthetic) → delivered shipments.

Mapping (see also tests/data/histories/dataco/README.md):

- One shipment per ``Order Id`` (its rows are order items and share the order's fields; the
  first row counts). Orders whose ``Delivery Status`` is ``Shipping canceled`` are dropped.
- ``ordered_at`` is ``order date (DateOrders)`` read as UTC: the data gives no time zone.
  ``promised_by`` = ``ordered_at`` + ``Days for shipment (scheduled)`` days; the delivered scan is
  at ``ordered_at`` + ``Days for shipping (real)`` days, the dataset's own measure of lateness
  (``Late_delivery_risk`` is real days > scheduled days); the label scan at ``ordered_at``.
- ``service_level`` is ``Shipping Mode`` as a slug (``Standard Class`` → ``standard_class``), the
  carrier the placeholder ``dataco``, the destination ``Order Country`` (Spanish names → ISO code)
  with ``Order State`` as its region; the origin is unknown.
- Every row's late label derived this way (delivered after the promise) is compared with
  ``Late_delivery_risk``; rows that differ are counted. ``shipping date (DateOrders)`` is not the
  delivery: it equals the order time plus the real days on every row except ``Same Day`` ones,
  which it puts 12 hours after the order whatever the real days (0 or 1), so reading it as the
  delivery would call on-time same-day orders late.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from parcelwatch.schemas.types import Place, ScanTimeZone, TimeZoneSource
from parcelwatch.streams.carriers.countries import country_code
from parcelwatch.streams.offline.histories.shipments import (
    HistoricShipment,
    ImportReport,
    slug,
    within_contract,
)
from parcelwatch.streams.offline.histories.table import read_rows

DATASET = "dataco"
ORDER_ID = "Order Id"
ORDERED = "order date (DateOrders)"
REAL_DAYS = "Days for shipping (real)"
SCHEDULED_DAYS = "Days for shipment (scheduled)"
STATUS = "Delivery Status"
LATE_RISK = "Late_delivery_risk"
MODE = "Shipping Mode"
SHIPPED = "shipping date (DateOrders)"
COUNTRY = "Order Country"
STATE = "Order State"
# The columns kept in the vendored copy, in the order the transcription has them.
COLUMNS = (
    ORDER_ID, ORDERED, REAL_DAYS, SCHEDULED_DAYS, STATUS, LATE_RISK, MODE, SHIPPED, "Market",
    "Order Region", COUNTRY, STATE, "Customer State",
)  # fmt: skip
REQUIRED = (ORDER_ID, ORDERED, REAL_DAYS, SCHEDULED_DAYS, STATUS, LATE_RISK, MODE, COUNTRY, STATE)
CANCELLED = "Shipping canceled"
LABEL_MISMATCH = "rows whose derived late label differs from Late_delivery_risk"
# Names in the data that CLDR spells otherwise (it has "Chequia", "Macedonia del Norte"…).
COUNTRY_ALIASES = {
    "Costa de Marfil": "CI", "Hong Kong": "HK", "Macedonia": "MK", "República Checa": "CZ",
}  # fmt: skip
_TIME_FORMAT = "%m/%d/%Y %H:%M"
_UTC = ScanTimeZone(TimeZoneSource.UTC, "UTC")


class UnreadableRow(ValueError):
    pass


def order_time(text: str) -> datetime:
    """``1/31/2018 22:56`` as UTC."""
    try:
        return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise UnreadableRow(f"unreadable time {text!r}") from None


def _days(row: dict[str, str], column: str) -> int:
    try:
        return int(row[column])
    except ValueError:
        raise UnreadableRow(f"unreadable {column} {row[column]!r}") from None


def destination_country(name: str) -> str | None:
    return COUNTRY_ALIASES.get(name) or country_code(name)


def shipment_of(row: dict[str, str], report: ImportReport) -> HistoricShipment:
    """One (not cancelled) row as its order's shipment; raises :class:`UnreadableRow`."""
    ordered_at = order_time(row[ORDERED])
    scheduled_days, real_days = _days(row, SCHEDULED_DAYS), _days(row, REAL_DAYS)
    country = destination_country(row[COUNTRY])
    if country is None:
        report.notes[f"unknown country {row[COUNTRY]!r} (no destination country)"] += 1
    return HistoricShipment(
        dataset=DATASET,
        shipment_id=row[ORDER_ID],
        service_level=slug(row[MODE]),
        ordered_at=ordered_at,
        promised_by=ordered_at + timedelta(days=scheduled_days),
        delivered_at=ordered_at + timedelta(days=real_days),
        destination=Place(region=row[STATE] or None, country=country),
        time_zone=_UTC,
    )


def shipments_from_rows(
    rows: Iterable[dict[str, str]], report: ImportReport
) -> list[HistoricShipment]:
    """Rows of any number of files → one shipment per ``Order Id``, cancelled orders left out."""
    shipments: dict[str, HistoricShipment] = {}
    cancelled: set[str] = set()
    unreadable: dict[str, str] = {}  # order id → why
    for row in rows:
        report.rows += 1
        order_id = row[ORDER_ID]
        if row[STATUS] == CANCELLED:
            cancelled.add(order_id)
            continue
        try:
            shipment = shipment_of(row, report)
        except UnreadableRow as error:
            unreadable.setdefault(order_id, f"Order Id {order_id}: {error}")
            continue
        if int(shipment.late) != int(row[LATE_RISK] or 0):
            report.notes[LABEL_MISMATCH] += 1
        first = shipments.setdefault(order_id, shipment)
        if first != shipment:
            report.notes["rows of one order that disagree (its first row taken)"] += 1
    report.shipments = len(shipments.keys() | cancelled | unreadable.keys())
    for order_id in cancelled:  # an order with a cancelled row is cancelled
        report.skip(f"orders whose status is {CANCELLED!r}")
        shipments.pop(order_id, None)
    for order_id, why in unreadable.items():
        if order_id not in shipments and order_id not in cancelled:
            report.skip("orders with an unreadable field", why)
    return within_contract(shipments.values(), report)


def read_shipments(paths: Sequence[Path], report: ImportReport) -> list[HistoricShipment]:
    rows = (row for path in paths for row in read_rows(path, REQUIRED))
    return shipments_from_rows(rows, report)
