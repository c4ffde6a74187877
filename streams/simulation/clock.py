"""Time helpers: local times in an area, whole seconds, cached time zones."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from parcelwatch.streams.simulation.geography import _Area


def _at(day: date, hour: float, area: _Area) -> datetime:
    """``hour`` (fractional) on ``day`` in the area's local time, as UTC."""
    local = datetime.combine(day, time()) + timedelta(hours=hour)
    return local.replace(tzinfo=area.zone).astimezone(UTC)


def _in_zone(moment: datetime, area: _Area) -> datetime:
    """The instant in the area's local time, with a fixed offset (as it reads on the wire)."""
    local = moment.astimezone(area.zone)
    offset = local.utcoffset()
    assert offset is not None
    return local.replace(tzinfo=_fixed_offset(offset))


def _hours(hours: float) -> timedelta:
    return timedelta(hours=hours)


def _whole_seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0) if moment.microsecond else moment


_zone = functools.cache(ZoneInfo)
_fixed_offset = functools.cache(timezone)
