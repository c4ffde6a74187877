"""What the two labelled feedback files (training and evaluation) share: their format."""

from __future__ import annotations

import re
import unicodedata

LANGUAGES = ("en", "pt", "es", "de", "fr")
FIELDS = {
    "id",
    "language",
    "channel",
    "text",
    "rating",
    "sentiment",
    "delivery_sentiment",
    "product_sentiment",
    "topics",
}


def normalised(text: str) -> str:
    """The text without case, accents, punctuation or emoji, so trivial variants compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.findall(r"[a-z0-9]+", letters))
