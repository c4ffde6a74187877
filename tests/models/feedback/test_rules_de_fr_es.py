"""How the rules read German, French and Spanish shop feedback: the evaluative words customers use
about products, sellers and deliveries, idioms, faint praise, intensifiers and negators, and the
compounds and greetings that only look like sentiment. Sentences written for these tests."""

from __future__ import annotations

import pytest

from parcelwatch.models.feedback.analyzer import FeedbackAnalyzer, FeedbackText
from parcelwatch.models.feedback.lexicon import Aspect, load_lexicon
from parcelwatch.models.feedback.rules import read_rules
from parcelwatch.models.feedback.text import tokenize
from parcelwatch.schemas.feedback import SentimentLabel
from tests.models.feedback.reading import label, rule_score

NEG, NEU, POS = SentimentLabel.NEGATIVE, SentimentLabel.NEUTRAL, SentimentLabel.POSITIVE


VOCABULARY = [
    # German: product quality and workmanship
    ("de", "Totaler Fehlkauf, der Mixer ist Ramsch", NEG),
    ("de", "Die Lampe ist ein Reinfall", NEG),
    ("de", "Der Stuhl wackelt und das Polster ist verfärbt", NEG),
    ("de", "Der Pullover ist nach der ersten Wäsche eingelaufen und ausgeleiert", NEG),
    ("de", "Die Flasche ist undicht, alles ist ausgelaufen", NEG),
    ("de", "Das Radio fiept und das Gehäuse klappert", NEG),
    ("de", "Die Anleitung ist ein Witz", NEG),
    ("de", "Fühlt sich billig an", NEG),
    ("de", "Der Bezug ist sehr wertig und die Nähte sind sauber", POS),
    ("de", "Der Teppich sieht edel aus und ist herrlich weich", POS),
    ("de", "Die Bettwäsche ist traumhaft", POS),
    ("de", "Der Rucksack hält, was er verspricht", POS),
    ("de", "Der Rasierer ist jeden Cent wert", POS),
    ("de", "Die Hose passt wie angegossen", POS),
    ("de", "Der Staubsauger hat nach drei Monaten den Geist aufgegeben, das Gerät lädt nicht", NEG),
    ("de", "Der Deckel ist abgebrochen", NEG),
    # German: delivery and service
    ("de", "Das Paket ist verschwunden", NEG),
    ("de", "Der Liefertermin wurde schon wieder verschoben", NEG),
    ("de", "Der Zusteller hat mich angeschrien", NEG),
    ("de", "Die Lieferung kam einen Tag früher als angekündigt", POS),
    ("de", "Der Bote war sehr höflich und zuvorkommend", POS),
    ("de", "Die Rücksendung lief reibungslos und unkompliziert", POS),
    ("de", "Der Händler war kulant und hat mir schnell geholfen", POS),
    ("de", "Die Hotline ist unprofessionell und unzuverlässig", NEG),
    ("de", "Keinerlei Reaktion auf meine Beschwerde", NEG),
    # French
    ("fr", "De la camelote, à la poubelle", NEG),
    ("fr", "Vraiment bas de gamme", NEG),
    ("fr", "Le vase est arrivé brisé", NEG),
    ("fr", "Le bol est fêlé et le couvercle fendu", NEG),
    ("fr", "Le pull a rétréci et bouloche", NEG),
    ("fr", "Il manque deux vis, pièces manquantes", NEG),
    ("fr", "Le livreur m'a raccroché au nez", NEG),
    ("fr", "Aucune nouvelle du remboursement", NEG),
    ("fr", "Colis introuvable depuis lundi", NEG),
    ("fr", "Je m'attendais à mieux", NEG),
    ("fr", "Le produit est au top", POS),
    ("fr", "Bluffée par ce petit casque", POS),
    ("fr", "Le service client est réactif et courtois", POS),
    ("fr", "Livré plus tôt que prévu, emballage soigné", POS),
    ("fr", "La poêle fonctionne à merveille", POS),
    ("fr", "Une tuerie, ce gâteau", POS),
    ("fr", "Un peu cher, mais franchement la qualité justifie le prix", POS),
    ("fr", "Pas cher et solide", POS),
    # Spanish
    ("es", "Una chapuza, el mueble cojea", NEG),
    ("es", "El tejido es malísimo", NEG),
    ("es", "El paquete llegó aplastado y mojado", NEG),
    ("es", "El repartidor tiró la caja por encima de la valla", NEG),
    ("es", "Dejaron el paquete sin avisar", NEG),
    ("es", "Me cobraron dos veces y aún no me han devuelto el dinero", NEG),
    ("es", "Vaya tela con esta tienda", NEG),
    ("es", "Ni de broma pago eso", NEG),
    ("es", "La funda no tiene nada que ver con la foto", NEG),
    ("es", "Faltan piezas y las instrucciones no se entienden", NEG),
    ("es", "Las sábanas son suavísimas", POS),
    ("es", "La manta es suavecita", POS),
    ("es", "La cafetera va de lujo", POS),
    ("es", "El repartidor fue muy majo", POS),
    ("es", "Una ganga, repetiría sin dudar", POS),
    ("es", "Llegó al día siguiente, un diez", POS),
    ("es", "Por ese precio no se puede pedir más", POS),
]


