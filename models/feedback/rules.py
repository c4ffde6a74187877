"""Rule sentiment: lexicon matches with negation, intensity, contrast, sarcasm and aspects.

A VADER-like sum per clause. Each matched word or phrase has a valence; an intensifier before
it ("very", "muito", "sehr") or ALL CAPS strengthens it, a negator in the three words before it
("not", "não", "nicht", "pas") flips and weakens it. The negation reaches across small words
("not *that* good", "não é *tão* bom") and over "or"/"and" to the next sentiment word ("wasn't
helpful or friendly"); some words read differently under it ("not worth", "did not
disappoint", "won't go back": the lexicon's ``negated`` valences). A contrastive conjunction
("but", "mas", "pero", "aber", "mais") halves what came before it in the sentence and weighs what
follows by 1.5. "!" strengthens the sentence, "??" a complaint. Phrases are matched first and
take their negators with them ("não recebi", "pas terrible", "not bad" are phrases of their
own). Lukewarm praise after a limiter ("only ok") or before "at best" reads as a mild complaint,
and a word that also intensifies ("pretty", "super") is only an intensifier before another
sentiment word ("pretty bland").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from parcelwatch.models.feedback.lexicon import Aspect, Entry, Lexicon
from parcelwatch.models.feedback.text import CLAUSE_PUNCTUATION, QuotedToken, Token

NEGATION_WINDOW = 3  # words before a sentiment word, not counting the scope words
HYPERBOLE_REACH = 4  # words after it: "can't recommend this shop enough"
MAX_NEGATION_REACH = 6  # words before it, counting them: "don't think you will be disappointed"
NEGATION_FACTOR = -0.74  # VADER's: "not good" is weaker than "bad"
CAPS_BOOST = 0.733
EXCLAMATION_BOOST = 0.292  # per "!", at most four
QUESTION_BOOST = 0.18  # per "?" beyond the first, at most three, complaints only
BEFORE_CONTRAST, AFTER_CONTRAST = 0.5, 1.5
LONG_WAIT_VALENCE = -1.8  # "3 weeks", "two months"
LONG_WAIT_DAYS = 7
LIMITABLE_VALENCE = 1.6  # "ok", "fine", "decent": lukewarm enough for "only ok" to complain
LIMITED_VALENCE = -0.6
FAINT_PRAISE_FACTOR = -0.6  # "good at best"
FAINT_PRAISE_VALENCE = -1.0  # "average at best"
BARE_NEGATION_VALENCE = -0.5  # "It doesn't hold your attention"
BARE_QUESTION_VALENCE = -0.5  # "Who is this made for?"
OUTDONE_FACTOR = -0.8  # "sturdier than this"
WISH_FACTOR = -0.4  # "it would be great if it worked": the praise is missing, a mild complaint
HYPOTHETICAL_FACTOR = 0.25  # "If you want quality, …" is not said of the thing
SCORE_WINDOW = 5  # words between a score verb and its number: "give this series a 10"
SCORE_SCALES = (5, 10, 100)
STAR_SCALE = 5  # "out of 5", "/10"
SCORE_CENTRE, SCORE_SLOPE, SCORE_CAP = 0.6, 7.0, 3.0  # 10/10 -> 2.8, 6/10 -> 0, 1/10 -> -3
SCARE_QUOTE_FACTOR = -0.5  # the "fast charging" version that charges slowly
SCARE_QUOTE_WORDS = 3  # a quoted span this short among unquoted words is a claim disputed
EXCESS_FACTOR = -0.6  # "too sweet": mild praise past its measure is a complaint
EXCESS_LIMIT = 2.5  # above it "too" only intensifies: "too strong" … is rare; see the phrases
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
    conceding = False  # in "Although the food was good, …" before its comma
    summing_up = False  # in the sentence after "Overall"
    for position, token in enumerate(tokens):
        current = clauses[-1]
        if (
            token.norm == ","
            and lexicon.negation_crosses_commas
            and _negation_left_open(current.tokens, tokens[position + 1 : position + 2], lexicon)
        ):
            continue
        if token.norm[0] in "!?":
            current.emphasis += token.norm
            sentence += 1
            conceding = summing_up = False
            clauses.append(Clause([], sentence))
        elif token.norm in CLAUSE_PUNCTUATION:
            if token.norm == ".":
                sentence += 1
            if conceding and token.norm != ".":
                # "Although the food was good, the service was slow": what follows weighs more
                current.weight = BEFORE_CONTRAST
                clauses.append(Clause([], sentence, weight=AFTER_CONTRAST))
            elif summing_up and token.norm != ".":
                clauses.append(Clause([], sentence, weight=AFTER_CONTRAST))
            else:
                clauses.append(Clause([], sentence))
                summing_up = False
            conceding = False
        elif token.norm in lexicon.summary_markers and not current.tokens:
            # "Overall, a good meal": the verdict outweighs what came before it
            for earlier in clauses[:-1]:
                earlier.weight = min(earlier.weight, BEFORE_CONTRAST)
            current.weight = AFTER_CONTRAST
            summing_up = True
        elif token.norm in lexicon.concessive_openers and _opens_a_concession(
            current, clauses, lexicon
        ):
            conceding = True
            current.tokens.append(token)
        elif token.norm in lexicon.concessive_anywhere and current.tokens:
            # "Lovely hotel despite the noise": the concession weighs less, the rest as it was
            clauses.append(Clause([], sentence, weight=BEFORE_CONTRAST))
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


def _opens_a_concession(current: Clause, clauses: list[Clause], lexicon: Lexicon) -> bool:
    """A concessive word ("Although …", "Even though …", "Despite …") at a sentence's start."""
    if any(token.norm not in lexicon.scope_words for token in current.tokens):
        return False
    return len(clauses) == 1 or clauses[-2].sentence != current.sentence


