"""The words of simulated customer feedback: templates per language and situation, kept as data
(``feedback_texts/<language>.json``), filled in with the shipment's facts and sometimes written
as sloppily as customers write (typos, no accents, all lower case).

A template file holds, for one language: ``templates`` (situation -> texts with the slots
``{product}``/``{Product}`` (a noun phrase, with its article where the language needs one, and
capitalised), ``{late}`` (how late, e.g. "3 days"), ``{waited}`` (how long since the order) and
``{carrier}``), ``products`` (order item category -> noun phrases, ``other`` for the rest) and
the phrases ``late`` and ``waited`` for one day and for ``{n}`` days. Pure, apart from reading
the package's data files once.
"""

from __future__ import annotations

import functools
import json
import random
import unicodedata
from dataclasses import dataclass
from importlib import resources

LANGUAGES = ("en", "pt", "es", "de", "fr")
CARRIER_NAMES = {"ups": "UPS", "fedex": "FedEx", "usps": "USPS", "dhl": "DHL"}
SLOPPY_CHANCE = 0.2  # a text is written carelessly in one way (below) this often


@dataclass(frozen=True, slots=True)
class Wording:
    language: str
    templates: dict[str, tuple[str, ...]]  # situation -> templates
    products: dict[str, tuple[str, ...]]  # item category (or "other") -> noun phrases
    late: dict[str, str]  # "one" / "other" (with "{n}"): how late
    waited: dict[str, str]  # "one" / "other" (with "{n}"): how long since the order


@functools.cache
def wording(language: str) -> Wording:
    """The templates of ``language`` (one of :data:`LANGUAGES`), read from the package's data."""
    if language not in LANGUAGES:
        raise ValueError(f"no feedback texts in {language!r}")
    folder = resources.files("parcelwatch.streams.simulation") / "feedback_texts"
    data = json.loads((folder / f"{language}.json").read_text(encoding="utf-8"))
    return Wording(
        language=language,
        templates={situation: tuple(texts) for situation, texts in data["templates"].items()},
        products={category: tuple(nouns) for category, nouns in data["products"].items()},
        late=data["late"],
        waited=data["waited"],
    )


def feedback_text(
    rng: random.Random,
    language: str,
    situation: str,
    *,
    category: str | None,
    carrier: str,
    late_days: int,
    waited_days: int,
) -> str:
    """One customer's text about ``situation`` in ``language``."""
    words = wording(language)
    template = rng.choice(words.templates[situation])
    nouns = words.products.get(category or "other") or words.products["other"]
    product = rng.choice(nouns)
    text = template.format(
        product=product,
        Product=product[:1].upper() + product[1:],
        late=_days(words.late, late_days),
        waited=_days(words.waited, waited_days),
        carrier=CARRIER_NAMES.get(carrier, carrier.upper()),
    )
    return sloppy(rng, text[:1].upper() + text[1:])


def sloppy(rng: random.Random, text: str) -> str:
    """``text``, or now and then as a hurried customer types it: without accents, all in lower
    case without the final full stop, with two letters swapped, or shouted at the end."""
    if rng.random() >= SLOPPY_CHANCE:
        return text
    way = rng.randrange(4)
    if way == 0:
        stripped = unicodedata.normalize("NFKD", text)
        return "".join(char for char in stripped if not unicodedata.combining(char))
    if way == 1:
        return text.lower().rstrip(".")
    if way == 2:
        return _swap_letters(rng, text)
    return text.rstrip(".!") + "!!"


def _swap_letters(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    long_words = [
        position for position, word in enumerate(words) if word.isalpha() and len(word) > 4
    ]
    if not long_words:
        return text
    position = rng.choice(long_words)
    word = words[position]
    at = rng.randrange(1, len(word) - 2)
    words[position] = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    return " ".join(words)


def _days(phrases: dict[str, str], days: int) -> str:
    return phrases["one"] if days == 1 else phrases["other"].format(n=days)
