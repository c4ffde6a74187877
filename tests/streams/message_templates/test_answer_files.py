"""Loading the answer templates: every built-in file loads, and a broken file stops the load."""

from __future__ import annotations

import shutil

import pytest

from parcelwatch.schemas.lookup import ReturnStatus, Situation
from parcelwatch.streams.message_templates import TemplateError
from parcelwatch.streams.message_templates.answer_files import (
    BUILT_IN_ANSWERS,
    answers_folder,
    load_answer_templates,
)
from tests.streams.message_templates.answer_copies import english_answers_with


def test_every_built_in_locale_answers_every_situation():
    templates = load_answer_templates()
    assert {"en", "de", "fr"} <= templates.by_locale.keys()
    for texts in templates.by_locale.values():
        assert {situation.value for situation in Situation} <= texts.answers.keys()
        assert {status.value for status in ReturnStatus} <= texts.returns.keys()


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda data: data["answers"].pop("delivered"), "answers missing ['delivered']"),
        (lambda data: data["answers"].update(lost="Lost $tracking"), "unknown placeholders"),
        (lambda data: data["answers"].update(lost="Lost ${"), "invalid placeholder"),
        (lambda data: data["answers"].update(late="x"), "unknown ['late']"),
        (lambda data: data["answers"].update(in_transit="$days_late"), "unknown placeholders"),
        (lambda data: data["fragments"].pop("at_place"), "fragments must be exactly"),
        (lambda data: data["reasons"].pop("lost"), "reasons missing ['lost']"),
        (lambda data: data.update(locale="de"), "'locale' must name"),
        (lambda data: data["returns"].pop("received.overdue"), "returns must be exactly"),
        (lambda data: data["returns"].update(received="$window"), "unknown placeholders"),
        (lambda data: data["returns"].update(cancelled=" "), "must be a non-empty string"),
        (lambda data: data["refund_methods"].pop("gift_card"), "missing ['gift_card']"),
    ],
)
def test_a_broken_file_is_refused_with_the_problem_named(tmp_path, change, complaint):
    folder = english_answers_with(tmp_path, change)
    with pytest.raises(TemplateError, match=complaint.replace("[", r"\[").replace("]", r"\]")):
        load_answer_templates(folder)


def test_a_folder_without_the_fallback_is_refused(tmp_path):
    shutil.copy(BUILT_IN_ANSWERS / "de.json", tmp_path / "de.json")
    with pytest.raises(TemplateError, match=r"no en\.json"):
        load_answer_templates(tmp_path)


def test_an_operators_template_folder_is_used_only_when_it_has_answers(tmp_path):
    assert answers_folder(None) == BUILT_IN_ANSWERS
    assert answers_folder(tmp_path) == BUILT_IN_ANSWERS
    (tmp_path / "answers").mkdir()
    assert answers_folder(tmp_path) == tmp_path / "answers"
