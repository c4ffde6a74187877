"""Dates, times, counts and amounts as a customer's locale writes them, from CLDR (via Babel).

The words of a message come from the template files; everything CLDR knows better than a
translator typing names by hand — weekday and month names, the order of day and month, the
12- or 24-hour clock, plural forms, digit grouping, where the currency symbol goes — comes from
here. Babel ships the CLDR data inside its wheel: nothing is downloaded at run time.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from babel import Locale, UnknownLocaleError, localedata
from babel.core import parse_locale
from babel.dates import format_date, format_time, match_skeleton
from babel.numbers import format_currency
from babel.units import format_unit

# A weekday, a day of the month and the month's full name ("Friday 20 November"); each locale's
# CLDR data decides the order, the punctuation and the words around them ("Freitag, 20. November").
DATE_SKELETON = "MMMMEEEEd"
_QUOTED = re.compile(r"('(?:[^']|'')*')")  # literal text inside a CLDR pattern
_SHORT_WEEKDAY = re.compile(r"(?<!E)E{1,3}(?!E)")


class UnknownLocale(ValueError):
    """A locale that CLDR (as shipped with Babel) has no data for."""


def cldr_locale(tag: str) -> Locale:
    """``tag`` (``de-AT``, ``de_at``, ``fr``) as a Babel locale; UnknownLocale if CLDR lacks it."""
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError) as error:
        raise UnknownLocale(f"no CLDR data for locale {tag!r}") from error


@functools.lru_cache(maxsize=1024)
def formatting_locale(customer_locale: str | None, wording_locale: str) -> Locale:
    """The locale dates and amounts are written in for a message worded in ``wording_locale``.

    Always the wording's language: a date is part of the sentence, and "Freitag, 20. November"
    inside an English message is not something a customer can read. Within that language, the
    customer's region where CLDR knows it: ``fr-CA`` reads "14 h 05", ``en-GB`` "Friday 20
    November", ``en-US`` "Friday, November 20", ``de-AT`` "Jänner", and a ``pt-BR`` customer
    reading the English fallback gets plain English conventions (CLDR has no ``en_BR``), a
    ``fr-DE`` one English as written in Germany (``en_DE``).
    """
    wording = cldr_locale(wording_locale)
    territory, script = _region_and_script(customer_locale)
    if territory is None:
        return wording
    for chosen_script in dict.fromkeys((wording.script or script, wording.script)):
        identifier = "_".join(part for part in (wording.language, chosen_script, territory) if part)
        if localedata.exists(identifier):
            return Locale.parse(identifier)
    return wording


def _region_and_script(tag: str | None) -> tuple[str | None, str | None]:
    """The region and script subtags of a customer's locale, whether or not CLDR knows the
    locale as a whole (``fr-DE``: "DE"); nothing for an unreadable one."""
    if not tag:
        return None, None
    try:
        _, territory, script, *_ = parse_locale(tag.replace("-", "_"))
    except ValueError:
        return None, None
    return territory, script


@functools.lru_cache(maxsize=256)
def _date_pattern(locale: Locale) -> str:
    """The locale's pattern for DATE_SKELETON, with the weekday written out in full.

    CLDR lists patterns for a few skeletons only (``MMMMEd``: "EEE, MMMM d") and, unlike ICU,
    Babel does not widen the fields of the closest match to the ones asked for; only the
    weekday needs widening here, outside quoted literals."""
    closest = match_skeleton(DATE_SKELETON, locale.datetime_skeletons) or "MMMMEd"
    pattern = str(locale.datetime_skeletons[closest])
    parts = _QUOTED.split(pattern)  # odd indexes are quoted literals
    return "".join(
        part if index % 2 else _SHORT_WEEKDAY.sub("EEEE", part) for index, part in enumerate(parts)
    )


@functools.lru_cache(maxsize=4096)
def _formatted_date(day: date, locale: Locale) -> str:
    # Cached: answers and notifications name the same few days over and over, and Babel's
    # pattern formatting is the largest cost of building a lookup answer.
    return format_date(day, _date_pattern(locale), locale=locale)


@dataclass(frozen=True, slots=True)
class LocaleFormat:
    """Formatting in one CLDR locale; ``moment`` arguments are already in the customer's zone."""

    locale: Locale

    @classmethod
    def of(cls, customer_locale: str | None, wording_locale: str) -> LocaleFormat:
        return cls(formatting_locale(customer_locale, wording_locale))

    def date(self, moment: datetime) -> str:
        """Weekday, day and month: "Friday 20 November", "Freitag, 20. November"."""
        return _formatted_date(moment.date(), self.locale)

    def time(self, moment: datetime) -> str:
        """The wall-clock time, short: "14:05", "2:05 PM", "14 h 05"."""
        return format_time(moment, "short", tzinfo=moment.tzinfo, locale=self.locale)

    def days(self, count: int) -> str:
        """A number of days with the locale's plural form: "1 day", "3 days", "3 Tage"."""
        return format_unit(count, "duration-day", length="long", locale=self.locale)

    def amount(self, amount: Decimal | int | str, currency: str) -> str:
        """A money amount in ISO 4217 ``currency``: "€1,234.50", "1.234,50 €" (de, with a
        no-break space). Floats are refused: an amount of money must arrive exact."""
        if isinstance(amount, float):
            raise TypeError("pass money as Decimal, int or str, not float")
        return format_currency(Decimal(amount), currency.upper(), locale=self.locale)
