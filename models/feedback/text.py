"""Normalisation and tokenisation shared by the lexicon, the rules and the learned part.

Lexicon look-ups use an accent-free, lower-case form, so "não recebi" and "nao recebi" are the
same tokens (shop reviews often drop accents). German umlauts become ae/oe/ue first so "schön"
does not collide with "schon".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Only the start of a long text is analysed: it bounds the cost per text (the speed target is
# for typical texts of a few hundred characters) and the opening carries most of the sentiment.
MAX_ANALYSED_CHARS = 2_000

_GERMAN = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "`": "'", "\u00b4": "'"})  # typographic apostrophes
_TOKEN = re.compile(
    r"[:;=]-?[()dDpP/](?![^\W\d_])"  # emoticons
    r"|\d+(?:[.,]\d+)?"
    r"|[^\W\d_]+(?:'[^\W\d_]+)?"
    r"|[!?]+|[.,;:]"
    r"|[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50]"  # emoji, dingbats ("★"), "⭐"
    r'|["\u201c\u201d]',  # quotation marks: they mark words as quoted and are no tokens
)
_OPENING_QUOTE, _CLOSING_QUOTE = "\u201c", "\u201d"
CLAUSE_PUNCTUATION = frozenset({".", ",", ";", ":"})


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # as written (for ALL CAPS emphasis)
    norm: str  # lower case, accent-free: what lexicons are keyed by


@dataclass(frozen=True, slots=True)
class QuotedToken(Token):
    """A token inside double quotation marks: the "solid wood" of a chipboard table. A subclass
    rather than a field, so the unquoted tokens of most texts cost no more to make."""


def fold(text: str, language: str = "") -> str:
    """Lower case without accents (German umlauts spelled out)."""
    if language == "de":
        text = text.translate(_GERMAN)
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=200_000)
def _folded_token(raw: str, language: str) -> str:
    return fold(raw, language)


def tokenize(text: str, language: str) -> list[Token]:
    text = text[:MAX_ANALYSED_CHARS].translate(_APOSTROPHES)
    if language != "en":  # "n'est", "l'article", "d'un": the apostrophe separates words
        text = text.replace("'", " ")
    if '"' not in text and _OPENING_QUOTE not in text and _CLOSING_QUOTE not in text:
        return [Token(raw, _folded_token(raw, language)) for raw in _TOKEN.findall(text)]
    tokens: list[Token] = []
    quoted = False
    for raw in _TOKEN.findall(text):
        if raw == '"':
            quoted = not quoted
        elif raw in (_OPENING_QUOTE, _CLOSING_QUOTE):
            quoted = raw == _OPENING_QUOTE
        else:
            kind = QuotedToken if quoted else Token
            tokens.append(kind(raw, _folded_token(raw, language)))
    return tokens


def folded_words(text: str, language: str) -> list[str]:
    """The folded tokens of a phrase written in a lexicon file."""
    return [token.norm for token in tokenize(text, language)]
