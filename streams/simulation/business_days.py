"""Public holidays, and the business and delivery days counted around them."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import holidays

if TYPE_CHECKING:
    from parcelwatch.streams.simulation.geography import _Area

# How to ask the `holidays` package for a country's days without parcel deliveries, where its
# nationwide public holidays (the default) are not those days.
_CALENDAR_OPTIONS: Mapping[str, Mapping[str, Any]] = {
    # England and Wales bank holidays, used for Scotland too (the nationwide UK set lacks Easter
    # Monday and the summer bank holiday)
    "GB": {"subdiv": "ENG"},
    # the federal statutory holidays, which federally regulated employers (couriers) keep
    "CA": {"categories": (holidays.GOVERNMENT, holidays.PUBLIC)},
}
# UPS and FedEx close on six of the eleven US federal holidays and deliver on the others.
_CARRIER_CLOSURES: Mapping[str, frozenset[str]] = {
    "US": frozenset(
        {
            "New Year's Day",
            "Memorial Day",
            "Independence Day",
            "Labor Day",
            "Thanksgiving Day",
            "Christmas Day",
        }
    ),
}
_OBSERVED = " (observed)"  # the package's label for a substitute day (language pinned to en_US)


@functools.cache
def public_holidays(country: str, year: int) -> frozenset[date]:
    """The public holidays in ``country`` (an ISO 3166-1 alpha-2 code) that fall in ``year``,
    substitute days included.

    Nobody delivers on them and merchants do not count them as business days. The dates come from
    the `holidays` package; the set is nationwide (regional holidays such as Bavaria's or Quebec's
    are left out), except for three choices:

    * US: the six days UPS and FedEx close (New Year's Day, Memorial Day, Independence Day, Labor
      Day, Thanksgiving Day, Christmas Day), each with its observed day when it falls on a weekend;
    * GB: the bank holidays of England and Wales;
    * CA: the federal statutory holidays.

    Raises ValueError for a country the package does not know.
    """
    options = _CALENDAR_OPTIONS.get(country, {})
    try:
        # a substitute day can fall in the year before or after its holiday's (New Year's Day
        # 2028, a Saturday, is observed on 31 December 2027 in the US)
        calendar = holidays.country_holidays(
            country, years=(year - 1, year, year + 1), language="en_US", **options
        )
    except NotImplementedError as unknown:
        raise ValueError(f"no holiday calendar for {country!r}") from unknown
    closures = _CARRIER_CLOSURES.get(country)
    return frozenset(
        day
        for day in calendar
        if day.year == year
        and (
            closures is None
            or any(name.removesuffix(_OBSERVED) in closures for name in calendar.get_list(day))
        )
    )


def _is_business_day(day: date, country: str) -> bool:
    """Monday to Friday and not a public holiday in ``country``."""
    return day.weekday() < 5 and day not in public_holidays(country, day.year)


def _delivers(day: date, saturday: bool, country: str) -> bool:
    """Whether parcels go out for delivery on ``day`` in ``country``: never on a Sunday or a
    public holiday, on a Saturday only if ``saturday``."""
    weekday = day.weekday()
    return (weekday < 5 or (saturday and weekday == 5)) and day not in public_holidays(
        country, day.year
    )


def _next_business_day(day: date, country: str) -> date:
    day += timedelta(days=1)
    while not _is_business_day(day, country):
        day += timedelta(days=1)
    return day


def _add_days(day: date, days: int, saturday: bool, country: str) -> date:
    """``days`` delivery days after ``day`` in ``country`` (never a Sunday or a public holiday;
    Saturday only if ``saturday``)."""
    for _ in range(days):
        day += timedelta(days=1)
        while not _delivers(day, saturday, country):
            day += timedelta(days=1)
    return day


def _delivery_day_from(moment: datetime, area: _Area, saturday: bool) -> date:
    """The first delivery day in ``area`` whose morning round ``moment`` still makes: the same
    local day if it is a delivery day and ``moment`` is before 06:30 there, else the next one."""
    local = moment.astimezone(area.zone)
    day = local.date()
    if local.time() > time(6, 30):
        day += timedelta(days=1)
    while not _delivers(day, saturday, area.country):
        day += timedelta(days=1)
    return day
