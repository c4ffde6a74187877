"""Rule sentiment: lexicon matches with negation, intensity, contrast, sarcasm and aspects.

A VADER-like sum per clause. Each matched word or phrase has a valence; an intensifier before
it ("very", "muito", "sehr") or ALL CAPS strengthens it, a negator in the three words before it
("not", "não", "nicht", "pas") flips and weakens it. A contrastive conjunction ("but", "mas",
"pero", "aber", "mais") halves what came before it in the sentence and weighs what follows by
1.5. "!" strengthens the sentence, "??" a complaint. Phrases are matched first and take their
negators with them ("não recebi", "pas terrible", "not bad" are phrases of their own).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from parcelwatch.models.feedback.lexicon import Aspect, Entry, Lexicon
from parcelwatch.models.feedback.text import CLAUSE_PUNCTUATION, Token

NEGATION_WINDOW = 3
NEGATION_FACTOR = -0.74  # VADER's: "not good" is weaker than "bad"
CAPS_BOOST = 0.733
EXCLAMATION_BOOST = 0.292  # per "!", at most four
QUESTION_BOOST = 0.18  # per "?" beyond the first, at most three, complaints only
BEFORE_CONTRAST, AFTER_CONTRAST = 0.5, 1.5
LONG_WAIT_VALENCE = -1.8  # "3 weeks", "two months"
LONG_WAIT_DAYS = 7
NORMALISING_ALPHA = 15.0  # VADER's score / sqrt(score² + alpha)


@dataclass(slots=True)
class Clause:
    tokens: list[Token]
    sentence: int
    weight: float = 1.0
    aspects: set[Aspect] = field(default_factory=set)
    emphasis: str = ""  # the "!"/"?" run that ended it


@dataclass(slots=True)
class Hit:
    valence: float
    clause: int
    aspect: Aspect | None
    sarcasm_opener: bool = False


@dataclass(frozen=True, slots=True)
class AspectReading:
    score: float  # in [-1, 1]
    evidence: float  # sum of absolute valences


@dataclass(frozen=True, slots=True)
class RuleReading:
    score: float  # in [-1, 1]
    evidence: float  # sum of absolute valences: 0 means the rules found nothing
    aspects: dict[Aspect, AspectReading]


def normalise(total: float) -> float:
    return total / math.sqrt(total * total + NORMALISING_ALPHA)


def split_clauses(tokens: list[Token], lexicon: Lexicon) -> list[Clause]:
    clauses = [Clause([], 0)]
    sentence = 0
    for token in tokens:
        current = clauses[-1]
        if token.norm[0] in "!?":
            current.emphasis += token.norm
            sentence += 1
            clauses.append(Clause([], sentence))
        elif token.norm in CLAUSE_PUNCTUATION:
            if token.norm == ".":
                sentence += 1
            clauses.append(Clause([], sentence))
        elif token.norm in lexicon.contrast and current.tokens:
            for earlier in clauses:
                if earlier.sentence == sentence:
                    earlier.weight = BEFORE_CONTRAST
            clauses.append(Clause([], sentence, weight=AFTER_CONTRAST))
        elif (
            token.norm in lexicon.contrast and len(clauses) > 1 and clauses[-2].sentence == sentence
        ):
            # "…, but …": the comma already opened this clause
            for earlier in clauses[:-1]:
                if earlier.sentence == sentence:
                    earlier.weight = BEFORE_CONTRAST
            current.weight = AFTER_CONTRAST
        else:
            current.tokens.append(token)
    return [clause for clause in clauses if clause.tokens or clause.emphasis]


def _match(words: list[str], start: int, lexicon: Lexicon) -> tuple[int, Entry] | None:
    for length in lexicon.phrase_lengths.get(words[start], ()):
        if start + length <= len(words):
            entry = lexicon.entries.get(tuple(words[start : start + length]))
            if entry is not None:
                return length, entry
    entry = lexicon.prefix_entry(words[start]) or lexicon.inflected_entry(words[start])
    return (1, entry) if entry is not None else None


def _count(word: str, lexicon: Lexicon) -> int | None:
    if word.isdigit():
        return int(word)
    return lexicon.numbers.get(word)


def _modified(
    valence: float,
    words: list[str],
    tokens: list[Token],
    start: int,
    length: int,
    lexicon: Lexicon,
    shouting: bool,
    floor: int,
) -> float:
    """``floor``: where the previous sentiment match ended; its words modify nothing after it
    (the "não" of "não recebi" does not negate the next word)."""
    sign = 1.0 if valence > 0 else -1.0
    window_start = max(start - NEGATION_WINDOW, floor, 0)
    for distance, index in enumerate(range(start - 1, window_start - 1, -1)):
        boost = lexicon.intensifiers.get(words[index])
        if boost is not None:
            valence += sign * boost * (1.0 - 0.05 * distance)
    if shouting and any(
        tokens[i].text.isupper() and len(tokens[i].text) > 1 for i in range(start, start + length)
    ):
        valence += sign * CAPS_BOOST
    before = words[window_start:start]
    # German negates after the verb: "gefällt mir nicht", "funktioniert nicht"
    after = words[start + length : start + length + 3] if lexicon.language == "de" else []
    # A phrase that starts with its own negator ("no problems", "nenhum problema") is not
    # negated again by the one before it ("não tive nenhum problema").
    own_negator = words[start] in lexicon.negators
    if not own_negator and (any(word in lexicon.negators for word in before) or "nicht" in after):
        valence *= NEGATION_FACTOR
    return valence


def _clause_hits(clause: Clause, index: int, lexicon: Lexicon, shouting: bool) -> list[Hit]:
    words = [token.norm for token in clause.tokens]
    hits: list[Hit] = []
    position = floor = 0
    while position < len(words):
        count = _count(words[position], lexicon)
        if count is not None and position + 1 < len(words):
            unit = words[position + 1]
            if unit in lexicon.long_units or (
                unit in lexicon.day_units and count >= LONG_WAIT_DAYS
            ):
                hits.append(Hit(LONG_WAIT_VALENCE, index, Aspect.DELIVERY))
                clause.aspects.add(Aspect.DELIVERY)
                position += 2
                continue
        found = _match(words, position, lexicon)
        if found is None:
            position += 1
            continue
        length, entry = found
        if entry.aspect is not None:
            clause.aspects.add(entry.aspect)
        if entry.valence:
            valence = _modified(
                entry.valence, words, clause.tokens, position, length, lexicon, shouting, floor
            )
            floor = position + length
            opener = (
                position == 0
                and words[0] in lexicon.sarcasm_openers
                and all(
                    word in lexicon.fillers or word in lexicon.sarcasm_openers for word in words
                )
            )
            hits.append(Hit(valence, index, entry.aspect, sarcasm_opener=opener))
        position += length
    return hits


def _emphasised(total: float, emphasis: str) -> float:
    if not total:
        return total
    sign = 1.0 if total > 0 else -1.0
    total += sign * min(emphasis.count("!"), 4) * EXCLAMATION_BOOST
    if total < 0:
        total -= min(max(emphasis.count("?") - 1, 0), 3) * QUESTION_BOOST
    return total


def read_rules(tokens: list[Token], lexicon: Lexicon) -> RuleReading:
    letters = [token.text for token in tokens if token.text.isalpha()]
    shouting = any(word.isupper() for word in letters) and not all(
        word.isupper() for word in letters
    )
    clauses = split_clauses(tokens, lexicon)
    hits = [
        hit
        for index, clause in enumerate(clauses)
        for hit in _clause_hits(clause, index, lexicon, shouting)
    ]
    # Sarcasm: a clause that is only "great"/"thanks"/"perfect" in a text that otherwise complains.
    complaint = sum(hit.valence for hit in hits if hit.valence < 0 and not hit.sarcasm_opener)
    if complaint <= -1.5:
        for hit in hits:
            if hit.sarcasm_opener and hit.valence > 0:
                hit.valence = -0.5 * hit.valence
    total = 0.0
    by_aspect: dict[Aspect, list[float]] = {aspect: [] for aspect in Aspect}
    for index, clause in enumerate(clauses):
        clause_hits = [hit for hit in hits if hit.clause == index]
        clause_total = _emphasised(sum(hit.valence for hit in clause_hits), clause.emphasis)
        total += clause_total * clause.weight
        for hit in clause_hits:
            weight = clause.weight
            if hit.valence < 0 and hit.aspect is Aspect.DELIVERY:
                # A delivery failure still needs handling after a "but": not discounted.
                extra = hit.valence * (max(weight, 1.0) - weight)
                total += extra
                weight = max(weight, 1.0)
            targets = [hit.aspect] if hit.aspect is not None else clause.aspects
            for aspect in targets:
                by_aspect[aspect].append(hit.valence * weight)
    # An aspect is reported when something was said about it: sentiment, or a clause that names
    # it and says nothing else ("the parcel came on Tuesday"). "não recebi o produto" is about
    # the delivery only: its one sentiment phrase is a delivery phrase.
    mentioned = {aspect for aspect, valences in by_aspect.items() if valences}
    hit_clauses = {hit.clause for hit in hits}
    for index, clause in enumerate(clauses):
        if index not in hit_clauses:
            mentioned |= clause.aspects
    aspects = {
        aspect: AspectReading(normalise(sum(by_aspect[aspect])), sum(map(abs, by_aspect[aspect])))
        for aspect in mentioned
    }
    evidence = sum(abs(hit.valence) for hit in hits)
    return RuleReading(normalise(total), evidence, aspects)