def _negation_left_open(before: list[Token], after: list[Token], lexicon: Lexicon) -> bool:
    """ "I will never, ever go back", "It is not, in any way, comfortable": a comma after a
    negator (and only its small words) does not end its reach. A clause that is only the
    negator is an answer ("No, it works"; "Not really, it was fine") unless an intensifier
    follows ("Never, ever again")."""
    for index in range(len(before) - 1, -1, -1):
        word = before[index].norm
        if word in lexicon.negators:
            return index > 0 or (bool(after) and after[0].norm in lexicon.intensifiers)
        if word not in lexicon.scope_words and word not in lexicon.intensifiers:
            return False
    return False


def _match(words: list[str], start: int, lexicon: Lexicon) -> tuple[int, Entry] | None:
    for length in lexicon.phrase_lengths.get(words[start], ()):
        if start + length <= len(words):
            entry = lexicon.entries.get(tuple(words[start : start + length]))
            if entry is not None:
                return length, entry
    entry = lexicon.word_entry(words[start])
    return (1, entry) if entry is not None else None


def _count(word: str, lexicon: Lexicon) -> int | None:
    if word.isdigit():
        return int(word)
    return lexicon.numbers.get(word)


def _negator_before(words: list[str], start: int, floor: int, lexicon: Lexicon) -> str | None:
    """A negator among the three words before ``start``, not counting the small words a
    negation reaches across ("not *that* good", "n'est *vraiment* pas *si* bien")."""
    counted = 0
    for index in range(start - 1, max(floor, start - MAX_NEGATION_REACH, 0) - 1, -1):
        word = words[index]
        if word in lexicon.negators:
            return word
        for phrase in lexicon.negating_phrases.get(word, ()) if not counted else ():
            # only across small words: "less than ideal", not "less than a day and was great"
            if tuple(words[index + 1 - len(phrase) : index + 1]) == phrase:
                return phrase[0]
        if word not in lexicon.scope_words and word not in lexicon.intensifiers:
            counted += 1
            if counted == NEGATION_WINDOW:
                return None
    return None


def _negated_before(
    words: list[str], start: int, length: int, floor: int, lexicon: Lexicon
) -> bool:
    negator = _negator_before(words, start, floor, lexicon)
    if negator is None:
        return False
    if negator in lexicon.hyperbole_negators:
        # "can't recommend them enough", "couldn't thank her enough": praise, not negation
        after = words[start + length : start + length + HYPERBOLE_REACH]
        return not any(word in lexicon.hyperbole_closers for word in after)
    return True


