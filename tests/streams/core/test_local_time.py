"""The customer's clock: time zone fallbacks, quiet hours across midnight and DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from parcelwatch.schemas.state import OrderTerms, ShipmentState
from parcelwatch.schemas.types import Customer
from parcelwatch.streams.core.local_time import (
    QuietHours,
    customer_zone,
    parse_quiet_hours,
    zone_named,
)
from tests.factories import TRACKING

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NIGHT = QuietHours(time(21, 0), time(8, 0))  # spans midnight
SIESTA = QuietHours(time(13, 0), time(15, 0))  # within one day


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- quiet hours -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "release"),
    [
        (utc(2026, 11, 20, 22, 30), utc(2026, 11, 21, 8, 0)),  # evening: the next morning
        (utc(2026, 11, 21, 3, 0), utc(2026, 11, 21, 8, 0)),  # small hours: the same morning
    ],
)
def test_default_quiet_hours_span_midnight_and_release_at_eight(moment, release):
    assert QuietHours().release_at(moment, UTC) == release


@pytest.mark.parametrize(
    ("clock", "quiet"),
    [
        (time(20, 59, 59), False),
        (time(21, 0), True),  # the start is quiet
        (time(23, 59, 59), True),
        (time(0, 0), True),
        (time(7, 59, 59), True),
        (time(8, 0), False),  # the end is not
        (time(12, 0), False),
    ],
)
def test_quiet_hours_spanning_midnight_include_start_and_exclude_end(clock, quiet):
    moment = datetime.combine(datetime(2026, 11, 20).date(), clock, tzinfo=UTC)
    assert (NIGHT.release_at(moment, UTC) is not None) is quiet


@pytest.mark.parametrize(
    ("clock", "release"),
    [
        (time(12, 59), None),
        (time(13, 0), utc(2026, 11, 20, 15, 0)),
        (time(14, 30), utc(2026, 11, 20, 15, 0)),
        (time(15, 0), None),
        (time(23, 0), None),
    ],
)
def test_quiet_hours_within_one_day_release_the_same_day(clock, release):
    moment = datetime.combine(datetime(2026, 11, 20).date(), clock, tzinfo=UTC)
    assert SIESTA.release_at(moment, UTC) == release


@pytest.mark.parametrize("hour", [0, 8, 12, 21, 23])
def test_equal_start_and_end_means_no_quiet_hours(hour):
    always_on = QuietHours(time(22, 0), time(22, 0))
    assert always_on.release_at(utc(2026, 11, 20, hour, 0), BERLIN) is None


def test_quiet_hours_are_judged_on_the_customers_wall_clock():
    moment = utc(2026, 11, 20, 22, 0)  # 23:00 in Berlin, 17:00 in New York
    release = NIGHT.release_at(moment, BERLIN)
    assert release == datetime(2026, 11, 21, 8, 0, tzinfo=BERLIN)
    assert release == utc(2026, 11, 21, 7, 0)
    assert NIGHT.release_at(moment, NEW_YORK) is None


def test_spring_forward_night_in_berlin_releases_at_eight_summer_time():
    # 2026-03-29: clocks jump from 02:00 CET to 03:00 CEST; the night is an hour shorter.
    evening = datetime(2026, 3, 28, 22, 0, tzinfo=BERLIN)  # 21:00 UTC
    after_jump = datetime(2026, 3, 29, 3, 30, tzinfo=BERLIN)  # 01:30 UTC
    assert NIGHT.release_at(evening, BERLIN) == utc(2026, 3, 29, 6, 0)
    assert NIGHT.release_at(after_jump, BERLIN) == utc(2026, 3, 29, 6, 0)
    assert NIGHT.release_at(utc(2026, 3, 29, 6, 0), BERLIN) is None  # 08:00 CEST


def test_fall_back_night_in_new_york_releases_at_eight_standard_time():
    # 2026-11-01: clocks fall back from 02:00 EDT to 01:00 EST; the night is an hour longer.
    evening = datetime(2026, 10, 31, 22, 0, tzinfo=NEW_YORK)  # 02:00 UTC, EDT
    first_one_thirty = utc(2026, 11, 1, 5, 30)  # 01:30 EDT
    second_one_thirty = utc(2026, 11, 1, 6, 30)  # 01:30 EST, the repeated hour
    expected = utc(2026, 11, 1, 13, 0)  # 08:00 EST
    assert NIGHT.release_at(evening, NEW_YORK) == expected
    assert NIGHT.release_at(first_one_thirty, NEW_YORK) == expected
    assert NIGHT.release_at(second_one_thirty, NEW_YORK) == expected
    assert NIGHT.release_at(utc(2026, 11, 1, 12, 59), NEW_YORK) == expected
    assert NIGHT.release_at(utc(2026, 11, 1, 13, 0), NEW_YORK) is None


def test_quiet_hours_ending_in_a_dst_gap_release_within_an_hour_of_the_gap():
    # 02:30 does not exist in Berlin on 2026-03-29: the release is read as 02:30 CET (01:30 UTC).
    ends_in_gap = QuietHours(time(0, 0), time(2, 30))
    release = ends_in_gap.release_at(utc(2026, 3, 28, 23, 30), BERLIN)  # 00:30 CET
    # A time in a gap never compares equal across zones (PEP 495): compare it in UTC.
    assert release.astimezone(UTC) == utc(2026, 3, 29, 1, 30)
    assert release.astimezone(UTC) - utc(2026, 3, 29, 1, 0) <= timedelta(hours=1)  # the jump


# --- parse_quiet_hours -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("21:00-08:00", QuietHours(time(21, 0), time(8, 0))),
        ("  22:30 - 06:15 ", QuietHours(time(22, 30), time(6, 15))),
        ("13:00-15:00", QuietHours(time(13, 0), time(15, 0))),
    ],
)
def test_parse_quiet_hours_reads_start_and_end(text, expected):
    assert parse_quiet_hours(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "off", "OFF", " Off ", "none"])
def test_parse_quiet_hours_off_or_empty_means_none(text):
    assert parse_quiet_hours(text) is None


def test_parse_quiet_hours_without_a_dash_names_the_expected_format():
    with pytest.raises(ValueError, match=r"quiet hours '21:00': expected HH:MM-HH:MM"):
        parse_quiet_hours("21:00")


@pytest.mark.parametrize("text", ["25:00-08:00", "21:00-8h", "evening-morning", "21:00-"])
def test_parse_quiet_hours_rejects_invalid_times(text):
    with pytest.raises(ValueError):
        parse_quiet_hours(text)


# --- customer_zone ---------------------------------------------------------------------------


def state_with(timezone_name: str | None, promised_by: datetime | None) -> ShipmentState:
    customer = Customer("cust-1", "de-DE", timezone_name) if timezone_name != "-" else None
    return ShipmentState(TRACKING, order=OrderTerms(customer=customer, promised_by=promised_by))


PLUS_ONE = timezone(timedelta(hours=1))
PROMISE_IN_PLUS_ONE = datetime(2026, 11, 22, 23, 59, tzinfo=PLUS_ONE)


def test_customer_zone_prefers_the_customers_iana_zone():
    state = state_with("America/New_York", PROMISE_IN_PLUS_ONE)
    assert customer_zone(state) == NEW_YORK


@pytest.mark.parametrize("name", [None, "", "Mars/Olympus_Mons", "../etc/passwd"])
def test_customer_zone_falls_back_to_the_promises_offset(name):
    state = state_with(name, PROMISE_IN_PLUS_ONE)
    assert customer_zone(state) == PLUS_ONE


def test_customer_zone_uses_the_promises_offset_without_a_customer():
    assert customer_zone(state_with("-", PROMISE_IN_PLUS_ONE)) == PLUS_ONE


def test_customer_zone_falls_back_to_the_default_with_nothing_to_go_by():
    assert customer_zone(state_with("Not/A_Zone", None)) is UTC
    assert customer_zone(state_with("-", None), default=BERLIN) is BERLIN


@pytest.mark.parametrize("name", ["Not/A_Zone", "", "../etc/passwd", "/etc/localtime"])
def test_zone_named_returns_none_for_unknown_or_unsafe_names(name):
    assert zone_named(name) is None


@pytest.mark.parametrize("name", ["America/Argentina", "America/Indiana"])
def test_zone_named_returns_none_for_a_tz_database_folder(name):
    # These pass the contract's timezone pattern (patterns.TIMEZONE), but are folders
    # of the tz database, not zones: ZoneInfo raises IsADirectoryError for them.
    assert zone_named(name) is None


def test_customer_zone_falls_back_when_the_customer_names_a_tz_database_folder():
    state = state_with("America/Argentina", PROMISE_IN_PLUS_ONE)
    assert customer_zone(state) == PLUS_ONE


def test_zone_named_knows_real_zones():
    assert zone_named("Europe/Berlin") == BERLIN
    assert zone_named("UTC") == ZoneInfo("UTC")


def test_quiet_hours_ending_in_the_repeated_hour_never_release_before_the_moment():
    # 2026-11-01 in New York: 01:00-02:00 happens twice. Asked at the second 01:10 (EST), the
    # first 01:30 (EDT) is already past: the release is the second one.
    short_night = QuietHours(time(0, 0), time(1, 30))
    second_ten_past_one = utc(2026, 11, 1, 6, 10)  # 01:10 EST
    assert short_night.release_at(second_ten_past_one, NEW_YORK) == utc(2026, 11, 1, 6, 30)


def test_a_release_time_is_in_utc_and_round_trips_through_the_state():
    from parcelwatch.schemas.timestamps import format_rfc3339, parse_rfc3339

    ends_in_gap = QuietHours(time(0, 0), time(2, 30))
    release = ends_in_gap.release_at(utc(2026, 3, 28, 23, 30), BERLIN)
    assert release is not None and release.utcoffset() == timedelta(0)
    assert parse_rfc3339(format_rfc3339(release)) == release
