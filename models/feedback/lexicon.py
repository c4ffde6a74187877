"""Per-language lexicons, loaded from the JSON files in ``lexicons/``.

Every key is folded like the text (lower case, accent-free), so accent-free spellings need no
entries of their own. A key ending in ``*`` matches any word starting with it. English adds the
VADER lexicon (MIT, shipped inside the ``vaderSentiment`` package) under its own entries.

Besides valences, a file names how negation reads: ``negated`` gives the valence of a word or
phrase under a negator when flipping it would be wrong ("not worth" is worse than "worth" is
good, "did not disappoint" is praise, "won't go back" a complaint); ``scope_words`` are the
small words a negation reaches across ("not *that* good", "wasn't *even* worth"); a positive
word after a ``coordinators`` word shares the negation before it ("wasn't helpful or friendly");
``negating_phrases`` negate like a negator ("far from perfect", "would have been nice");
a ``verb_only`` word is a sentiment only after one of its subjects (the "like" of "I like it",
not of "looks like a toy"). Optional sections: ``negation_crosses_commas`` ("I will never, ever
go back"); ``conditional_modals`` and ``conditional_markers`` make praise a wish ("it *would* be
great *if* it worked") unless an ``addressees`` word follows the marker ("would recommend if
*you* like spice"); praise in a clause opened by a ``hypothetical_openers`` word counts little
("If you want quality, look elsewhere"); ``score_verbs`` read a number as a score ("gave it a 9");
mild praise after an ``excess_markers`` word is a complaint ("too sweet"; phrases such as "too
good" keep their own valence).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources

from parcelwatch.models.feedback.text import folded_words
from parcelwatch.schemas.feedback import FeedbackTopic

SUPPORTED_LANGUAGES = ("en", "pt", "es", "de", "fr")
MAX_REMEMBERED_WORDS = 100_000
MIN_DERIVED_STEM = 4  # "un" + at least four letters: "unfunny", not "until"
DERIVED_NEGATION_FACTOR = -0.8
_ELONGATION = re.compile(r"([^\W\d_])\1{2,}")


class Aspect(StrEnum):
    DELIVERY = "delivery"
    PRODUCT = "product"


@dataclass(frozen=True, slots=True)
class Entry:
    valence: float  # VADER scale, about -4 to 4; 0 for a plain aspect marker
    aspect: Aspect | None
    negated: float | None = None  # the valence under a negator, when not a weakened flip


@dataclass(frozen=True, slots=True)
class WordSet:
    """Whole words plus prefixes (``entreg*``), matched on folded tokens."""

    words: frozenset[str]
    prefixes: tuple[str, ...]

    def __contains__(self, word: str) -> bool:
        return word in self.words or word.startswith(self.prefixes)


@dataclass(frozen=True, slots=True)
class TopicPattern:
    """Words to match in a row; ``word*`` matches a prefix and ``#`` any number."""

    words: tuple[str, ...]
    topic: FeedbackTopic
    weight: float


