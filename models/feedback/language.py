"""Language detection with py3langid (BSD-3; its model ships inside the package, no network).

A long text reports what it is written in, supported or not. A short or unclear one is read as
one of the supported languages, or as the input's hint when detection is unsure.
"""

from __future__ import annotations

import re
from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from parcelwatch.models.feedback.lexicon import SUPPORTED_LANGUAGES, Lexicon, load_lexicon
from parcelwatch.models.feedback.text import MAX_ANALYSED_CHARS, fold

UNDETERMINED = "und"
SURE = 0.9  # normalised probability above which the detector's own answer is kept
LONG_ENOUGH = 40  # characters: shorter texts are often misread as a nearby language
_LETTERS = re.compile(r"[^\W\d_]{2,}")
_WORD = re.compile(r"[^\W\d_]+")
LEXICON_VOTE = 0.6  # weight of the share of a text's words a language's lexicon knows


def _known(word: str, lexicon: Lexicon) -> bool:
    return (
        (word,) in lexicon.entries
        or word in lexicon.negators
        or word in lexicon.intensifiers
        or word in lexicon.contrast
        or word in lexicon.topic_patterns
    )


def _lexicon_votes(text: str) -> dict[str, float]:
    """For short texts: the share of words each supported language's lexicon knows."""
    words = _WORD.findall(fold(text))
    german_words = _WORD.findall(fold(text, "de"))
    votes = {}
    for language in SUPPORTED_LANGUAGES:
        folded = german_words if language == "de" else words
        lexicon = load_lexicon(language)
        votes[language] = sum(_known(word, lexicon) for word in folded) / max(len(folded), 1)
    return votes


_HINT = re.compile(r"^([a-zA-Z]{2,3})(?:[-_].*)?$")


@cache
def _identifier(restricted: bool) -> LanguageIdentifier:
    # 0.4 renamed the loader (0.3: from_pickled_model); the model file ships in the package
    load = (
        getattr(LanguageIdentifier, "from_model_file", None)
        or LanguageIdentifier.from_pickled_model
    )
    identifier = load(MODEL_FILE, norm_probs=True)
    if restricted:
        identifier.set_languages(list(SUPPORTED_LANGUAGES))
    return identifier


def hint_language(hint: str | None) -> str | None:
    """The primary subtag of a BCP 47 hint ("pt-BR" -> "pt"), or None if it is not one."""
    match = _HINT.match(hint.strip()) if hint else None
    return match.group(1).lower() if match else None


def _best_supported(text: str) -> tuple[str, float]:
    """The most likely supported language and its share of the (restricted) likelihood."""
    ranked = dict(_identifier(True).rank(text))
    if len(text) < LONG_ENOUGH:  # a few words: what the lexicons know says as much as n-grams
        votes = _lexicon_votes(text)
        ranked = {language: p + LEXICON_VOTE * votes[language] for language, p in ranked.items()}
    best = max(ranked, key=ranked.__getitem__)
    return best, ranked[best] / sum(ranked.values())


def detect_language(text: str | None, hint: str | None = None) -> str:
    """ISO 639-1 code of the text's language, "und" when there is nothing to tell it by."""
    hinted = hint_language(hint)
    text = text[:MAX_ANALYSED_CHARS] if text else text  # the part the rules read, bounded cost
    if not text or not _LETTERS.search(text):
        return hinted or UNDETERMINED
    if len(text) >= LONG_ENOUGH:
        language, probability = _identifier(False).classify(text)
        if probability >= SURE:
            return language  # supported or not: reported as it is
    if hinted is not None and hinted not in SUPPORTED_LANGUAGES:
        return hinted  # unsure, and the sender says it is a language we have no lexicon for
    supported, probability = _best_supported(text)
    if hinted is not None and probability < SURE:
        return hinted
    return supported
