"""How the rules read short review sentences: negation scope, negated readings, faint praise,
intensifier-only adjectives, comparatives against the thing reviewed, litotes, derived
negatives and shop vocabulary. Sentences written for these tests."""

from __future__ import annotations

import pytest

from parcelwatch.models.feedback.analyzer import FeedbackAnalyzer
from parcelwatch.models.feedback.lexicon import load_lexicon
from parcelwatch.models.feedback.rules import read_rules
from parcelwatch.models.feedback.text import tokenize
from parcelwatch.schemas.feedback import SentimentLabel
from tests.models.feedback.reading import label, rule_score

NEG, POS = SentimentLabel.NEGATIVE, SentimentLabel.POSITIVE


CASES = [
    # negation reaches across small words and over "or"/"and"
    ("en", "The soup is not that good", NEG),
    ("en", "The charger wasn't even that useful", NEG),
    ("en", "The seller was not really very helpful", NEG),
    ("en", "The clerk wasn't polite or friendly", NEG),
    ("en", "I don't think you will be disappointed", POS),
    ("en", "The lamp was not as good as expected", NEG),
    ("pt", "O entregador não foi rápido nem educado", NEG),
    ("es", "El vendedor no fue amable ni rápido", NEG),
    ("de", "Der Fahrer war nicht freundlich oder hilfsbereit", NEG),
    ("fr", "Le livreur n'était pas aimable ni rapide", NEG),
    ("pt", "O tênis não é tão bom", NEG),
    ("es", "La mochila no es tan buena", NEG),
    ("de", "Die Tasche ist nicht so gut", NEG),
    ("fr", "Le sac n'est pas si bien", NEG),
    ("fr", "Ce n'est vraiment pas si bien", NEG),
    # words with a reading of their own under a negator
    ("en", "I will not be ordering from them again", NEG),
    ("en", "Won't go back", NEG),
    ("en", "We will not return", NEG),
    ("en", "The case is not worth the price", NEG),
    ("en", "It wasn't even worth half of what I paid", NEG),
    ("en", "The blender did not disappoint", POS),
    ("en", "This kettle never disappoints", POS),
    ("en", "You won't regret it", POS),
    ("en", "The zipper didn't last a month", NEG),
    ("en", "You can't go wrong with this lamp", POS),
    ("en", "Don't bother with this brand", NEG),
    ("pt", "A bolsa não decepcionou", POS),
    ("es", "La chaqueta no decepciona", POS),
    ("fr", "Je ne suis pas déçu du tout", POS),
    # litotes and eagerness phrases
    ("en", "Can't wait for my next order", POS),
    ("en", "I can't say enough nice things about this seller", POS),
    ("en", "Cannot recommend this shop enough", POS),
    # faint praise and limiters
    ("en", "The stitching is decent at best", NEG),
    ("en", "Average at best", NEG),
    ("en", "The fabric is mediocre at best", NEG),
    ("en", "The headphones are only ok", NEG),
    ("de", "Die Qualität ist bestenfalls okay", NEG),
    # intensifier-only adjectives
    ("en", "The sauce was pretty bland", NEG),
    ("en", "Super slow shipping", NEG),
    ("en", "The mug is pretty", POS),
    # comparatives against the thing reviewed
    ("en", "I've had better pizza from a gas station", NEG),
    ("en", "Any corner shop sells better than this", NEG),
    ("en", "You can find better elsewhere", NEG),
    # phrases that negate like a negator, and negators used up by their phrase
    ("en", "The finish is far from perfect", NEG),
    ("en", "The packaging was less than ideal", NEG),
    ("en", "It took less than a day and the seller was great", POS),
    ("en", "A tracking link would have been nice", NEG),
    ("en", "The charger could have been useful", NEG),
    ("pt", "O acabamento está longe de ser bom", NEG),
    ("en", "Nothing short of excellent", POS),
    ("en", "Not only cheap but sturdy too", POS),
    # a positive adjective that intensifies the word after it
    ("en", "The lamp was a great disappointment", NEG),
    ("en", "A total waste, an absolute joke", NEG),
    # counterfactual wishes and scores
    ("en", "I wish I had bought the other one", NEG),
    ("en", "10/10 would buy again", POS),
    ("en", "1/10, the strap snapped", NEG),
    # derived negatives and luck
    ("en", "Totally unremarkable", NEG),
    ("en", "Best of luck to the rude manager", NEG),
    ("en", "Two thumbs up", POS),
    ("en", "The shirt lacks any charm", NEG),
    ("en", "I can't thank the courier enough", POS),
    ("en", "The box isn't big enough for good protection", NEG),
    # shop vocabulary
    ("en", "Stale bread and soggy fries", NEG),
    ("en", "Flimsy and cheaply made, broke on day two", NEG),
    ("en", "Stopped working after a week, returned it for a refund", NEG),
    ("en", "Sturdy, durable and reliable", POS),
    ("en", "Worth every penny, highly recommend", POS),
    ("en", "Five stars, exactly as described and fits perfectly", POS),
    ("en", "Piece of junk, doesn't work", NEG),
    ("en", "Works great and is very comfortable", POS),
    ("en", "The dialogue is atrocious and the plot makes no sense", NEG),
    ("en", "The noodles had no flavour", NEG),
    ("en", "Generous portions, will definitely go back", POS),
    ("en", "The bakery has gone downhill", NEG),
    ("en", "Never arrived and no refund", NEG),
    ("en", "Kind of flimsy", NEG),
    # a negation reaches across a comma that only interrupts it
    ("en", "I will never, ever order from this shop again", NEG),
    ("en", "Never, ever again", NEG),
    ("en", "The sofa is not, in any way, comfortable", NEG),
    # modal regrets and wishes: the praise is what is missing
    ("en", "I should have read the reviews first", NEG),
    ("en", "Should've bought the other brand", NEG),
    ("en", "I'd love it if it actually charged", NEG),
    ("en", "It would be a great kettle if the lid closed", NEG),
    ("en", "Would recommend if you like spicy food", POS),
    # praise in an "if" clause is not said of the thing
    ("en", "If you like crispy fries, look elsewhere", NEG),
    ("en", "Even if you love cheap gadgets, skip this one", NEG),
    ("en", "If you like spicy food, you will love this place", POS),
    # the one good thing, rhetorical questions, litotes of "write home about"
    ("en", "The only good thing about the hotel was the parking", NEG),
    ("en", "Why would anyone buy this lamp?", NEG),
    ("en", "The bread was nothing to write home about", NEG),
    # scores given with a verb or "out of"
    ("en", "I gave the blender a 9", POS),
    ("en", "I'd rate this charger 2/10", NEG),
    ("en", "Gave it 2 stars for the colour", NEG),
    ("en", "My verdict: 3 out of 10", NEG),
    ("en", "Solid 8 out of 10", POS),
    ("en", "I would give this bakery a 10 plus if I could", POS),
    # praise past its measure, and its negation
    ("en", "The icing was too sweet", NEG),
    ("en", "The mattress is too soft for my back", NEG),
    ("en", "The icing was not too sweet", POS),
    ("en", "The waiter was too kind", POS),
    ("en", "I was not too pleased with the fit", NEG),
    # a short quotation of praise is a claim disputed
    ("en", 'The "waterproof" jacket soaked through in ten minutes', NEG),
    ("en", "So much for \u201ceasy\u201d assembly", NEG),
    # everyday product defects, and their absence
    ("en", "The shelf sags and the drawer jammed", NEG),
    ("en", "No rattle, no wobble, no fuss", POS),
    ("en", "Still works after two years", POS),
    # expectations, decline and the one complaint of a happy customer
    ("en", "For this price I expected better", NEG),
    ("en", "I really wanted to like this cafe", NEG),
    ("en", "The bakery used to be great", NEG),
    ("en", "My only complaint is the colour, otherwise lovely", POS),
    ("en", "Nothing but good things to say about the seller", POS),
    ("en", "Nothing but problems since day one", NEG),
    ("en", "The service couldn't be better", POS),
    ("en", "What more could you ask for?", POS),
    ("en", "Hard to beat at this price", POS),
    ("en", "I struggle to find anything bad to say about the bakery", POS),
    ("en", "It is hard to find good coffee on this street", NEG),
    ("en", "Don't miss it", POS),
    ("en", "We waited 45 minutes for our starters", NEG),
    ("en", "Took 2 hours to get a table", NEG),
    ("en", "My old kettle was sturdier than this", NEG),
    ("en", "I've seen cartoons more believable than this", NEG),
    ("en", "I can't find a single thing wrong with this bag", POS),
    ("en", "Not once has it worked", NEG),
    ("en", "Good sound but the battery dies fast", NEG),
    # concessions weigh less than what they concede to; "then" turns a story
    ("en", "Although the food was good, the service was awful", NEG),
    ("en", "Even though the decor is lovely, the food is bland", NEG),
    ("en", "While the staff were friendly, the rooms were dirty", NEG),
    ("en", "Although the room was small, the staff were wonderful", POS),
    ("en", "A lovely hotel despite the noise", POS),
    ("en", "Great for a week, then it died", NEG),
    ("en", "The curry could use more salt", NEG),
    ("en", "Good moments are few and far between", NEG),
    # a negator used up by its phrase
    ("en", "This bakery never fails to impress", POS),
    ("en", "The chef never ceases to amaze me", POS),
    ("en", "I didn't realize how good this soup is", POS),
    ("en", "A below average meal", NEG),
    ("en", "There are some obvious flaws", NEG),
    ("en", "I don't see how anyone could enjoy this pizza", NEG),
    ("en", "On a scale of 1 to 10, I give it a 9", POS),
    ("en", "The less said about the dessert the better", NEG),
    # restaurant vocabulary, superlatives through a negation, elongated words
    ("en", "The steak was barely edible", NEG),
    ("en", "Perfectly cooked, moist and well seasoned", POS),
    ("en", "I have never had better ramen", POS),
    ("en", "Nothing beats their fries", POS),
    ("en", "Would go back in a heartbeat", POS),
    ("en", "The pasta was amaaazing", POS),
    ("en", "Sooo disappointed", NEG),
    ("en", "I had high hopes for this place", NEG),
    ("en", "The service was lacking", NEG),
    ("en", "Nothing to rave about", NEG),
    ("en", "I keep coming back", POS),
    # a verdict outweighs what came before it
    ("en", "The wait was long and the room was loud. Overall, a lovely evening", POS),
    ("en", "The staff were nice. Overall, a disappointing meal", NEG),
    # a negation with nothing to negate still tells of something missing
    ("en", "The plot doesn't hold together", NEG),
    ("en", "Nothing happens for an hour", NEG),
    ("en", "The sauce lacks depth", NEG),
    ("en", "Couldn't put it down", POS),
    ("en", "Wouldn't change a thing", POS),
    ("en", "Arrived without a scratch", POS),
    # a question that names no sentiment is a rhetorical complaint
    ("en", "Did nobody check these before sending them?", NEG),
    ("en", "Who is this jacket even made for?", NEG),
    ("en", "Why would you put a glass lid on a camping pot?", NEG),
    ("en", "Is it worth it? Absolutely, a great buy", POS),
    # star glyphs and emoji
    ("en", "★★★★★", POS),
    ("en", "★☆☆☆☆ the lid cracked", NEG),
    ("en", "Thanks for the update 🙄", NEG),
]


