"""Language detection: supported languages, others reported honestly, hints, empty text."""

from __future__ import annotations

import pytest

from parcelwatch.models.feedback.language import detect_language, hint_language

SUPPORTED = [
    ("en", "The parcel never arrived and nobody answers my emails."),
    ("pt", "O pacote nunca chegou e ninguém responde aos meus e-mails."),
    ("es", "El paquete nunca llegó y nadie responde a mis correos."),
    ("de", "Das Paket ist nie angekommen und niemand beantwortet meine E-Mails."),
    ("fr", "Le colis n'est jamais arrivé et personne ne répond à mes e-mails."),
]
SHORT = [("en", "Not bad"), ("pt", "nao recebi"), ("es", "No está mal"), ("de", "Nicht schlecht"),
         ("fr", "Pas terrible"), ("pt", "Recomendo"), ("es", "Nunca llegó")]  # fmt: skip


@pytest.mark.parametrize(("language", "text"), SUPPORTED + SHORT)
def test_supported_languages_are_detected(language: str, text: str):
    assert detect_language(text) == language


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("it", "Il pacco non è mai arrivato e il servizio clienti non risponde alle mie email."),
        (
            "nl",
            "Mijn pakket is nooit aangekomen en de klantenservice reageert niet op mijn berichten.",
        ),
    ],
)
def test_a_long_text_in_another_language_is_reported_as_that_language(language: str, text: str):
    assert detect_language(text) == language


@pytest.mark.parametrize("text", [None, "", "   ", "!!!", "12345", "😡😡"])
def test_no_words_is_undetermined_unless_hinted(text: str | None):
    assert detect_language(text) == "und"
    assert detect_language(text, "pt-BR") == "pt"


def test_the_hint_decides_when_detection_is_unsure():
    assert detect_language("ok", "fr") == "fr"
    assert detect_language("Top", "de-AT") == "de"
    assert detect_language("Grazie mille", "it") == "it"  # a hint outside the five counts too


def test_a_wrong_hint_loses_to_a_clear_text():
    assert (
        detect_language("Das Paket ist immer noch nicht angekommen, wirklich ärgerlich!", "en")
        == "de"
    )


@pytest.mark.parametrize(("hint", "language"), [("pt-BR", "pt"), ("EN", "en"), ("de_CH", "de"),
                                                ("", None), (None, None), ("x", None)])  # fmt: skip
def test_hints_are_read_as_bcp47_primary_subtags(hint: str | None, language: str | None):
    assert hint_language(hint) == language