@pytest.mark.parametrize(("language", "text", "expected"), VOCABULARY)
def test_shop_vocabulary(analyzer: FeedbackAnalyzer, language: str, text: str, expected):
    assert label(analyzer, text, language) is expected


FAINT_PRAISE = [
    ("de", "Ganz okay."),
    ("de", "Geht so."),
    ("de", "Durchschnitt."),
    ("de", "Ganz in Ordnung."),
    ("fr", "Bof."),
    ("fr", "Sans plus."),
    ("fr", "Ni bien ni mal."),
    ("es", "Sin más."),
    ("es", "Ni fu ni fa."),
    ("es", "Nada del otro mundo."),
]


@pytest.mark.parametrize(("language", "text"), FAINT_PRAISE)
def test_faint_praise_alone_is_neutral(analyzer: FeedbackAnalyzer, language: str, text: str):
    assert label(analyzer, text, language) is NEU


@pytest.mark.parametrize(
    ("language", "faint", "praise"),
    [
        ("de", "Ganz okay", "Sehr gut"),
        ("fr", "Conforme mais sans plus", "Conforme"),
        ("es", "Correcto, sin más", "Correcto"),
        ("es", "Nada del otro mundo", "Bueno"),
    ],
)
def test_faint_praise_reads_lower_than_praise(language: str, faint: str, praise: str):
    assert rule_score(faint, language) < rule_score(praise, language)


@pytest.mark.parametrize(
    ("language", "strong", "plain"),
    [
        ("de", "Der Koffer ist äußerst stabil", "Der Koffer ist stabil"),
        ("de", "Totaler Fehlkauf", "Fehlkauf"),
        ("fr", "Le pull est ultra confortable", "Le pull est confortable"),
        ("fr", "C'est énormément décevant", "C'est décevant"),
        ("es", "El cojín es tremendamente cómodo", "El cojín es cómodo"),
    ],
)
def test_intensifiers_strengthen(language: str, strong: str, plain: str):
    assert abs(rule_score(strong, language)) > abs(rule_score(plain, language))


@pytest.mark.parametrize(
    ("language", "weak", "plain"),
    [
        ("de", "Der Koffer ist halbwegs stabil", "Der Koffer ist stabil"),
        ("fr", "Le pull est moyennement confortable", "Le pull est confortable"),
        ("es", "El cojín es poquísimo cómodo", "El cojín es cómodo"),
    ],
)
def test_diminishers_weaken(language: str, weak: str, plain: str):
    assert 0 <= rule_score(weak, language) < rule_score(plain, language)


NEGATION = [
    ("de", "Keinerlei Probleme mit dem Gerät", POS),
    ("de", "Das Paket ist nirgends zu finden, die Sendung ist verschwunden", NEG),
    ("de", "Ich habe noch nie so unkompliziert etwas zurückgegeben", POS),
    ("de", "Die Lampe hält nicht mal eine Woche", NEG),
    ("de", "Die Jacke ist das Geld nicht wert", NEG),
    ("fr", "Je ne suis aucunement satisfait", NEG),
    ("fr", "Pas de souci avec ce vendeur", POS),
    ("fr", "La semelle ne glisse pas", POS),
    ("fr", "Le casque sans fil fonctionne parfaitement", POS),
    ("es", "La sartén no se pega", POS),
    ("es", "No es justo", NEG),
    ("es", "La tienda dice que no es su problema", NEG),
    ("de", "Der Verkäufer hat sich nie gemeldet", NEG),
    ("de", "Nichts zu beanstanden", POS),
    ("fr", "Je n'ai que des éloges pour ce vendeur", POS),
    ("fr", "Que du bonheur", POS),
    ("es", "No tengo ninguna queja", POS),
    ("de", "Gar nicht mal so schlecht", POS),
    ("fr", "Pas du tout satisfait", NEG),
    ("fr", "La veste n'est pas du tout imperméable", NEG),
    # German negates after the verb: a word that is only a complaint when negated
    ("de", "Das Klebeband klebt nicht", NEG),
    ("de", "Die Schublade schließt nicht richtig", NEG),
    ("de", "Die Kanne ist nicht dicht", NEG),
    ("de", "Das Paket ist nirgends auffindbar", NEG),
]

