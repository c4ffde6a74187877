"""Notification templates: one JSON file per locale in this folder (or in
``PARCELWATCH_TEMPLATE_DIR``, for operators who write their own). Loading checks every file
completely, so a missing message or a misspelt placeholder stops the worker at start-up instead of
failing a customer's notification later."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from string import Template
from typing import Any, Protocol, TypeVar

import orjson

from parcelwatch.schemas.returns import RefundMethod
from parcelwatch.schemas.types import (
    RETURN_NOTIFICATION_KINDS,
    ExceptionReason,
    NotificationKind,
)
from parcelwatch.streams.core.locale_format import UnknownLocale, cldr_locale
from parcelwatch.streams.core.notification_text import (
    DAYS_LATE,
    PLACEHOLDERS,
    RETURN_PLACEHOLDERS,
    VARIANTS,
    LocaleTemplates,
    Templates,
)

BUILT_IN = Path(__file__).parent
FALLBACK_LOCALE = "en"
# Keys of older files: CLDR writes dates now, and a key that changes nothing would mislead.
OBSOLETE = {"date": "dates", "weekdays": "weekday names", "months": "month names"}


class TemplateError(ValueError):
    """A template file that parcelwatch cannot use; the message names the file and the problem."""


class _HasLocale(Protocol):
    locale: str


Texts = TypeVar("Texts", bound=_HasLocale)


def load_locale_folder(folder: Path, load_one: Callable[[Path], Texts]) -> dict[str, Texts]:
    """Every ``<locale>.json`` of ``folder`` loaded by ``load_one``, by locale; the fallback
    locale's file must be among them. Shared by the notification and the answer templates."""
    by_locale = {}
    for path in sorted(folder.glob("*.json")):
        texts = load_one(path)
        by_locale[texts.locale] = texts
    if FALLBACK_LOCALE not in by_locale:
        raise TemplateError(f"{folder}: no {FALLBACK_LOCALE}.json, the fallback locale")
    return by_locale


def read_locale_file(path: Path) -> tuple[dict[str, Any], str]:
    """A template file's JSON object and its locale (lower case), once the locale names the file
    and CLDR knows it."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as error:
        raise TemplateError(f"{path}: {error}") from None
    if not isinstance(data, dict):
        raise TemplateError(f"{path}: must be a JSON object")
    locale = _text(data, "locale", path).lower()
    if path.stem.lower() != locale:
        raise TemplateError(
            f"{path}: says locale {locale!r}; name the file {locale}.json "
            "('locale' must name the file's locale)"
        )
    try:
        cldr_locale(locale)
    except UnknownLocale as error:
        raise TemplateError(f"{path}: {error}; dates and numbers could not be written") from None
    return data, locale


def variant_base(name: str) -> str:
    """A template's name without its variant suffix (``delivered.pickup_point`` → ``delivered``)."""
    for variant in VARIANTS:
        if name.endswith(variant):
            return name.removesuffix(variant)
    return name


def load_templates(directory: Path | None = None) -> Templates:
    return Templates(load_locale_folder(directory or BUILT_IN, _load_locale), FALLBACK_LOCALE)


def _load_locale(path: Path) -> LocaleTemplates:
    data, locale = read_locale_file(path)
    obsolete = sorted(OBSOLETE.keys() & data.keys())
    if obsolete:
        written = ", ".join(OBSOLETE[key] for key in obsolete)
        raise TemplateError(f"{path}: remove {obsolete}: {written} now come from CLDR (Babel)")
    messages = {
        name: template_of(text, f"{path}: messages.{name}", _placeholders_of(name))
        for name, text in mapping_of(data, "messages", path).items()
    }
    wanted = {kind.value for kind in NotificationKind}
    missing = wanted - messages.keys()
    unknown = {variant_base(name) for name in messages} - wanted
    if missing or unknown:
        raise TemplateError(
            f"{path}: messages missing {sorted(missing)}, unknown {sorted(unknown)}"
        )
    reasons = mapping_of(data, "reasons", path)
    missing_reasons = ({reason.value for reason in ExceptionReason} | {"returned"}) - reasons.keys()
    if missing_reasons:
        raise TemplateError(f"{path}: reasons missing {sorted(missing_reasons)}")
    refund_methods = refund_methods_of(data, path)
    return LocaleTemplates(
        locale=locale,
        pickup_point=_text(data, "pickup_point", path),
        messages=messages,
        reasons=reasons,
        next_steps=mapping_of(data, "next_steps", path),
        refund_methods=refund_methods,
    )


def refund_methods_of(data: Any, path: Path) -> dict[str, str]:
    """The words for every refund method (notification and answer files alike)."""
    refund_methods = mapping_of(data, "refund_methods", path)
    missing_methods = {method.value for method in RefundMethod} - refund_methods.keys()
    if missing_methods:
        raise TemplateError(f"{path}: refund_methods missing {sorted(missing_methods)}")
    return refund_methods


def _placeholders_of(name: str) -> frozenset[str]:
    """``$days_late`` has a value only in a ``.days_late`` variant; anywhere else it would leave
    a hole in the sentence. Return and refund messages have their own placeholders."""
    if variant_base(name) in RETURN_NOTIFICATION_KINDS:
        return RETURN_PLACEHOLDERS
    return PLACEHOLDERS if name.endswith(DAYS_LATE) else PLACEHOLDERS - {"days_late"}


def template_of(text: str, where: str, allowed: frozenset[str] | set[str]) -> Template:
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


def mapping_of(data: Any, name: str, path: Path) -> dict[str, str]:
    value = data.get(name)
    if not isinstance(value, dict) or not all(
        isinstance(key, str) and isinstance(text, str) for key, text in value.items()
    ):
        raise TemplateError(f"{path}: {name!r} must map names to strings")
    return value
