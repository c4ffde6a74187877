"""Country names and codes as carriers write them → ISO 3166-1 alpha-2.

Carriers write "US", "USA", "UNITED STATES", "Deutschland" or "Brasil". CLDR (shipped inside
Babel) has the alpha-3 aliases and the countries' names in every language.
"""

from __future__ import annotations

import functools
import unicodedata

from babel import Locale
from babel.core import get_global

# Languages whose country names carriers in scope write (their own and their neighbours').
_NAME_LANGUAGES = ("en", "de", "fr", "es", "pt", "nl", "it")
# Common names CLDR does not list as the country's name.
_EXTRA_NAMES = {
    "USA": "US", "UNITEDSTATESOFAMERICA": "US", "UK": "GB", "GREATBRITAIN": "GB",
    "ENGLAND": "GB", "SCOTLAND": "GB", "WALES": "GB", "NORTHERNIRELAND": "GB",
    "HOLLAND": "NL", "KOREASOUTH": "KR", "SOUTHKOREA": "KR", "RUSSIA": "RU",
}  # fmt: skip


def _key(text: str) -> str:
    letters = unicodedata.normalize("NFKD", text.upper())
    return "".join(char for char in letters if char.isalnum() and char.isascii())


@functools.cache
def _names() -> dict[str, str]:
    names: dict[str, str] = {}
    for language in _NAME_LANGUAGES:
        for code, name in Locale(language).territories.items():
            if len(code) == 2 and code.isalpha():
                names.setdefault(_key(name), code)
    for alias, targets in get_global("territory_aliases").items():
        if len(alias) == 3 and alias.isalpha() and len(targets) == 1 and len(targets[0]) == 2:
            names.setdefault(alias.upper(), targets[0])
    names.update(_EXTRA_NAMES)
    return names


def country_code(text: str | None) -> str | None:
    """ISO 3166-1 alpha-2 for a code or name; None when unknown."""
    if not text:
        return None
    cleaned = text.strip()
    if len(cleaned) == 2 and cleaned.isalpha() and cleaned.isascii():
        return cleaned.upper()
    return _names().get(_key(cleaned))