def _negated_after(words: list[str], start: int, length: int, lexicon: Lexicon) -> bool:
    """German negates after the verb: "gefällt mir nicht", "funktioniert nicht"; a "nicht"
    that goes on to a sentiment word of its own negates that one ("leider nicht so gut")."""
    after = start + length
    for index in range(after, min(after + 3, len(words))):
        if words[index] == "nicht":
            return not any(
                (found := _match(words, later, lexicon)) is not None and found[1].valence
                for later in range(index + 1, len(words))
            )
    return False


def _boosted(
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
    return valence


def _only_an_intensifier(words: list[str], position: int, lexicon: Lexicon) -> bool:
    """ "pretty bland", "super fast": a sentiment word that also intensifies is only an
    intensifier before another sentiment word ("pretty" alone is still praise)."""
    if words[position] not in lexicon.intensifiers or position + 1 >= len(words):
        return False
    following = _match(words, position + 1, lexicon)
    return following is not None and bool(following[1].valence)


def _clause_hits(
    clause: Clause, index: int, lexicon: Lexicon, shouting: bool, quotations: bool = False
) -> list[Hit]:
    words = [token.norm for token in clause.tokens]
    hits: list[Hit] = []
    position = floor = 0
    previous_negated = False
    hypothetical = _hypothetical(words, lexicon) if lexicon.hypothetical_openers else ""
    covered: set[int] = set()  # positions inside matched phrases
    # what a clause lacks needs no look at its hits: most clauses have no quotation, modal, …
    quoted = quotations and QuotedToken in set(map(type, clause.tokens))
    star_glyphs = lexicon.star_glyphs
    modal = not lexicon.conditional_modals.isdisjoint(words)
    compared = bool(lexicon.comparison_word) and lexicon.comparison_word in words
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
        stars = _star_rating(words, position, lexicon) if words[position] in star_glyphs else None
        if stars is not None:
            valence, length = stars
            hits.append(Hit(valence, index, None))
            floor = position = position + length
            continue
        if count is not None and position + 1 < len(words):
            threshold = lexicon.wait_units.get(words[position + 1])
            if (
                threshold is not None
                and count >= threshold
                and any(word in lexicon.wait_words for word in words)
            ):
                hits.append(Hit(LONG_WAIT_VALENCE, index, None))  # "waited 40 minutes"
                floor = position = position + 2
                continue
        if count is not None and lexicon.score_verbs:
            score = _score(words, position, count, lexicon)
            if score is not None:
                valence, length = score
                hits.append(Hit(valence, index, None))
                floor = position = position + length
                continue
        found = _match(words, position, lexicon)
        if found is None:
            position += 1
            continue
        length, entry = found
        if length > 1:
            covered.update(range(position, position + length))
        if entry.aspect is not None:
            clause.aspects.add(entry.aspect)
        if lexicon.faint_praise and tuple(words[position : position + length]) in (
            lexicon.faint_praise
        ):
            _damn_with_faint_praise(hits, index)
            floor = position = position + length
            continue
        if entry.valence and length == 1 and _only_an_intensifier(words, position, lexicon):
            position += 1
            continue
        if length == 1 and _a_preposition(words, position, lexicon):
            position += 1
            continue
        if (
            length > 1
            and not entry.valence
            and any(word in lexicon.negators for word in words[position : position + length])
        ):
            # "nothing short of", "not only", "at least": the negator is used up by its phrase
            floor = position + length
        if entry.valence or entry.negated is not None:
            # A phrase that starts with its own negator ("no problems", "nenhum problema") is
            # not negated again by the one before it ("não tive nenhum problema").
            negated = words[position] not in lexicon.negators and (
                _negated_before(words, position, length, floor, lexicon)
                or (lexicon.language == "de" and _negated_after(words, position, length, lexicon))
                or (previous_negated and _coordinated(words, floor, position, lexicon))
            )
            valence = _valence(entry, negated, words, position, lexicon)
            quotation = _quotation(clause.tokens, position, length) if quoted else ""
            if quotation == "name":
                valence = 0.0
            if valence > 0 and not negated:
                if modal:
                    valence = _wished(valence, words, position, length, lexicon)
                if compared and _outdone(words, position + length, lexicon):
                    valence *= OUTDONE_FACTOR
                if quotation == "claim":
                    valence *= SCARE_QUOTE_FACTOR
            if hypothetical == "reader" or (hypothetical and valence > 0):
                valence *= HYPOTHETICAL_FACTOR
            if valence:
                valence = _boosted(
                    valence, words, clause.tokens, position, length, lexicon, shouting, floor
                )
                if negated and entry.negated is None:
                    valence *= NEGATION_FACTOR
                floor = position + length
                previous_negated = negated
                opener = position == 0 and words[0] in lexicon.sarcasm_openers
                hits.append(Hit(valence, index, entry.aspect, sarcasm_opener=opener))
        position += length
    if (
        not hits
        and not lexicon.bare_negators.isdisjoint(words)
        and any(
            word in lexicon.bare_negators and where not in covered
            for where, word in enumerate(words)
        )
    ):
        # "The plot doesn't hold together", "Nothing happens": a negation with no sentiment word
        # to negate still tells of something missing (not in a phrase: "can't wait")
        hits.append(Hit(BARE_NEGATION_VALENCE, index, None))
    if hits and hits[0].sarcasm_opener:
        # "Great, another week…" (the opener alone) or "Great job losing my parcel" (a complaint
        # after it in the same clause) may be sarcastic; "Great product and …" is not.
        small_talk = lexicon.fillers | lexicon.sarcasm_openers
        alone = all(word in small_talk for word in words)
        complaint_follows = (
            words[1:2] and words[1] in small_talk and any(hit.valence < 0 for hit in hits[1:])
        )
        hits[0].sarcasm_opener = bool(alone or complaint_follows)
    return hits


def _score(
    words: list[str], position: int, count: int, lexicon: Lexicon
) -> tuple[float, int] | None:
    """A number read as a score, and how many words it takes: "9 out of 10" anywhere, and
    after a score verb "gave it a 9", "rate it 2/10", "give it 3 stars" (out of 5)."""
    after = words[position + 1 : position + 4]
    if after[:2] == ["out", "of"] and len(after) == 3:
        scale = _count(after[2], lexicon)
        if scale in SCORE_SCALES and count <= scale:
            return _score_valence(count / scale), 4
    window = words[max(position - SCORE_WINDOW, 0) : position]
    if not any(word in lexicon.score_verbs for word in window):
        return None
    if after[:1] and after[0] in lexicon.star_units and count <= 5:
        return _score_valence(count / 5), 2
    if not words[position].isdigit():  # "give this *one* a look": a spelled number is a pronoun
        return None
    scale = _count(after[0], lexicon) if after else None
    if scale in SCORE_SCALES and count <= scale:  # "9/10"
        return _score_valence(count / scale), 2
    if count <= 10 and (not after or after[0] in lexicon.score_followers):
        return _score_valence(count / 10), 1  # "a 10 plus", not "gave it to my 3 kids"
    return None


def _star_rating(words: list[str], position: int, lexicon: Lexicon) -> tuple[float, int] | None:
    """A run of star glyphs as a rating: "★★★★☆" is 4 of 5, "⭐⭐" 2 of 5; one star alone is
    an emoji (its lexicon valence)."""
    end = position
    while end < len(words) and (
        words[end] in lexicon.filled_stars or words[end] in lexicon.empty_stars
    ):
        end += 1
    if end - position < 2:
        return None
    filled = sum(word in lexicon.filled_stars for word in words[position:end])
    return _score_valence(filled / max(end - position, STAR_SCALE)), end - position


def _score_valence(fraction: float) -> float:
    valence = (fraction - SCORE_CENTRE) * SCORE_SLOPE
    return max(-SCORE_CAP, min(SCORE_CAP, valence))


def _quotation(tokens: list[Token], start: int, length: int) -> str:
    """What quotation marks around a match make of it, among unquoted words: a "name" when the
    quotation is capitalised (the film "My Best Friend's Wedding": no opinion), a "claim" when
    it is a short lower-case one ("The "solid wood" table is chipboard": praise disputed), or
    "" (no quotation, a wholly quoted text, a long citation)."""
    if not all(isinstance(token, QuotedToken) for token in tokens[start : start + length]):
        return ""
    first, last = start, start + length - 1
    while first > 0 and isinstance(tokens[first - 1], QuotedToken):
        first -= 1
    while last + 1 < len(tokens) and isinstance(tokens[last + 1], QuotedToken):
        last += 1
    if first == 0 and last + 1 == len(tokens):
        return ""
    if tokens[first].text[:1].isupper():
        return "name"
    return "claim" if last - first + 1 <= SCARE_QUOTE_WORDS else ""


def _outdone(words: list[str], end: int, lexicon: Lexicon) -> bool:
    """ "The free ones are sturdier than this", "I've seen soap operas more intelligent than this
    film": praise of something else, measured against the thing reviewed."""
    return (
        words[end : end + 1] == [lexicon.comparison_word]
        and bool(lexicon.comparison_word)
        and words[end + 1 : end + 2] != []
        and words[end + 1] in lexicon.comparison_targets
    )


def _hypothetical(words: list[str], lexicon: Lexicon) -> str:
    """ "reader" for a clause that states the reader's wish ("If you want a real scare, …": what
    it says is said of nothing), "other" for any other condition ("If it breaks again, …": only
    its praise is unreal), "" for none."""
    if not words:
        return ""
    start = 1 if words[0] in lexicon.scope_words else 0  # "Even if …"
    if len(words) <= start or words[start] not in lexicon.hypothetical_openers:
        return ""
    return (
        "reader"
        if words[start + 1 : start + 2] and words[start + 1] in lexicon.addressees
        else "other"
    )


def _wished(valence: float, words: list[str], start: int, length: int, lexicon: Lexicon) -> float:
    """Praise that is only wished for: "It would be great if it worked", "I'd love it if it
    charged" are mild complaints; "Would recommend if you like spice" is praise."""
    if any(word in lexicon.conditional_modals for word in words[max(start - 4, 0) : start]):
        rest = words[start + length :]
        for index, word in enumerate(rest):
            if word in lexicon.conditional_markers:
                if rest[index + 1 : index + 2] and rest[index + 1] in lexicon.addressees:
                    return valence
                return WISH_FACTOR * valence
    return valence


def _a_preposition(words: list[str], position: int, lexicon: Lexicon) -> bool:
    """ "like" after anything but a subject, an auxiliary or a negator: "looks like a toy"."""
    subjects = lexicon.verb_only.get(words[position])
    if subjects is None:
        return False
    if position == 0:  # "Like it a lot" (no subject written), not "Like the last one, …"
        return words[1:2] != ["it"]
    before = words[position - 1]
    return not (before in subjects or before in lexicon.negators or before in lexicon.intensifiers)


def _coordinated(words: list[str], end: int, start: int, lexicon: Lexicon) -> bool:
    """Only "or"/"and", or nothing, between the previous match and this one: "wasn't helpful
    or friendly", "not as good as expected"."""
    return all(word in lexicon.coordinators for word in words[end:start])


def _valence(
    entry: Entry, negated: bool, words: list[str], position: int, lexicon: Lexicon
) -> float:
    if negated and entry.negated is not None:
        return entry.negated
    if entry.valence > 0 and position > 0:
        before = words[position - 1]
        if not negated and entry.valence <= LIMITABLE_VALENCE and before in lexicon.limiters:
            return LIMITED_VALENCE  # "only ok", "just average"
        if entry.valence <= EXCESS_LIMIT and before in lexicon.excess_markers:
            return EXCESS_FACTOR * entry.valence  # "too sweet"; negated, "not too sweet" praises
    return entry.valence


def _damn_with_faint_praise(clause_hits: list[Hit], clause: int) -> None:
    """ "good at best": the praise before it becomes a complaint; "average at best" (no
    sentiment word before it) is a mild complaint of its own."""
    if clause_hits:
        valence = clause_hits[-1].valence
        faint = FAINT_PRAISE_FACTOR * valence if valence > 0 else valence
        clause_hits[-1].valence = min(faint, FAINT_PRAISE_VALENCE)
    else:
        clause_hits.append(Hit(FAINT_PRAISE_VALENCE, clause, None))


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
    quotations = QuotedToken in set(map(type, tokens))
    hits = [
        hit
        for index, clause in enumerate(clauses)
        for hit in _clause_hits(clause, index, lexicon, shouting, quotations)
    ]
    if lexicon.questions_complain:
        # "Did nobody check these?", "Who is this made for?": a question that names no sentiment
        # is mostly a rhetorical complaint
        answered = {hit.clause for hit in hits}
        for index, clause in enumerate(clauses):
            if "?" in clause.emphasis and clause.tokens and index not in answered:
                hits.append(Hit(BARE_QUESTION_VALENCE, index, None))
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
