"""Public holidays (real dates), and the business and delivery days around them."""

from __future__ import annotations

from collections import Counter
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from parcelwatch.schemas.types import Scan, ShipmentStatus
from parcelwatch.streams.simulation import SimulatedEvent, public_holidays

from tests.streams.simulation.journeys import local_day, orders_of, scans_of


def _holidays(country: str, *days: tuple[int, int, int]) -> set[date]:
    """The given days that are public holidays in ``country``."""
    return {date(*day) for day in days if date(*day) in public_holidays(country, day[0])}


def test_us_holidays_are_the_six_days_the_carriers_close_with_their_observed_days() -> None:
    closed = [(2026, 1, 1), (2026, 5, 25), (2026, 7, 4), (2026, 9, 7), (2026, 11, 26)]
    closed += [(2026, 12, 25), (2025, 11, 27), (2027, 11, 25)]  # Thanksgiving in other years
    assert _holidays("US", *closed) == {date(*day) for day in closed}
    # Independence Day 2026 is a Saturday: observed on Friday the 3rd; New Year's Day 2028 is a
    # Saturday: observed on Friday 31 December 2027
    assert _holidays("US", (2026, 7, 3), (2027, 12, 31)) == {date(2026, 7, 3), date(2027, 12, 31)}
    # UPS and FedEx deliver on the other federal holidays: Martin Luther King Jr. Day, Presidents'
    # Day, Juneteenth, Columbus Day, Veterans Day
    working = [(2026, 1, 19), (2026, 2, 16), (2026, 6, 19), (2026, 10, 12), (2026, 11, 11)]
    assert _holidays("US", *working) == set()
    assert _holidays("US", (2026, 11, 19), (2026, 11, 27), (2026, 4, 6)) == set()


def test_german_holidays_are_the_nationwide_ones_without_substitutes() -> None:
    unity_day, good_friday, easter_monday = (2026, 10, 3), (2026, 4, 3), (2026, 4, 6)
    ascension, whit_monday = (2026, 5, 14), (2026, 5, 25)
    days = [unity_day, good_friday, easter_monday, ascension, whit_monday, (2026, 12, 26)]
    assert _holidays("DE", *days) == {date(*day) for day in days}
    assert _holidays("DE", (2026, 10, 5)) == set()  # Unity Day on a Saturday is not made up for
    assert _holidays("DE", (2017, 10, 31)) == {date(2017, 10, 31)}  # the Reformation's 500th
    assert _holidays("DE", (2026, 10, 31), (2026, 1, 6)) == set()  # regional holidays


def test_british_holidays_are_the_bank_holidays_of_england_and_wales() -> None:
    easter_mondays = [(2026, 4, 6), (2027, 3, 29)]
    assert _holidays("GB", *easter_mondays) == {date(*day) for day in easter_mondays}
    assert _holidays("GB", (2026, 8, 31)) == {date(2026, 8, 31)}  # summer bank holiday
    # Boxing Day 2026 is a Saturday; Christmas 2027 a Saturday and Boxing Day a Sunday
    substitutes = [(2026, 12, 28), (2027, 12, 27), (2027, 12, 28)]
    assert _holidays("GB", *substitutes) == {date(*day) for day in substitutes}
    one_offs = [(2022, 9, 19), (2023, 5, 8)]  # the Queen's funeral, the King's coronation
    assert _holidays("GB", *one_offs) == {date(*day) for day in one_offs}


def test_canadian_holidays_are_the_federal_statutory_ones_with_substitutes() -> None:
    # Good Friday, Victoria Day, Canada Day, Truth and Reconciliation, Thanksgiving, Remembrance Day
    days = [
        (2026, 4, 3),
        (2026, 5, 18),
        (2026, 7, 1),
        (2026, 9, 30),
        (2026, 10, 12),
        (2026, 11, 11),
    ]
    assert _holidays("CA", *days) == {date(*day) for day in days}
    # Canada Day on a Saturday (2028) and on a Sunday (2029) is made up for on the Monday
    assert _holidays("CA", (2028, 7, 3), (2029, 7, 2)) == {date(2028, 7, 3), date(2029, 7, 2)}
    assert _holidays("CA", (2026, 4, 6), (2026, 6, 24)) == set()  # Easter Monday, Quebec's day


def test_public_holidays_are_those_of_the_year_asked_for_in_any_country_known() -> None:
    for country in ("US", "DE", "GB", "CA"):
        for year in (2026, 2027, 2028):
            holidays = public_holidays(country, year)
            assert {date(year, 1, 1), date(year, 12, 25)} <= holidays
            assert {day.year for day in holidays} == {year}
    assert date(2026, 7, 14) in public_holidays("FR", 2026)  # beyond the simulated countries
    with pytest.raises(ValueError):
        public_holidays("XX", 2026)


def test_nothing_is_delivered_on_a_public_holiday_in_the_destination(
    season: list[SimulatedEvent],
) -> None:
    orders = orders_of(season)
    per_day: Counter[tuple[str, date]] = Counter()
    at_the_door = (
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.ATTEMPT_FAILED,
        ShipmentStatus.DELIVERED,
    )
    for e in scans_of(season):
        assert isinstance(e.event, Scan)
        if e.event.status not in at_the_door:
            continue
        order = orders[e.key]
        assert order.destination is not None
        day = local_day(e.event.occurred_at, order)
        assert day not in public_holidays(order.destination.country, day.year), (e.key, day)
        assert day.weekday() != 6, (e.key, day)
        per_day[order.destination.country, day] += 1
    quiet = [("US", date(2026, 11, 26)), ("DE", date(2026, 10, 3))]
    quiet += [(country, date(2026, 12, 25)) for country in ("US", "DE", "GB", "CA")]
    assert [per_day[day] for day in quiet] == [0] * len(quiet)
    # ...while the working days around them are busy
    assert per_day["US", date(2026, 11, 25)] > 20 and per_day["US", date(2026, 11, 27)] > 20
    assert per_day["US", date(2026, 12, 24)] > 10 and per_day["US", date(2026, 12, 28)] > 10
    saturdays_in_germany = [n for (c, d), n in per_day.items() if c == "DE" and d.weekday() == 5]
    assert sum(saturdays_in_germany) > 5  # DHL delivers on Saturdays, not on that one


def test_promises_skip_weekends_and_the_destinations_holidays(
    season: list[SimulatedEvent],
) -> None:
    orders = orders_of(season).values()
    for order in orders:
        assert order.destination is not None
        due = local_day(order.promised_by, order)
        assert due.weekday() < 5 and due not in public_holidays(order.destination.country, due.year)
    eastern = ZoneInfo("America/New_York")
    before_thanksgiving = [
        order
        for order in orders
        if order.origin is not None
        and order.destination is not None
        and order.origin.country == order.destination.country == "US"
        and order.ordered_at.astimezone(eastern).date() == date(2026, 11, 25)
        and 6 <= order.ordered_at.astimezone(eastern).hour < 20
    ]
    assert len(before_thanksgiving) > 5
    # ships by Friday (Thursday is Thanksgiving), so due on Monday 30 November at the earliest
    assert min(local_day(o.promised_by, o) for o in before_thanksgiving) == date(2026, 11, 30)
