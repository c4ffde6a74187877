"""Each of the nine topics is found in each of the five languages, and only above 0.5."""

from __future__ import annotations

import pytest

from parcelwatch.models.feedback.analyzer import FeedbackAnalyzer, FeedbackText
from parcelwatch.models.feedback.topics import MIN_TOPIC_CONFIDENCE
from parcelwatch.schemas.feedback import FeedbackTopic as T

CASES = [
    ("en", "My parcel is two weeks late and still not here.", T.LATE_DELIVERY),
    ("en", "It says delivered but I never received anything.", T.NOT_RECEIVED),
    ("en", "The vase arrived smashed, the box was crushed.", T.DAMAGED),
    ("en", "They sent me the wrong item and a part is missing.", T.WRONG_OR_MISSING_ITEM),
    ("en", "The driver left it outside in the rain and didn't ring.", T.COURIER_BEHAVIOUR),
    ("en", "I returned it two weeks ago and still no refund.", T.RETURN_OR_REFUND),
    ("en", "Customer service never replied to my emails.", T.CUSTOMER_SERVICE),
    ("en", "Poor quality, it stopped working after a day.", T.PRODUCT_QUALITY),
    ("en", "Way too expensive for what it is.", T.PRICE),
    ("pt", "O pedido está atrasado, já passou do prazo.", T.LATE_DELIVERY),
    ("pt", "Não recebi o produto até hoje.", T.NOT_RECEIVED),
    ("pt", "A caixa chegou amassada e a luminária veio quebrada.", T.DAMAGED),
    ("pt", "Veio a cor errada e faltando uma peça.", T.WRONG_OR_MISSING_ITEM),
    ("pt", "O entregador deixou do lado de fora e não tocou a campainha.", T.COURIER_BEHAVIOUR),
    ("pt", "Pedi a devolução e quero o reembolso.", T.RETURN_OR_REFUND),
    ("pt", "O atendimento do SAC é péssimo, ninguém responde.", T.CUSTOMER_SERVICE),
    ("pt", "A qualidade é ruim, parou de funcionar em uma semana.", T.PRODUCT_QUALITY),
    ("pt", "Muito caro, o frete custou mais que o produto.", T.PRICE),
    ("es", "El pedido llegó con retraso, fuera de plazo.", T.LATE_DELIVERY),
    ("es", "No he recibido nada y figura como entregado.", T.NOT_RECEIVED),
    ("es", "El paquete llegó roto y la caja abollada.", T.DAMAGED),
    ("es", "Me enviaron la talla equivocada y falta una pieza.", T.WRONG_OR_MISSING_ITEM),
    ("es", "El repartidor lo dejó fuera y no tocó el timbre.", T.COURIER_BEHAVIOUR),
    ("es", "Quiero la devolución y el reembolso de mi dinero.", T.RETURN_OR_REFUND),
    ("es", "La atención al cliente no contesta nunca.", T.CUSTOMER_SERVICE),
    ("es", "Mala calidad, dejó de funcionar a los dos días.", T.PRODUCT_QUALITY),
    ("es", "El precio es demasiado caro para lo que es.", T.PRICE),
    ("de", "Die Lieferung kam viel zu spät, eine Woche Verspätung.", T.LATE_DELIVERY),
    ("de", "Das Paket ist nie angekommen, angeblich zugestellt.", T.NOT_RECEIVED),
    ("de", "Der Karton war eingedrückt und die Tasse zerbrochen.", T.DAMAGED),
    ("de", "Falscher Artikel geliefert und ein Teil fehlt.", T.WRONG_OR_MISSING_ITEM),
    ("de", "Der Bote hat nicht geklingelt, obwohl ich zu Hause war.", T.COURIER_BEHAVIOUR),
    ("de", "Ich warte seit Wochen auf die Rückerstattung.", T.RETURN_OR_REFUND),
    ("de", "Der Kundenservice ist nicht erreichbar.", T.CUSTOMER_SERVICE),
    ("de", "Schlechte Qualität, funktioniert nicht mehr.", T.PRODUCT_QUALITY),
    ("de", "Viel zu teuer, die Versandkosten sind unverschämt.", T.PRICE),
    ("fr", "Livraison en retard, dix jours de retard.", T.LATE_DELIVERY),
    ("fr", "Toujours pas reçu, pourtant indiqué comme livré.", T.NOT_RECEIVED),
    ("fr", "Le colis est arrivé abîmé et le verre cassé.", T.DAMAGED),
    ("fr", "Il manque un article, et la taille est la mauvaise taille.", T.WRONG_OR_MISSING_ITEM),
    ("fr", "Le livreur n'a pas sonné alors que j'étais chez moi.", T.COURIER_BEHAVIOUR),
    ("fr", "J'attends toujours mon remboursement après le retour.", T.RETURN_OR_REFUND),
    ("fr", "Le service client ne répond pas aux mails.", T.CUSTOMER_SERVICE),
    ("fr", "Mauvaise qualité, ne fonctionne plus au bout d'un mois.", T.PRODUCT_QUALITY),
    ("fr", "Beaucoup trop cher, et les frais de port en plus.", T.PRICE),
]


@pytest.mark.parametrize(("language", "text", "topic"), CASES, ids=lambda v: str(v)[:30])
def test_the_topic_is_found(analyzer: FeedbackAnalyzer, language: str, text: str, topic: T):
    (analysis,) = analyzer.analyze([FeedbackText(text, language_hint=language)])
    assert analysis.language == language
    assert topic in {found.topic for found in analysis.topics}


def test_every_topic_is_covered_in_every_language():
    covered = {(language, topic) for language, _, topic in CASES}
    assert covered == {
        (language, topic) for language in ("en", "pt", "es", "de", "fr") for topic in T
    }


def test_topics_are_confident_enough_and_sorted(analyzer: FeedbackAnalyzer):
    analyses = analyzer.analyze([FeedbackText(text) for _, text, _ in CASES])
    for analysis in analyses:
        confidences = [found.confidence for found in analysis.topics]
        assert all(MIN_TOPIC_CONFIDENCE <= value <= 1 for value in confidences)
        assert confidences == sorted(confidences, reverse=True)


@pytest.mark.parametrize(
    "text",
    ["Thank you, lovely jumper.", "Obrigada, adorei!", "Muy bonito.", "Alles super.", "Très joli."],
)
def test_praise_without_a_subject_has_no_topic(analyzer: FeedbackAnalyzer, text: str):
    (analysis,) = analyzer.analyze([FeedbackText(text)])
    assert analysis.topics == ()