@dataclass(frozen=True, slots=True)
class Lexicon:
    language: str
    entries: dict[tuple[str, ...], Entry]  # words and phrases, exact
    prefix_entries: dict[str, Entry]  # single words by prefix
    prefix_lengths: tuple[int, ...]  # of the prefixes above, longest first
    phrase_lengths: dict[str, tuple[int, ...]]  # of the entries starting with a word, longest first
    negators: WordSet
    scope_words: frozenset[str]  # a negation reaches across these (and intensifiers)
    coordinators: frozenset[str]  # "or", "and": a negation carries over them to the next word
    faint_praise: frozenset[tuple[str, ...]]  # "at best": the praise before it is a complaint
    limiters: frozenset[str]  # "only", "just": "only ok" is lukewarm, read as a mild complaint
    negating_prefixes: tuple[str, ...]  # "un": an unknown "unX" is the opposite of a positive X
    negating_phrases: dict[str, tuple[tuple[str, ...], ...]]  # by last word: "far from", …
    verb_only: dict[str, frozenset[str]]  # "like": a sentiment only after a subject ("I like")
    hyperbole_negators: frozenset[str]  # with a closer after: "can't recommend it enough" praises
    hyperbole_closers: frozenset[str]
    inflections: tuple[str, ...]  # endings tried off an unknown word ("hervorragende")
    intensifiers: dict[str, float]  # > 0 boosts, < 0 dampens
    contrast: frozenset[str]
    sarcasm_openers: frozenset[str]
    fillers: frozenset[str]  # words that may stand beside a sarcastic opener ("oh", "just")
    numbers: dict[str, int]
    long_units: WordSet  # weeks, months: "3 weeks" is a complaint
    day_units: WordSet
    topic_patterns: dict[str, tuple[TopicPattern, ...]]  # by first word, or its prefix + "*"
    topic_prefix_lengths: tuple[int, ...]
    # Optional sections (English so far); empty where a language file has none.
    negation_crosses_commas: bool = False  # "I will never, ever go back"
    conditional_modals: frozenset[str] = frozenset()  # "would": "would be great if it worked"
    conditional_markers: frozenset[str] = frozenset()  # "if", "unless", "except"
    addressees: frozenset[str] = frozenset()  # "if *you* like spicy food": advice, not a wish
    hypothetical_openers: frozenset[str] = frozenset()  # "if": "If you want quality, …"
    score_verbs: frozenset[str] = frozenset()  # "gave it a 9", "I'd rate it 2 out of 10"
    filled_stars: frozenset[str] = frozenset()  # "★★★☆☆": a rating, from common.json
    empty_stars: frozenset[str] = frozenset()
    star_glyphs: frozenset[str] = frozenset()  # either
    excess_markers: frozenset[str] = frozenset()  # "too": "too sweet" complains
    star_units: frozenset[str] = frozenset()
    questions_complain: bool = False  # "Did nobody check these?"
    bare_negators: frozenset[str] = frozenset()  # "Nothing happens": a complaint of its own
    summary_markers: frozenset[str] = frozenset()  # "Overall, …": the verdict weighs more
    concessive_openers: frozenset[str] = frozenset()  # "Although …, …": the rest weighs more
    concessive_anywhere: frozenset[str] = frozenset()  # "… despite …": the concession less
    comparison_word: str = ""  # "than": "sturdier *than* this"
    comparison_targets: frozenset[str] = frozenset()  # "this": the thing reviewed
    wait_units: dict[str, int] = field(default_factory=dict)  # "minutes": 20 → "waited 40 minutes"
    wait_words: frozenset[str] = frozenset()  # a clause about waiting: "waited", "took"
    score_followers: frozenset[str] = (
        frozenset()
    )  # "gave it a 10 *plus*": the number ends  # "gave it 2 stars": a score out of 5
    _candidates: dict[str, tuple[TopicPattern, ...]] = field(default_factory=dict)
    _word_entries: dict[str, Entry | None] = field(default_factory=dict)

    def word_entry(self, word: str) -> Entry | None:
        """The entry of one word not matched exactly: by prefix, inflection or derivation
        (remembered: words repeat, and most words have none)."""
        if word in self._word_entries:
            return self._word_entries[word]
        entry = (
            self.prefix_entry(word)
            or self.inflected_entry(word)
            or self.derived_entry(word)
            or self.elongated_entry(word)
        )
        if len(self._word_entries) > MAX_REMEMBERED_WORDS:
            self._word_entries.clear()
        self._word_entries[word] = entry
        return entry

    def prefix_entry(self, word: str) -> Entry | None:
        for length in self.prefix_lengths:
            entry = self.prefix_entries.get(word[:length]) if length <= len(word) else None
            if entry is not None:
                return entry
        return None

    def inflected_entry(self, word: str) -> Entry | None:
        """The entry of ``word`` without an inflectional ending, if that is one."""
        for ending in self.inflections:
            if word.endswith(ending) and len(word) > len(ending) + 2:
                entry = self.entries.get((word[: -len(ending)],))
                if entry is not None:
                    return entry
        return None

    def elongated_entry(self, word: str) -> Entry | None:
        """ "Yummmm", "amaaazing", "sooo gooood": a letter written three or more times is the
        word with that letter once or twice."""
        if _ELONGATION.search(word) is None:
            return None
        for letters in (r"\1\1", r"\1"):
            entry = self.entries.get((_ELONGATION.sub(letters, word),))
            if entry is not None:
                return entry
        return None

    def derived_entry(self, word: str) -> Entry | None:
        """An unknown "unX" whose X is praise reads as its opposite ("unremarkable")."""
        for prefix in self.negating_prefixes:
            if word.startswith(prefix) and len(word) - len(prefix) >= MIN_DERIVED_STEM:
                entry = self.entries.get((word[len(prefix) :],))
                if entry is not None and entry.valence > 0:
                    return Entry(DERIVED_NEGATION_FACTOR * entry.valence, entry.aspect)
        return None

    def topic_candidates(self, word: str) -> tuple[TopicPattern, ...]:
        """The topic patterns that may start at ``word`` (remembered: words repeat)."""
        found = self._candidates.get(word)
        if found is None:
            matches = list(self.topic_patterns.get(word, ()))
            if word.isdigit() or word in self.numbers:
                matches.extend(self.topic_patterns.get("#", ()))
            for length in self.topic_prefix_lengths:
                if length <= len(word):
                    matches.extend(self.topic_patterns.get(word[:length] + "*", ()))
            if len(self._candidates) > MAX_REMEMBERED_WORDS:
                self._candidates.clear()
            found = self._candidates[word] = tuple(matches)
        return found


