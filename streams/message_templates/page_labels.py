"""The tracking page's words: the ``page`` section of each answers/<locale>.json (beside the
answer templates, or in ``answers/`` of ``PARCELWATCH_TEMPLATE_DIR``). Loaded, and checked
completely, when the page is on: a missing or unknown key stops the worker at start-up, named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from parcelwatch.streams.core.journey_steps import STEP_NAMES
from parcelwatch.streams.core.tracking_page import (
    LABEL_NAMES,
    STATUS_NAMES,
    PageLabels,
    PageLabelSet,
)
from parcelwatch.streams.message_templates import (
    FALLBACK_LOCALE,
    TemplateError,
    load_locale_folder,
    mapping_of,
    read_locale_file,
)
from parcelwatch.streams.message_templates.answer_files import BUILT_IN_ANSWERS

# page.<section> -> the keys it must have, exactly
SECTIONS = {"labels": LABEL_NAMES, "steps": STEP_NAMES, "statuses": STATUS_NAMES}


def load_page_labels(directory: Path | None = None) -> PageLabelSet:
    folder = directory or BUILT_IN_ANSWERS
    return PageLabelSet(load_locale_folder(folder, _load_locale), FALLBACK_LOCALE)


def _load_locale(path: Path) -> PageLabels:
    data, locale = read_locale_file(path)
    page = data.get("page")
    if not isinstance(page, dict):
        raise TemplateError(
            f"{path}: 'page' must be an object with {sorted(SECTIONS)} (the tracking page's words)"
        )
    sections = {name: _section(page, name, path) for name in SECTIONS}
    reasons = mapping_of(data, "reasons", path)  # complete: the answer templates checked them
    return PageLabels(
        locale=locale,
        labels=sections["labels"],
        steps=sections["steps"],
        statuses=sections["statuses"],
        reasons=reasons,
    )


def _section(page: dict[str, Any], name: str, path: Path) -> dict[str, str]:
    where = f"page.{name}"
    words = mapping_of({where: page.get(name)}, where, path)
    wanted = SECTIONS[name]
    missing, unknown = wanted - words.keys(), words.keys() - wanted
    empty = sorted(key for key, text in words.items() if not text.strip())
    if missing or unknown or empty:
        raise TemplateError(
            f"{path}: {where} missing {sorted(missing)}, unknown {sorted(unknown)}, empty {empty}"
        )
    return words
