"""Answer templates of the lookup API: one JSON file per locale in ``answers/`` beside this file
(or in ``answers/`` of ``PARCELWATCH_TEMPLATE_DIR``, for operators who write their own). Like the
notification templates, every file is checked completely when it loads."""

from __future__ import annotations

from pathlib import Path
from string import Template

from parcelwatch.schemas.lookup import Situation
from parcelwatch.schemas.types import ExceptionReason
from parcelwatch.streams.core.answers import (
    DAYS_LATE,
    FRAGMENTS,
    PLACEHOLDERS,
    RETURN_PARCEL,
    RETURNED,
    AnswerTemplates,
    AnswerTexts,
)
from parcelwatch.streams.core.return_answers import RETURN_PLACEHOLDERS, RETURN_TEMPLATE_NAMES
from parcelwatch.streams.message_templates import (
    FALLBACK_LOCALE,
    TemplateError,
    load_locale_folder,
    mapping_of,
    read_locale_file,
    refund_methods_of,
    template_of,
    variant_base,
)

BUILT_IN_ANSWERS = Path(__file__).parent / "answers"


def answers_folder(template_dir: Path | None) -> Path:
    """The operator's ``answers/`` where their template folder has one, else the built-in."""
    if template_dir is not None and (template_dir / "answers").is_dir():
        return template_dir / "answers"
    return BUILT_IN_ANSWERS


def load_answer_templates(directory: Path | None = None) -> AnswerTemplates:
    folder = directory or BUILT_IN_ANSWERS
    return AnswerTemplates(load_locale_folder(folder, _load_locale), FALLBACK_LOCALE)


def _load_locale(path: Path) -> AnswerTexts:
    data, locale = read_locale_file(path)
    answers = {
        name: _answer_template(text, f"{path}: answers.{name}", _placeholders_of(name))
        for name, text in mapping_of(data, "answers", path).items()
    }
    wanted = {situation.value for situation in Situation}
    missing = wanted - answers.keys()
    unknown = {variant_base(name.removesuffix(RETURN_PARCEL)) for name in answers} - wanted
    if missing or unknown:
        raise TemplateError(f"{path}: answers missing {sorted(missing)}, unknown {sorted(unknown)}")
    fragments_given = mapping_of(data, "fragments", path)
    if fragments_given.keys() != FRAGMENTS.keys():
        raise TemplateError(
            f"{path}: fragments must be exactly {sorted(FRAGMENTS)}, got {sorted(fragments_given)}"
        )
    fragments = {
        name: _answer_template(text, f"{path}: fragments.{name}", FRAGMENTS[name])
        for name, text in fragments_given.items()
    }
    reasons = mapping_of(data, "reasons", path)
    missing_reasons = ({reason.value for reason in ExceptionReason} | {RETURNED}) - reasons.keys()
    if missing_reasons:
        raise TemplateError(f"{path}: reasons missing {sorted(missing_reasons)}")
    returns_given = mapping_of(data, "returns", path)
    if returns_given.keys() != RETURN_TEMPLATE_NAMES:
        raise TemplateError(
            f"{path}: returns must be exactly {sorted(RETURN_TEMPLATE_NAMES)}, "
            f"got {sorted(returns_given)}"
        )
    return AnswerTexts(
        locale=locale,
        answers=answers,
        fragments=fragments,
        reasons=reasons,
        next_steps=mapping_of(data, "next_steps", path),
        returns={
            name: _answer_template(text, f"{path}: returns.{name}", RETURN_PLACEHOLDERS)
            for name, text in returns_given.items()
        },
        refund_methods=refund_methods_of(data, path),
    )


def _placeholders_of(name: str) -> frozenset[str]:
    """``$days_late`` has a value only in a ``.days_late`` variant."""
    return PLACEHOLDERS if name.endswith(DAYS_LATE) else PLACEHOLDERS - {"days_late"}


def _answer_template(text: str, where: str, allowed: frozenset[str]) -> Template:
    """An answer must say something: unlike a notification's variants, none may be empty."""
    if not text.strip():
        raise TemplateError(f"{where}: must be a non-empty string")
    return template_of(text, where, allowed)
