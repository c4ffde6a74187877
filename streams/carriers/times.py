"""Carriers' many ways of writing a moment, read into datetimes (naive when no offset is given)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

from parcelwatch.streams.carriers.model import PayloadError

# ISO 8601 as carriers write it: optional T, optional fraction of any length, and an optional
# Z / ±HH / ±HHMM / ±HH:MM offset.
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?"
)


def parse_iso(value: str) -> datetime:
    """An ISO 8601 date-time; naive when it has no offset, midnight when it has no time."""
    match = _ISO.fullmatch(value.strip())
    if match is None:
        raise PayloadError(f"not an ISO 8601 time: {value[:40]!r}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
            micro,
        )  # fmt: skip
    except ValueError as error:
        raise PayloadError(f"impossible time {value[:40]!r}: {error}") from None
    if offset is None:
        return moment
    zone = utc_offset(offset)
    if zone is None:
        raise PayloadError(f"impossible UTC offset {offset!r}")
    return moment.replace(tzinfo=zone)


# A UTC offset as carriers write it beside a local time: Z, -05:00, -0500, -05, -5:00 (USPS) or
# -04.00 (UPS Track Alert).
_OFFSET = re.compile(r"([+-])(\d{1,2})(?:[:.]?(\d{2}))?")


def utc_offset(value: str | None) -> tzinfo | None:
    """``value`` as a fixed-offset zone; None when absent, unreadable or impossible."""
    if value is None:
        return None
    value = value.strip()
    if value in ("Z", "z"):
        return UTC
    match = _OFFSET.fullmatch(value)
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    if int(hours) > 23 or int(minutes or 0) > 59:
        return None
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    return timezone(-delta if sign == "-" else delta)


def parse_with(value: str, *formats: str) -> datetime:
    """``value`` read with the first of ``formats`` (strptime) that fits."""
    cleaned = " ".join(value.split())
    for pattern in formats:
        try:
            return datetime.strptime(cleaned, pattern)
        except ValueError:
            continue
    raise PayloadError(f"time {value[:40]!r} fits none of the documented formats")


def parse_date(value: str, *formats: str) -> date:
    """A calendar date (an estimated delivery day); ISO first, then ``formats``."""
    cleaned = value.strip()
    try:
        return date.fromisoformat(cleaned[:10])
    except ValueError:
        pass
    return parse_with(cleaned, *formats).date()


def from_epoch(value: float, *, milliseconds: bool = False) -> datetime:
    """A Unix time in UTC."""
    seconds = value / 1000 if milliseconds else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadError(f"impossible Unix time {value!r}") from None
