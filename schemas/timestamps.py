"""RFC 3339 timestamps: strict parsing (an offset is mandatory) and canonical formatting."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# RFC 3339 section 5.6: full-date "T" full-time, where full-time requires Z or a numeric offset.
# Python's fromisoformat alone is too lenient: it accepts a date without a time, the basic format
# and a missing offset.
RFC3339_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
_RFC3339 = re.compile(RFC3339_PATTERN[1:-1])  # anchors dropped: fullmatch, as in JSON Schema


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp into an aware datetime; ValueError if it is not one."""
    if not _RFC3339.fullmatch(text):
        raise ValueError("not an RFC 3339 timestamp with an offset, e.g. 2026-11-26T14:05:00+01:00")
    normalised = text.replace("t", "T").replace("z", "Z")
    fraction = re.search(r"\.([0-9]+)", normalised)
    if fraction and len(fraction.group(1)) > 6:  # Python keeps microseconds; drop the nanoseconds
        normalised = normalised.replace(fraction.group(0), "." + fraction.group(1)[:6], 1)
    return datetime.fromisoformat(normalised)  # raises ValueError for e.g. February 30th


def format_rfc3339(moment: datetime) -> str:
    """Canonical form, keeping the original offset (a customer's local time stays readable)."""
    if moment.tzinfo is None:
        raise ValueError(
            "refusing to format a naive datetime: parcelwatch only handles aware times"
        )
    return moment.isoformat()


def utc_now() -> datetime:
    return datetime.now(UTC)