@pytest.mark.parametrize(("language", "text", "expected"), CASES, ids=lambda v: str(v)[:30])
def test_short_review_sentences(
    analyzer: FeedbackAnalyzer, language: str, text: str, expected: SentimentLabel
):
    assert label(analyzer, text, language) is expected


def test_a_negation_beyond_its_reach_negates_nothing():
    # "not" is four content words before "good": the praise stands
    assert rule_score("I could not find the cable but the good lamp works") > 0
    assert rule_score("Nobody told me about it and the quality is good") > 0


def test_coordination_carries_only_a_negation():
    assert rule_score("The courier was polite and friendly") > 0
    assert rule_score("The courier was not polite and friendly") < 0


def test_a_word_under_a_negation_that_means_nothing_alone_adds_nothing():
    lexicon = load_lexicon("en")
    plain = read_rules(tokenize("We will go back", "en"), lexicon)
    negated = read_rules(tokenize("We will not go back", "en"), lexicon)
    assert negated.score < plain.score <= 0.5


def test_faint_praise_turns_praise_into_a_milder_complaint():
    assert rule_score("good at best") < 0 < rule_score("good")
    assert rule_score("good at best") > rule_score("bad")


def test_an_intensifier_only_adjective_strengthens_the_next_word():
    assert rule_score("pretty bad") < rule_score("bad") < 0
    assert rule_score("pretty good") > rule_score("good") > 0


