"""Language detection with py3langid (BSD-3; its model ships inside the package, no network).

A long text reports what it is written in, supported or not. A short or unclear one is read as
one of the supported languages, or as the input's hint when detection is unsure.
"""

from __future__ import annotations

import re
from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from parcelwatch.models.feedback.lexicon import SUPPORTED_LANGUAGES

UNDETERMINED = "und"
SURE = 0.9  # normalised probability above which the detector's own answer is kept
LONG_ENOUGH = 40  # characters: shorter texts are often misread as a nearby language
_LETTERS = re.compile(r"[^\W\d_]{2,}")
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


def detect_language(text: str | None, hint: str | None = None) -> str:
    hinted = hint_language(hint)
    if not text or not _LETTERS.search(text):
        return hinted or UNDETERMINED
    language, probability = _identifier(False).classify(text)
    if probability >= SURE and (len(text) >= LONG_ENOUGH or language in SUPPORTED_LANGUAGES):
        return language
    supported, supported_probability = _identifier(True).classify(text)
    if hinted in SUPPORTED_LANGUAGES and supported_probability < SURE:
        return hinted
    if hinted and hinted not in SUPPORTED_LANGUAGES and probability < SURE:
        return hinted
    return supported