WRONG_ITEM_AND_WAITING = [
    ("de", "Statt der blauen Tasse kam eine rote", NEG),
    ("de", "Ich warte seit Wochen auf die Erstattung", NEG),
    ("de", "Zum dritten Mal rufe ich an", NEG),
    ("fr", "Ce n'est pas ma commande", NEG),
    ("fr", "La tente laisse passer la pluie", NEG),
    ("fr", "J'attends le remboursement depuis des semaines", NEG),
    ("es", "La caja vino sin tornillos", NEG),
    ("es", "Es la tercera vez que llamo", NEG),
    ("es", "Llevo semanas esperando el reembolso", NEG),
    ("de", "Die Schuhe habe ich zurückgeschickt", NEG),
    ("fr", "Trop petit, je le renvoie", NEG),
    ("es", "No es lo que esperaba, lo devuelvo", NEG),
]


@pytest.mark.parametrize(("language", "text", "expected"), WRONG_ITEM_AND_WAITING)
def test_wrong_items_and_repeated_waiting(analyzer: FeedbackAnalyzer, language, text, expected):
    assert label(analyzer, text, language) is expected


@pytest.mark.parametrize(("language", "text", "expected"), NEGATION)
def test_negators_and_negated_phrases(analyzer: FeedbackAnalyzer, language, text, expected):
    assert label(analyzer, text, language) is expected


NOT_SENTIMENT = [
    ("de", "Guten Tag, bitte ändern Sie meine Adresse."),
    ("de", "Die Schrift steht an der Spitze der Seite."),
    ("fr", "Le casque sans fil, on verra à l'usage."),
    ("fr", "Bonne journée, je voudrais changer l'adresse."),
    ("es", "Buenas tardes, ¿podéis cambiar la dirección?"),
    ("es", "Lo recogí por la tarde."),
    ("es", "No hace falta llamar antes."),
]


@pytest.mark.parametrize(("language", "text"), NOT_SENTIMENT)
def test_greetings_and_compounds_carry_no_sentiment(language: str, text: str):
    lexicon = load_lexicon(language)
    reading = read_rules(tokenize(text, language), lexicon)
    assert abs(reading.score) < 0.3


def test_a_spanish_caveat_after_aunque_does_not_overturn_the_praise(analyzer: FeedbackAnalyzer):
    """ "aunque" is not a "pero": what follows it concedes a detail, the praise before it stands."""
    assert label(analyzer, "La chaqueta es preciosa, aunque tardó un poco", "es") is POS


def test_a_negation_does_not_carry_into_a_claim_that_was_not_met(analyzer: FeedbackAnalyzer):
    text = "La veste n'est pas du tout imperméable contrairement à ce qui est écrit"
    assert label(analyzer, text, "fr") is NEG


@pytest.mark.parametrize(
    ("language", "text", "aspect"),
    [
        ("de", "Der Zusteller war unfreundlich", Aspect.DELIVERY),
        ("de", "Die Verarbeitung ist mangelhaft", Aspect.PRODUCT),
        ("fr", "Colis introuvable", Aspect.DELIVERY),
        ("fr", "Les finitions sont bâclées", Aspect.PRODUCT),
        ("es", "El repartidor fue muy majo", Aspect.DELIVERY),
        ("es", "Los acabados son mejorables", Aspect.PRODUCT),
    ],
)
def test_new_terms_name_their_aspect(language: str, text: str, aspect: Aspect):
    lexicon = load_lexicon(language)
    assert aspect in read_rules(tokenize(text, language), lexicon).aspects


@pytest.mark.parametrize(
    ("language", "text", "topic"),
    [
        ("de", "Der Liefertermin wurde verschoben", "late_delivery"),
        ("de", "Das Paket ist verschwunden", "not_received"),
        ("de", "Der Zusteller hat mich angeschrien", "courier_behaviour"),
        ("de", "Die Jeans ist nach dem ersten Waschen ausgeleiert", "product_quality"),
        ("fr", "Colis introuvable depuis lundi", "not_received"),
        ("fr", "Le livreur a balancé le carton par-dessus le portail", "courier_behaviour"),
        ("fr", "Vraiment bas de gamme", "product_quality"),
        ("es", "El paquete llegó aplastado", "damaged"),
        ("es", "La caja vino sin tornillos", "wrong_or_missing_item"),
        ("es", "El repartidor tiró el paquete por encima de la valla", "courier_behaviour"),
    ],
)
def test_new_vocabulary_finds_its_topic(analyzer: FeedbackAnalyzer, language, text, topic):
    (analysis,) = analyzer.analyze([FeedbackText(text, language_hint=language)])
    assert topic in {found.topic.value for found in analysis.topics}
