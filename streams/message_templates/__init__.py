"""Notification templates: one JSON file per locale in this folder (or in
``PARCELWATCH_TEMPLATE_DIR``, for operators who write their own). Loading checks every file
completely, so a missing message or a misspelt placeholder stops the worker at start-up instead of
failing a customer's notification later."""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Any

import orjson
from parcelwatch.schemas.types import ExceptionReason, NotificationKind
from parcelwatch.streams.core.notification_text import (
    NO_DATE,
    PLACEHOLDERS,
    LocaleTemplates,
    Templates,
)

BUILT_IN = Path(__file__).parent
FALLBACK_LOCALE = "en"


class TemplateError(ValueError):
    """A template file that parcelwatch cannot use; the message names the file and the problem."""


def load_templates(directory: Path | None = None) -> Templates:
    folder = directory or BUILT_IN
    by_locale = {}
    for path in sorted(folder.glob("*.json")):
        texts = _load_locale(path)
        by_locale[texts.locale] = texts
    if FALLBACK_LOCALE not in by_locale:
        raise TemplateError(f"{folder}: no {FALLBACK_LOCALE}.json, the fallback locale")
    return Templates(by_locale, FALLBACK_LOCALE)


def _load_locale(path: Path) -> LocaleTemplates:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as error:
        raise TemplateError(f"{path}: {error}") from None
    locale = _text(data, "locale", path).lower()
    if path.stem.lower() != locale:
        raise TemplateError(f"{path}: says locale {locale!r}; name the file {locale}.json")
    messages = {
        name: _template(text, f"{path}: messages.{name}", PLACEHOLDERS)
        for name, text in _mapping(data, "messages", path).items()
    }
    wanted = {kind.value for kind in NotificationKind}
    missing = wanted - messages.keys()
    unknown = {name.removesuffix(NO_DATE) for name in messages} - wanted
    if missing or unknown:
        raise TemplateError(
            f"{path}: messages missing {sorted(missing)}, unknown {sorted(unknown)}"
        )
    reasons = _mapping(data, "reasons", path)
    missing_reasons = ({reason.value for reason in ExceptionReason} | {"returned"}) - reasons.keys()
    if missing_reasons:
        raise TemplateError(f"{path}: reasons missing {sorted(missing_reasons)}")
    weekdays = tuple(_list(data, "weekdays", path, 7))
    months = tuple(_list(data, "months", path, 12))
    return LocaleTemplates(
        locale=locale,
        date=_template(_text(data, "date", path), f"{path}: date", {"weekday", "day", "month"}),
        weekdays=weekdays,
        months=months,
        pickup_point=_text(data, "pickup_point", path),
        messages=messages,
        reasons=reasons,
        next_steps=_mapping(data, "next_steps", path),
    )


def _template(text: str, where: str, allowed: frozenset[str] | set[str]) -> Template:
    template = Template(text)
    if not template.is_valid():
        raise TemplateError(f"{where}: invalid placeholder syntax in {text!r}")
    unknown = set(template.get_identifiers()) - allowed
    if unknown:
        raise TemplateError(
            f"{where}: unknown placeholders {sorted(unknown)}; use {sorted(allowed)}"
        )
    return template


def _text(data: Any, name: str, path: Path) -> str:
    value = data.get(name) if isinstance(data, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise TemplateError(f"{path}: {name!r} must be a non-empty string")
    return value


def _mapping(data: Any, name: str, path: Path) -> dict[str, str]:
    value = data.get(name)
    if not isinstance(value, dict) or not all(
        isinstance(key, str) and isinstance(text, str) for key, text in value.items()
    ):
        raise TemplateError(f"{path}: {name!r} must map names to strings")
    return value


def _list(data: Any, name: str, path: Path, length: int) -> list[str]:
    value = data.get(name)
    if (
        not isinstance(value, list)
        or len(value) != length
        or not all(isinstance(item, str) for item in value)
    ):
        raise TemplateError(f"{path}: {name!r} must be a list of {length} strings")
    return value