def test_german_nicht_after_a_word_negates_the_word_it_leads_to_instead():
    # "leider nicht so gut": "nicht" negates "gut", not "leider"
    assert rule_score("Ist leider nicht so gut", "de") < rule_score("Ist leider gut", "de")
    assert rule_score("Das gefällt mir nicht", "de") < 0


def test_like_is_a_sentiment_only_as_a_verb():
    assert rule_score("I like the case") > 0
    assert rule_score("I didn't like the case") < 0
    assert rule_score("The case looks like leather") == 0
    assert rule_score("It sounds like a jet engine and smells like burnt plastic") < 0
    assert rule_score("Like the last kettle, it leaks") < 0
    assert rule_score("Like it a lot") > 0


def test_least_negates_unless_it_is_at_least():
    assert rule_score("One of the least comfortable chairs I own") < 0
    assert rule_score("At least the courier was friendly") > 0
    assert rule_score("Not the least bit comfortable") < 0


def test_litotes_of_the_extremes_are_lukewarm():
    assert 0 <= rule_score("It's not the worst kettle") < rule_score("It's a good kettle")
    assert rule_score("Not a fan of the new lid") < 0 < rule_score("Big fan of the new lid")


def test_a_comma_after_a_lone_answer_ends_the_negation():
    # "No, …" and "Not really, …" answer something; the praise after them stands
    assert rule_score("No, it works fine") > 0
    assert rule_score("Not really, the soup was fine") > 0


