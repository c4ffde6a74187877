"""How a local day and time read in the answers' en, de and fr, written out here independently of
the code that writes them (``locale_format``)."""

from __future__ import annotations

import re
from datetime import datetime

MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
           "Oktober", "November", "Dezember"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre"),
}  # fmt: skip


def written_day(language: str, local: datetime) -> str:
    month = MONTHS[language][local.month - 1]
    return {
        "en": f"{month} {local.day}",
        "de": f"{local.day}. {month}",
        "fr": f"{local.day} {month}",
    }[language]


def written_time(language: str, local: datetime) -> re.Pattern[str]:
    if language == "en":
        hour = local.hour % 12 or 12
        half = "AM" if local.hour < 12 else "PM"
        return re.compile(rf"\b{hour}:{local.minute:02d}\s{half}\b")
    return re.compile(rf"\b{local.hour:02d}:{local.minute:02d}\b")


def assert_names_the_local_delivery(language: str, text: str, delivered_local: datetime) -> None:
    assert written_day(language, delivered_local) in text, (text, delivered_local)
    assert written_time(language, delivered_local).search(text), (text, delivered_local)
