"""Public holidays, and the business and delivery days counted around them."""

from __future__ import annotations

import calendar
import functools
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from parcelwatch.streams.simulation.geography import _Area


def easter_sunday(year: int) -> date:
    """Western Easter Sunday of ``year`` (the anonymous Gregorian computus, Meeus/Jones/Butcher)."""
    golden = year % 19
    century, year_of_century = divmod(year, 100)
    leap_centuries, century_rest = divmod(century, 4)
    correction = (century + 8) // 25
    moon = (century - correction + 1) // 3
    epact = (19 * golden + century - leap_centuries - moon + 15) % 30
    leap_years, year_rest = divmod(year_of_century, 4)
    weekday = (32 + 2 * century_rest + 2 * leap_years - epact - year_rest) % 7
    shift = (golden + 11 * epact + 22 * weekday) // 451
    month, day = divmod(epact + weekday - 7 * shift + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """The ``nth`` ``weekday`` (0: Monday) of the month; ``nth`` -1: the last one."""
    if nth > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _with_substitutes(days: list[date], fixed: list[date], *, us_rule: bool) -> set[date]:
    """``days`` plus the weekday each weekend date in ``fixed`` is observed on instead.

    US federal rule: a Saturday holiday is observed on the Friday before, a Sunday one on the
    Monday after. GB and CA: the next weekday that is not already a holiday (so Christmas on a
    Saturday and Boxing Day on the Sunday give Monday the 27th and Tuesday the 28th).
    """
    observed = set(days)
    for holiday in fixed:
        if holiday.weekday() < 5:
            continue
        if us_rule:
            observed.add(holiday + timedelta(days=-1 if holiday.weekday() == 5 else 1))
            continue
        substitute = holiday + timedelta(days=1)
        while substitute.weekday() >= 5 or substitute in observed:
            substitute += timedelta(days=1)
        observed.add(substitute)
    return observed


def _holidays_of(country: str, year: int) -> set[date]:
    """The holidays that belong to ``year`` (their substitutes may fall into the next or the
    previous year: New Year's Day on a Saturday is observed on 31 December in the US)."""
    easter = easter_sunday(year)
    new_year, christmas, boxing_day = date(year, 1, 1), date(year, 12, 25), date(year, 12, 26)
    if country == "US":
        fixed = [new_year, date(year, 7, 4), christmas]
        movable = [
            _nth_weekday(year, 5, 0, -1),  # Memorial Day
            _nth_weekday(year, 9, 0, 1),  # Labor Day
            _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        ]
        return _with_substitutes(fixed + movable, fixed, us_rule=True)
    if country == "DE":  # nationwide holidays only; no substitute days in Germany
        return {
            new_year,
            easter - timedelta(days=2),  # Karfreitag
            easter + timedelta(days=1),  # Ostermontag
            date(year, 5, 1),  # Tag der Arbeit
            easter + timedelta(days=39),  # Christi Himmelfahrt
            easter + timedelta(days=50),  # Pfingstmontag
            date(year, 10, 3),  # Tag der Deutschen Einheit
            christmas,
            boxing_day,
        }
    if country == "GB":  # bank holidays of England and Wales
        fixed = [new_year, christmas, boxing_day]
        movable = [
            easter - timedelta(days=2),  # Good Friday
            easter + timedelta(days=1),  # Easter Monday
            _nth_weekday(year, 5, 0, 1),  # early May bank holiday
            _nth_weekday(year, 5, 0, -1),  # spring bank holiday
            _nth_weekday(year, 8, 0, -1),  # summer bank holiday
        ]
        return _with_substitutes(fixed + movable, fixed, us_rule=False)
    if country == "CA":  # federal statutory holidays that Canada Post and couriers observe
        may_24 = date(year, 5, 24)
        fixed = [new_year, date(year, 7, 1), date(year, 11, 11), christmas, boxing_day]
        movable = [
            easter - timedelta(days=2),  # Good Friday
            may_24 - timedelta(days=may_24.weekday()),  # Victoria Day: Monday before 25 May
            _nth_weekday(year, 9, 0, 1),  # Labour Day
            _nth_weekday(year, 10, 0, 2),  # Thanksgiving
        ]
        return _with_substitutes(fixed + movable, fixed, us_rule=False)
    raise ValueError(f"no holiday calendar for {country!r}")


@functools.cache
def public_holidays(country: str, year: int) -> frozenset[date]:
    """The public holidays in ``country`` (US, DE, GB or CA) that fall in ``year``.

    Nobody delivers on them and merchants do not count them as business days. A rule-based,
    nationwide subset (regional holidays such as Bavaria's or Quebec's are left out):

    * US (the six days UPS and FedEx close): New Year's Day, Memorial Day (last Monday in May),
      Independence Day, Labor Day (first Monday in September), Thanksgiving (fourth Thursday in
      November), Christmas Day; a date on a Saturday is also observed on the Friday before, on a
      Sunday on the Monday after.
    * DE: New Year's Day, Good Friday, Easter Monday, 1 May, Ascension Day, Whit Monday, German
      Unity Day (3 October), Christmas Day and 26 December; no substitutes.
    * GB (England and Wales bank holidays, used for Scotland too): New Year's Day, Good Friday,
      Easter Monday, the early May, spring and summer bank holidays (first and last Monday in May,
      last Monday in August), Christmas Day, Boxing Day; a date on a weekend gets the next free
      weekday as its substitute.
    * CA: New Year's Day, Good Friday, Victoria Day (the Monday before 25 May), Canada Day,
      Labour Day, Thanksgiving (second Monday in October), Remembrance Day, Christmas Day, Boxing
      Day; weekend dates get substitutes as in GB.
    """
    nearby = _holidays_of(country, year - 1) | _holidays_of(country, year)
    nearby |= _holidays_of(country, year + 1)
    return frozenset(day for day in nearby if day.year == year)


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
