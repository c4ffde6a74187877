"""The customer's clock: which time zone a shipment speaks in, and quiet hours in it."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parcelwatch.schemas.state import ShipmentState


@functools.lru_cache(maxsize=1024)
def zone_named(name: str) -> tzinfo | None:
    """The IANA zone ``name``, or None when this machine's tz database does not know it."""
    try:
        return ZoneInfo(name)
    # OSError: a folder of the database such as "America/Argentina" (IsADirectoryError)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def customer_zone(state: ShipmentState, default: tzinfo = UTC) -> tzinfo:
    """The customer's zone; else the promise's UTC offset (merchants promise in local time);
    else ``default``."""
    customer = state.order.customer
    if customer is not None and customer.timezone:
        zone = zone_named(customer.timezone)
        if zone is not None:
            return zone
    if state.order.promised_by is not None and state.order.promised_by.tzinfo is not None:
        return state.order.promised_by.tzinfo
    return default


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local hours in which non-urgent notifications wait; ``start`` may be after ``end``
    (21:00-08:00 spans midnight). Equal times mean no quiet hours."""

    start: time = time(21, 0)
    end: time = time(8, 0)

    def release_at(self, moment: datetime, zone: tzinfo) -> datetime | None:
        """When a notification due at ``moment`` may go out, or None if it may go out now."""
        if self.start == self.end:
            return None
        local = moment.astimezone(zone)
        clock = local.time().replace(tzinfo=None)
        if self.start < self.end:
            quiet = self.start <= clock < self.end
        else:
            quiet = clock >= self.start or clock < self.end
        if not quiet:
            return None
        day = local.date() if clock < self.end else local.date() + timedelta(days=1)
        # In UTC, so that it compares and round-trips like any stored time. A wall time in a DST
        # gap is read with the offset before the change (at worst an hour early); a repeated wall
        # time takes whichever of its two instants is still ahead of ``moment``.
        release = datetime.combine(day, self.end, tzinfo=zone)
        for candidate in (release, release.replace(fold=1)):
            instant = candidate.astimezone(UTC)
            if instant > moment:
                return instant
        return None


def parse_quiet_hours(text: str) -> QuietHours | None:
    """``"21:00-08:00"`` -> QuietHours; ``""`` or ``"off"`` -> None. ValueError otherwise."""
    cleaned = text.strip().lower()
    if cleaned in ("", "off", "none"):
        return None
    start, separator, end = cleaned.partition("-")
    if not separator:
        raise ValueError(f"quiet hours {text!r}: expected HH:MM-HH:MM, e.g. 21:00-08:00")
    return QuietHours(time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