def _word_set(language: str, words: list[str]) -> WordSet:
    folded = [
        " ".join(folded_words(word, language)) + ("*" if word.endswith("*") else "")
        for word in words
    ]
    return WordSet(
        frozenset(word for word in folded if not word.endswith("*")),
        tuple(word[:-1] for word in folded if word.endswith("*")),
    )


def _key(language: str, phrase: str) -> tuple[str, ...]:
    return tuple(folded_words(phrase, language))


def _by_last_word(language: str, phrases: list[str]) -> dict[str, tuple[tuple[str, ...], ...]]:
    found: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        key = _key(language, phrase)
        found.setdefault(key[-1], []).append(key)
    return {last: tuple(keys) for last, keys in found.items()}


def _single_words(language: str, words: list[str]) -> frozenset[str]:
    return frozenset(_key(language, word)[0] for word in words)


def _pattern_words(language: str, pattern: str) -> tuple[str, ...]:
    words: list[str] = []
    for chunk in pattern.split():
        if chunk == "#":
            words.append("#")
            continue
        folded = folded_words(chunk.rstrip("*"), language)
        words.extend(folded[:-1])
        words.append(folded[-1] + ("*" if chunk.endswith("*") else ""))
    return tuple(words)


def _tag_phrases_by_their_words(
    entries: dict[tuple[str, ...], Entry], prefix_entries: dict[str, Entry]
) -> None:
    """A general phrase that names an aspect is about it: "poor quality" is about the product."""
    prefix_lengths = sorted({len(prefix) for prefix in prefix_entries}, reverse=True)

    def aspect_of(word: str) -> Aspect | None:
        entry = entries.get((word,))
        if entry is None:
            entry = next(
                (prefix_entries[word[:n]] for n in prefix_lengths if word[:n] in prefix_entries),
                None,
            )
        return entry.aspect if entry is not None else None

    for key, entry in list(entries.items()):
        if entry.aspect is None and len(key) > 1:
            aspect = next((found for word in key if (found := aspect_of(word))), None)
            if aspect is not None:
                entries[key] = Entry(entry.valence, aspect, entry.negated)


def _phrase_lengths(entries: dict[tuple[str, ...], Entry]) -> dict[str, tuple[int, ...]]:
    lengths: dict[str, set[int]] = {}
    for key in entries:
        lengths.setdefault(key[0], set()).add(len(key))
    return {first: tuple(sorted(found, reverse=True)) for first, found in lengths.items()}


def _vader_entries() -> dict[tuple[str, ...], Entry]:
    text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text("utf-8")
    entries = {}
    for line in text.splitlines():
        word, valence, *_ = line.split("\t")
        if word.isalpha():  # emoticons come from common.json, in one place for every language
            entries[(word,)] = Entry(float(valence), None)
    return entries


def _read(name: str) -> dict:
    path = resources.files("parcelwatch.models.feedback").joinpath("lexicons", f"{name}.json")
    return json.loads(path.read_text("utf-8"))


