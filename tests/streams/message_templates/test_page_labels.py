"""Loading the tracking page's words (the ``page`` section of the answer files): every built-in
locale is complete, and a missing or unknown key is named when the page is turned on."""

from __future__ import annotations

import pytest

from parcelwatch.schemas.types import ShipmentStatus
from parcelwatch.streams.core.journey_steps import STEP_NAMES
from parcelwatch.streams.core.tracking_page import LABEL_NAMES
from parcelwatch.streams.message_templates import TemplateError
from parcelwatch.streams.message_templates.page_labels import load_page_labels
from tests.streams.message_templates.answer_copies import english_answers_with


def test_every_built_in_locale_has_every_page_word():
    words = load_page_labels()
    assert {"en", "de", "fr"} <= words.by_locale.keys()
    for labels in words.by_locale.values():
        assert labels.labels.keys() == LABEL_NAMES
        assert labels.steps.keys() == STEP_NAMES
        assert labels.statuses.keys() == {status.value for status in ShipmentStatus}
    assert words.for_locale("de-AT").labels["history"] == "Sendungsverlauf"
    assert words.for_locale("pt-BR").locale == "en"


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda data: data.pop("page"), "'page' must be an object"),
        (lambda data: data["page"].pop("statuses"), "'page.statuses' must map names to strings"),
        (lambda data: data["page"]["labels"].pop("history"), "page.labels missing ['history']"),
        (lambda data: data["page"]["steps"].update(teleported="x"), "unknown ['teleported']"),
        (lambda data: data["page"]["statuses"].update(delivered=" "), "empty ['delivered']"),
    ],
)
def test_a_broken_page_section_is_refused_with_the_problem_named(tmp_path, change, complaint):
    folder = english_answers_with(tmp_path, change)
    with pytest.raises(TemplateError, match=complaint.replace("[", r"\[").replace("]", r"\]")):
        load_page_labels(folder)
