"""Dates, times, counts and amounts written from CLDR, and the locale they are written in."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from parcelwatch.streams.core.locale_format import (
    LocaleFormat,
    UnknownLocale,
    cldr_locale,
    formatting_locale,
)

NBSP, NNBSP = "\u00a0", "\u202f"  # CLDR's no-break and narrow no-break spaces
VIENNA = ZoneInfo("Europe/Vienna")
MONDAY_4_JANUARY = datetime(2027, 1, 4, 14, 5, tzinfo=VIENNA)


@pytest.mark.parametrize(
    ("customer", "wording", "chosen"),
    [
        ("en-GB", "en", "en_GB"),
        ("en-US", "en", "en_US"),
        ("de-AT", "de", "de_AT"),
        ("de_at", "de", "de_AT"),
        ("DE-ch", "de", "de_CH"),
        ("fr-CA", "fr", "fr_CA"),
        ("de-AT", "de-at", "de_AT"),  # a regional wording file
        ("es-419", "es", "es_419"),
        ("zh-Hant-TW", "zh", "zh_Hant_TW"),
        ("fr-DE", "en", "en_DE"),  # English wording: English as written in Germany
        ("pt-BR", "en", "en"),  # English wording, and CLDR has no English for Brazil
        ("de", "de", "de"),
        ("de-AT", "en", "en_AT"),
        (None, "en", "en"),
        ("", "fr", "fr"),
        ("not a locale!", "de", "de"),
        ("de-AT-u-nu-latn", "de", "de"),  # BCP 47 extensions are not read
    ],
)
def test_dates_are_written_in_the_wording_language_with_the_customers_region(
    customer, wording, chosen
):
    assert str(formatting_locale(customer, wording)) == chosen


@pytest.mark.parametrize(
    ("customer", "wording", "date", "time"),
    [
        ("en-GB", "en", "Monday 4 January", "14:05"),
        ("en-US", "en", "Monday, January 4", f"2:05{NNBSP}PM"),
        ("pt-BR", "en", "Monday, January 4", f"2:05{NNBSP}PM"),
        ("de-DE", "de", "Montag, 4. Januar", "14:05"),
        ("de-AT", "de", "Montag, 4. Jänner", "14:05"),  # Austrian month name
        ("fr-FR", "fr", "lundi 4 janvier", "14:05"),
        ("fr-CA", "fr", "lundi 4 janvier", "14 h 05"),
    ],
)
def test_date_and_time_follow_the_locale(customer, wording, date, time):
    written = LocaleFormat.of(customer, wording)
    assert written.date(MONDAY_4_JANUARY) == date
    assert written.time(MONDAY_4_JANUARY) == time


def test_date_and_time_are_read_on_the_moments_own_clock():
    # 23:30 in Vienna is already the next day in UTC: nothing may convert it back.
    late = datetime(2027, 1, 4, 23, 30, tzinfo=VIENNA)
    written = LocaleFormat.of("en-GB", "en")
    assert (written.date(late), written.time(late)) == ("Monday 4 January", "23:30")


@pytest.mark.parametrize(
    ("customer", "wording", "one", "several"),
    [
        ("en-GB", "en", "1 day", "3 days"),
        ("de-AT", "de", "1 Tag", "3 Tage"),
        ("fr-CA", "fr", f"1{NBSP}jour", f"3{NBSP}jours"),
    ],
)
def test_days_take_the_locales_plural_form(customer, wording, one, several):
    written = LocaleFormat.of(customer, wording)
    assert (written.days(1), written.days(3)) == (one, several)


@pytest.mark.parametrize(
    ("customer", "wording", "amount", "currency", "text"),
    [
        ("de-DE", "de", Decimal("1234.5"), "EUR", f"1.234,50{NBSP}€"),
        ("en-GB", "en", Decimal("1234.5"), "EUR", "€1,234.50"),
        ("en-US", "en", "1234.5", "eur", "€1,234.50"),
        ("de-AT", "de", Decimal("1234.5"), "EUR", f"€{NBSP}1.234,50"),
        ("fr-CA", "fr", Decimal("1234.5"), "CAD", f"1{NBSP}234,50{NBSP}$"),
        ("fr-FR", "fr", 20, "EUR", f"20,00{NBSP}€"),
        ("en-US", "en", Decimal("0.1"), "JPY", "¥0"),  # the yen has no minor unit
    ],
)
def test_amounts_are_written_with_the_locales_grouping_decimals_and_symbol(
    customer, wording, amount, currency, text
):
    assert LocaleFormat.of(customer, wording).amount(amount, currency) == text


def test_an_amount_of_money_must_not_be_a_float():
    with pytest.raises(TypeError, match="not float"):
        LocaleFormat.of("de", "de").amount(1234.5, "EUR")


@pytest.mark.parametrize("tag", ["xx", "", "123", "de-AT-u-nu-latn"])
def test_a_locale_without_cldr_data_is_named(tag):
    with pytest.raises(UnknownLocale, match="no CLDR data"):
        cldr_locale(tag)


def test_cldr_data_ships_inside_the_babel_package():
    """Babel reads CLDR from files in its own package: no download, no system locales."""
    from importlib.resources import files

    data = files("babel") / "locale-data"
    assert (data / "de_AT.dat").is_file() and (data / "fr_CA.dat").is_file()
    assert (files("babel") / "global.dat").is_file()