def test_a_wish_is_a_milder_complaint_than_a_plain_one():
    wish = rule_score("It would be a great kettle if the lid closed")
    assert rule_score("The lid does not close, a bad kettle") < wish < 0


def test_a_spelled_number_after_a_score_verb_is_no_score():
    # "give this one a try": "one" is a pronoun, not a score of 1/10
    assert rule_score("Give this one a try") >= 0
    assert rule_score("I gave it a 1") < 0 < rule_score("I gave it a 10")


def test_a_supposed_quality_is_a_missing_one():
    assert rule_score("The coat is supposed to be warm") < 0 < rule_score("The coat is warm")


def test_a_quoted_name_or_a_quoted_text_is_no_disputed_claim():
    assert rule_score('We saw "Happy Feet" at the cinema') == 0  # a name is no opinion
    assert rule_score('A poor remake of "The Best Years"') < 0
    assert rule_score('"Excellent seller"') > 0
    assert rule_score('The card said "we hope you enjoy your new lamp, have a good day"') > 0
    assert rule_score('The "good" lamp') < 0


def test_a_run_of_star_glyphs_is_a_rating_out_of_five():
    assert rule_score("★★☆☆☆") < 0 < rule_score("★★★★☆") < rule_score("★★★★★")
    assert rule_score("⭐⭐⭐⭐⭐") == rule_score("★★★★★")


def test_a_condition_on_the_reader_says_nothing_of_the_thing():
    # "If you want a scare": the scare is the reader's wish; "if it breaks": the thing's fault
    assert abs(rule_score("If you want a scary film")) < abs(rule_score("A scary film"))
    assert rule_score("If it breaks again, I am returning it") < 0
    assert rule_score("!!!") == 0  # a clause of emphasis alone


def test_a_number_after_a_score_verb_is_a_score_only_where_it_ends():
    assert rule_score("I gave it to my 3 kids") == 0
    assert rule_score("I rate this kettle a 9 out of a possible 10") > 0


def test_a_short_wait_is_no_complaint():
    assert rule_score("Ready in 10 minutes and delicious") > 0
    assert rule_score("The film runs 95 minutes") == 0  # no waiting in the clause


def test_nothing_beats_the_thing_itself():
    assert rule_score("Nothing is better than this") > 0


def test_an_elongated_word_reads_as_the_word():
    assert rule_score("Yummmm") == rule_score("Yumm") or rule_score("Yummmm") == rule_score("Yum")
    assert rule_score("Yummmm") > 0
    assert rule_score("Zzzzz") == 0  # no word under it


def test_a_bare_negation_is_a_weak_complaint_and_a_phrase_uses_it_up():
    assert -0.3 < rule_score("The lid doesn't stay shut") < 0 < rule_score("Can't wait")
    assert rule_score("No, it works fine") > 0  # "no" alone is an answer, not a bare negation
