"""Answer templates of the lookup API: one JSON file per locale in ``answers/`` beside this file
(or in ``answers/`` of ``PARCELWATCH_TEMPLATE_DIR``, for operators who write their own). Like the
notification templates, every file is checked completely when it loads."""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Any

import orjson

from parcelwatch.schemas.lookup import Situation
from parcelwatch.schemas.types import ExceptionReason
from parcelwatch.streams.core.answers import (
    DAYS_LATE,
    FRAGMENTS,
    PLACEHOLDERS,
    RETURNED,
    VARIANTS,
    AnswerTemplates,
    AnswerTexts,
)
from parcelwatch.streams.core.locale_format import UnknownLocale, cldr_locale
from parcelwatch.streams.message_templates import FALLBACK_LOCALE, TemplateError

BUILT_IN_ANSWERS = Path(__file__).parent / "answers"


def answers_folder(template_dir: Path | None) -> Path:
    """The operator's ``answers/`` where their template folder has one, else the built-in."""
    if template_dir is not None and (template_dir / "answers").is_dir():
        return template_dir / "answers"
    return BUILT_IN_ANSWERS


def load_answer_templates(directory: Path | None = None) -> AnswerTemplates:
    folder = directory or BUILT_IN_ANSWERS
    by_locale = {}
    for path in sorted(folder.glob("*.json")):
        texts = _load_locale(path)
        by_locale[texts.locale] = texts
    if FALLBACK_LOCALE not in by_locale:
        raise TemplateError(f"{folder}: no {FALLBACK_LOCALE}.json, the fallback locale")
    return AnswerTemplates(by_locale, FALLBACK_LOCALE)


def _load_locale(path: Path) -> AnswerTexts:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as error:
        raise TemplateError(f"{path}: {error}") from None
    if not isinstance(data, dict):
        raise TemplateError(f"{path}: must be a JSON object")
    locale = data.get("locale")
    if not isinstance(locale, str) or path.stem.lower() != locale.lower():
        raise TemplateError(f"{path}: 'locale' must name the file's locale ({path.stem!r})")
    locale = locale.lower()
    try:
        cldr_locale(locale)
    except UnknownLocale as error:
        raise TemplateError(f"{path}: {error}; dates and numbers could not be written") from None
    answers = {
        name: _template(text, f"{path}: answers.{name}", _placeholders_of(name))
        for name, text in _mapping(data, "answers", path).items()
    }
    wanted = {situation.value for situation in Situation}
    missing = wanted - answers.keys()
    unknown = {_situation_of(name) for name in answers} - wanted
    if missing or unknown:
        raise TemplateError(f"{path}: answers missing {sorted(missing)}, unknown {sorted(unknown)}")
    fragments_given = _mapping(data, "fragments", path)
    if fragments_given.keys() != FRAGMENTS.keys():
        raise TemplateError(
            f"{path}: fragments must be exactly {sorted(FRAGMENTS)}, got {sorted(fragments_given)}"
        )
    fragments = {
        name: _template(text, f"{path}: fragments.{name}", FRAGMENTS[name])
        for name, text in fragments_given.items()
    }
    reasons = _mapping(data, "reasons", path)
    missing_reasons = ({reason.value for reason in ExceptionReason} | {RETURNED}) - reasons.keys()
    if missing_reasons:
        raise TemplateError(f"{path}: reasons missing {sorted(missing_reasons)}")
    return AnswerTexts(
        locale=locale,
        answers=answers,
        fragments=fragments,
        reasons=reasons,
        next_steps=_mapping(data, "next_steps", path),
    )


def _situation_of(name: str) -> str:
    for variant in VARIANTS:
        if name.endswith(variant):
            return name.removesuffix(variant)
    return name


def _placeholders_of(name: str) -> frozenset[str]:
    """``$days_late`` has a value only in a ``.days_late`` variant."""
    return PLACEHOLDERS if name.endswith(DAYS_LATE) else PLACEHOLDERS - {"days_late"}


def _template(text: str, where: str, allowed: frozenset[str]) -> Template:
    if not isinstance(text, str) or not text.strip():
        raise TemplateError(f"{where}: must be a non-empty string")
    template = Template(text)
    if not template.is_valid():
        raise TemplateError(f"{where}: invalid placeholder syntax in {text!r}")
    unknown = set(template.get_identifiers()) - allowed
    if unknown:
        raise TemplateError(
            f"{where}: unknown placeholders {sorted(unknown)}; use {sorted(allowed)}"
        )
    return template


def _mapping(data: dict[str, Any], name: str, path: Path) -> dict[str, str]:
    value = data.get(name)
    if not isinstance(value, dict) or not all(
        isinstance(key, str) and isinstance(text, str) for key, text in value.items()
    ):
        raise TemplateError(f"{path}: {name!r} must map names to strings")
    return value