@cache
def load_lexicon(language: str) -> Lexicon:
    data = _read(language)
    common = _read("common")
    entries: dict[tuple[str, ...], Entry] = _vader_entries() if language == "en" else {}
    prefix_entries: dict[str, Entry] = {}
    for emoticon, valence in common["emoticons"].items():
        entries[(emoticon.lower(),)] = Entry(valence, None)
    sections = (
        ("words", None),
        ("phrases", None),
        ("delivery", Aspect.DELIVERY),
        ("product", Aspect.PRODUCT),
    )
    for section, aspect in sections:
        for phrase, valence in data[section].items():
            if phrase.endswith("*"):
                prefix_entries[_key(language, phrase[:-1])[0]] = Entry(valence, aspect)
            else:
                entries[_key(language, phrase)] = Entry(valence, aspect)
    for section, aspect in (("delivery_terms", Aspect.DELIVERY), ("product_terms", Aspect.PRODUCT)):
        for phrase in data[section]:
            if phrase.endswith("*"):
                prefix_entries.setdefault(_key(language, phrase[:-1])[0], Entry(0.0, aspect))
            else:
                entries.setdefault(_key(language, phrase), Entry(0.0, aspect))
    for phrase in data["faint_praise"]:  # matched as a phrase, so "best" is not read alone
        entries.setdefault(_key(language, phrase), Entry(0.0, None))
    for phrase, valence in data["negated"].items():
        key = _key(language, phrase)
        entry = entries.get(key, Entry(0.0, None))
        entries[key] = Entry(entry.valence, entry.aspect, valence)
    for negator in data["negators"]:  # a negator is never itself a sentiment word
        entries.pop(_key(language, negator), None)
    _tag_phrases_by_their_words(entries, prefix_entries)
    topic_patterns: dict[str, list[TopicPattern]] = {}
    for topic, patterns in data["topics"].items():
        for pattern, weight in patterns.items():
            words = _pattern_words(language, pattern)
            topic_patterns.setdefault(words[0], []).append(
                TopicPattern(words, FeedbackTopic(topic), weight)
            )
    return Lexicon(
        language=language,
        entries=entries,
        prefix_entries=prefix_entries,
        prefix_lengths=tuple(sorted({len(prefix) for prefix in prefix_entries}, reverse=True)),
        phrase_lengths=_phrase_lengths(entries),
        negators=_word_set(language, data["negators"]),
        scope_words=_single_words(language, data["scope_words"]),
        coordinators=_single_words(language, data["coordinators"]),
        faint_praise=frozenset(_key(language, phrase) for phrase in data["faint_praise"]),
        limiters=_single_words(language, data["limiters"]),
        negating_prefixes=tuple(data["negating_prefixes"]),
        negating_phrases=_by_last_word(language, data["negating_phrases"]),
        verb_only={
            _key(language, word)[0]: _single_words(language, subjects)
            for word, subjects in data["verb_only"].items()
        },
        hyperbole_negators=_single_words(language, data["hyperbole_negators"]),
        hyperbole_closers=_single_words(language, data["hyperbole_closers"]),
        inflections=tuple(sorted(data["inflections"], key=len, reverse=True)),
        intensifiers={  # one word each: "a bit" is "bit", or "a" would dampen
            _key(language, word)[0]: boost
            for word, boost in data["intensifiers"].items()
            if " " not in word
        },
        contrast=frozenset(_key(language, word)[0] for word in data["contrast"]),
        sarcasm_openers=frozenset(_key(language, word)[0] for word in data["sarcasm_openers"]),
        fillers=frozenset(_key(language, word)[0] for word in data["fillers"]),
        numbers={_key(language, word)[0]: value for word, value in data["numbers"].items()},
        long_units=_word_set(language, data["long_units"]),
        day_units=_word_set(language, data["day_units"]),
        topic_patterns={first: tuple(found) for first, found in topic_patterns.items()},
        negation_crosses_commas=bool(data.get("negation_crosses_commas", False)),
        conditional_modals=_single_words(language, data.get("conditional_modals", [])),
        conditional_markers=_single_words(language, data.get("conditional_markers", [])),
        addressees=_single_words(language, data.get("addressees", [])),
        hypothetical_openers=_single_words(language, data.get("hypothetical_openers", [])),
        score_verbs=_single_words(language, data.get("score_verbs", [])),
        star_units=_single_words(language, data.get("star_units", [])),
        concessive_openers=_single_words(language, data.get("concessive_openers", [])),
        summary_markers=_single_words(language, data.get("summary_markers", [])),
        bare_negators=_single_words(language, data.get("bare_negators", [])),
        questions_complain=bool(data.get("questions_complain", False)),
        concessive_anywhere=_single_words(language, data.get("concessive_anywhere", [])),
        comparison_word=data.get("comparison_word", ""),
        comparison_targets=_single_words(language, data.get("comparison_targets", [])),
        wait_units=data.get("wait_units", {}),
        wait_words=_single_words(language, data.get("wait_words", [])),
        score_followers=_single_words(language, data.get("score_followers", [])),
        excess_markers=_single_words(language, data.get("excess_markers", [])),
        filled_stars=frozenset(common["star_glyphs"]["filled"]),
        empty_stars=frozenset(common["star_glyphs"]["empty"]),
        star_glyphs=frozenset(common["star_glyphs"]["filled"] + common["star_glyphs"]["empty"]),
        topic_prefix_lengths=tuple(
            sorted(
                {len(first) - 1 for first in topic_patterns if first.endswith("*")}, reverse=True
            )
        ),
    )
