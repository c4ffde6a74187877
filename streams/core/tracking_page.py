"""The customer tracking page: a lookup answer as one self-contained HTML page.

Pure: the answer (``ShipmentAnswer`` or its JSON form), the locale's page words and the
customer's clock in, a string out. Read by name and defensively, so an answer with more fields
(or fewer) than this build knows still renders. Every value is cleaned of control characters
(``customer_text``) and HTML-escaped; the page has no script and loads nothing (inline CSS only),
so its Content-Security-Policy can forbid everything else.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from parcelwatch.schemas.codec import to_jsonable
from parcelwatch.schemas.lookup import ShipmentAnswer
from parcelwatch.schemas.timestamps import parse_rfc3339
from parcelwatch.schemas.types import ShipmentStatus
from parcelwatch.streams.core.carrier_display import carrier_display_name
from parcelwatch.streams.core.journey_steps import StepState, journey_steps
from parcelwatch.streams.core.locale_format import LocaleFormat
from parcelwatch.streams.core.notification_text import closest_locale, customer_text

# The page's headings and sentences, in the ``page.labels`` of each answers/<locale>.json.
LABEL_NAMES = frozenset(
    {
        "title",
        "expected_delivery",
        "promised_by",
        "delivered_on",
        "progress",
        "history",
        "no_history",
        "next_step",
        "details",
        "carrier",
        "tracking_number",
        "order",
        "service",
        "items",
        "returns",
        "return_tracking_number",
        "refund",
        "updated",
        "unauthorized",
        "not_found",
        "malformed",
        "unavailable",
    }
)
NOTICES = ("unauthorized", "not_found", "malformed", "unavailable")  # the error pages' words
STATUS_NAMES = frozenset(status.value for status in ShipmentStatus)
_LATE = frozenset({"running_late"})
_PROBLEM = frozenset({"attempt_failed", "exception", "lost", "cancelled", "returning"})
_SETTLED = frozenset({"delivered", "returned", "cancelled"})
_DASH, _TIMES = "\u2013", "\u00d7"  # en dash for ranges, multiplication sign for quantities


@dataclass(frozen=True, slots=True)
class PageLabels:
    """One locale's words for the page."""

    locale: str  # lower case, a CLDR locale: dates are written in it
    labels: Mapping[str, str]  # LABEL_NAMES
    steps: Mapping[str, str]  # journey_steps.STEP_NAMES: progress steps and the status badge
    statuses: Mapping[str, str]  # ShipmentStatus value -> the timeline's words
    reasons: Mapping[str, str]  # ExceptionReason value -> words (the answers file's reasons)


@dataclass(frozen=True, slots=True)
class PageLabelSet:
    by_locale: Mapping[str, PageLabels]
    fallback: str = "en"

    def for_locale(self, locale: str | None) -> PageLabels:
        return closest_locale(self.by_locale, locale, self.fallback)


def render_tracking_page(
    answer: ShipmentAnswer | Mapping[str, Any], labels: PageLabels, zone: tzinfo | None = None
) -> str:
    """The page for one answer. Times are shown on ``zone`` (the customer's clock, as in the
    answer's text); without one, each in the offset it carries."""
    data: Mapping[str, Any] = answer if isinstance(answer, Mapping) else to_jsonable(answer)
    page = _Page(data, labels, zone)
    situation = str(data.get("situation") or "")
    body = "".join(
        (
            _header(page, situation),
            _dates(page, situation),
            _progress(page, situation),
            _section("next-step", labels.labels["next_step"], _p(data.get("next_step"))),
            _history(page),
            _returns(page),
            _details(page),
            _footer(page),
        )
    )
    title = f"{labels.labels['title']} {data.get('tracking_number') or ''}"
    return _document(labels.locale, title, body)


def render_notice_page(labels: PageLabels, notice: str) -> str:
    """A refusal or error as a page (``NOTICES``): a fixed sentence, no detail."""
    text = labels.labels[notice]
    body = f'<header><p class="eyebrow">{_e(labels.labels["title"])}</p>'
    body += f'<h1 id="status">{_e(text)}</h1></header>'
    return _document(labels.locale, labels.labels["title"], body)


@dataclass(frozen=True, slots=True)
class _Page:
    data: Mapping[str, Any]
    labels: PageLabels
    zone: tzinfo | None

    @property
    def order(self) -> Mapping[str, Any]:
        order = self.data.get("order")
        return order if isinstance(order, Mapping) else {}

    @property
    def written(self) -> LocaleFormat:
        return LocaleFormat.of(_text(self.order.get("customer_locale")), self.labels.locale)

    def moment(self, value: Any) -> datetime | None:
        if not isinstance(value, str):
            return None
        try:
            moment = parse_rfc3339(value)
            return moment.astimezone(self.zone) if self.zone else moment
        except (ValueError, OverflowError):
            return None

    def date(self, value: Any) -> str | None:
        moment = self.moment(value)
        return self.written.date(moment) if moment else None

    def date_time(self, value: Any) -> str | None:
        moment = self.moment(value)
        return f"{self.written.date(moment)}, {self.written.time(moment)}" if moment else None

    def window(self, earliest: Any, latest: Any) -> str | None:
        start, end = self.moment(earliest), self.moment(latest)
        if start is None or end is None:
            return None
        if start.date() == end.date():
            times = f"{self.written.time(start)}{_DASH}{self.written.time(end)}"
            return f"{self.written.date(start)}, {times}"
        return f"{self.written.date(start)} {_DASH} {self.written.date(end)}"


def _header(page: _Page, situation: str) -> str:
    labels = page.labels
    tone = (
        "late"
        if situation in _LATE
        else "problem"
        if situation in _PROBLEM
        else "done"
        if situation in _SETTLED
        else "ok"
    )
    badge = labels.steps.get(situation)
    return (
        f'<header><p class="eyebrow">{_e(labels.labels["title"])}</p>'
        + (f'<p class="badge {tone}" id="situation">{_e(badge)}</p>' if badge else "")
        + f'<h1 id="status">{_e(page.data.get("answer") or "")}</h1></header>'
    )


def _dates(page: _Page, situation: str) -> str:
    """Delivered: when. Otherwise the expected window (the model's, else the carrier's, while
    still ahead) and the promise."""
    labels, data = page.labels.labels, page.data
    cards = []
    if situation == "delivered":
        delivered = page.date_time(data.get("delivered_at"))
        cards.append(("delivered", labels["delivered_on"], delivered))
    elif situation not in _SETTLED:
        cards.append(("expected", labels["expected_delivery"], _expected(page)))
        cards.append(("promise", labels["promised_by"], page.date(page.order.get("promised_by"))))
    shown = "".join(
        f'<div class="card" id="{name}"><h2>{_e(heading)}</h2><p>{_e(value)}</p></div>'
        for name, heading, value in cards
        if value
    )
    return f'<section class="dates">{shown}</section>' if shown else ""


def _expected(page: _Page) -> str | None:
    now = page.moment(page.data.get("answered_at"))
    prediction = page.data.get("prediction")
    if isinstance(prediction, Mapping):
        latest = page.moment(prediction.get("latest"))
        if latest is not None and (now is None or latest >= now):
            earliest = prediction.get("earliest")
            if now is not None and (start := page.moment(earliest)) and start < now:
                earliest = page.data.get("answered_at")
            return page.window(earliest, prediction.get("latest"))
    estimate = page.moment(page.data.get("carrier_estimate"))
    if estimate is not None and (now is None or estimate >= now):
        return page.written.date(estimate)
    return None


def _progress(page: _Page, situation: str) -> str:
    statuses = [entry.get("status") for entry in _entries(page.data.get("timeline"))]
    statuses.append(page.data.get("status"))
    steps = journey_steps(situation, [status for status in statuses if isinstance(status, str)])
    items = "".join(
        f'<li class="{step.state}"'
        + (' aria-current="step"' if step.state in (StepState.CURRENT, StepState.PROBLEM) else "")
        + f">{_e(page.labels.steps.get(step.name, step.name))}</li>"
        for step in steps
    )
    return f'<ol class="progress" aria-label="{_e(page.labels.labels["progress"])}">{items}</ol>'


def _history(page: _Page) -> str:
    """The carrier's scans, newest first, on the customer's clock, with the place."""
    labels = page.labels
    rows = []
    for entry in reversed(_entries(page.data.get("timeline"))):
        status = _text(entry.get("status")) or ""
        what = labels.statuses.get(status, status.replace("_", " "))
        reason = labels.reasons.get(_text(entry.get("reason")) or "")  # words for mid-sentence
        reason = reason[:1].upper() + reason[1:] if reason else None
        when = page.date_time(entry.get("occurred_at")) or ""
        rows.append(
            f'<li class="scan"><time datetime="{_e(entry.get("occurred_at") or "")}">'
            f'{_e(when)}</time><span class="what">{_e(what)}</span>'
            + (f'<span class="reason">{_e(reason)}</span>' if reason else "")
            + f'<span class="where">{_e(_place(entry.get("location")))}</span></li>'
        )
    empty = _p(labels.labels["no_history"])
    inner = f'<ol class="timeline">{"".join(rows)}</ol>' if rows else empty
    return _section("history", labels.labels["history"], inner)


def _returns(page: _Page) -> str:
    """The order's return, when the answer carries one (``ReturnAnswer`` of
    ``shipment-answer.v1``): its sentence in the customer's language, the return parcel and the
    refund."""
    returns = page.data.get("returns")
    if not isinstance(returns, Mapping) or not returns:
        return ""
    labels = page.labels.labels
    amount = _amount(page, returns.get("refund_amount"), returns.get("refund_currency"))
    rows = [
        (labels["return_tracking_number"], _text(returns.get("return_tracking_number"))),
        (labels["refund"], amount),
    ]
    sentence = _text(returns.get("answer"))
    inner = _p(sentence) if sentence else ""
    return _section("returns", labels["returns"], inner + _definitions(rows))


def _details(page: _Page) -> str:
    labels, data, order = page.labels.labels, page.data, page.order
    carrier = _text(data.get("carrier"))
    items = [
        f"{item.get('quantity', 1)} {_TIMES} {item.get('sku', '')}"
        for item in _entries(order.get("items"))
        if item.get("sku")
    ]
    rows = [
        (labels["carrier"], carrier_display_name(carrier) if carrier else None),
        (labels["tracking_number"], _text(data.get("tracking_number"))),
        (labels["order"], _text(order.get("order_id"))),
        (labels["service"], _service_words(_text(order.get("service_level")))),
        (labels["items"], ", ".join(items) or None),
    ]
    return _section("details", labels["details"], _definitions(rows))


def _service_words(service_level: str | None) -> str | None:
    """A service level id as words: ``standard_class`` → "Standard class"."""
    if service_level is None:
        return None
    words = " ".join(service_level.replace("_", " ").replace("-", " ").split())
    return words[:1].upper() + words[1:] or None


def _footer(page: _Page) -> str:
    updated = page.date_time(page.data.get("answered_at"))
    return f"<footer>{_e(page.labels.labels['updated'])}: {_e(updated)}</footer>" if updated else ""


def _amount(page: _Page, amount: Any, currency: Any) -> str | None:
    if not isinstance(amount, str | int) or not isinstance(currency, str):
        return None
    try:
        return page.written.amount(amount, currency)
    except (ValueError, ArithmeticError):  # not a number or not a currency: not shown
        return None


def _place(location: Any) -> str:
    if not isinstance(location, Mapping):
        return ""
    parts = (_text(location.get(name)) for name in ("city", "region", "country"))
    return ", ".join(part for part in parts if part)


def _entries(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return []
    return [entry for entry in value if isinstance(entry, Mapping)]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _definitions(rows: list[tuple[str, str | None]]) -> str:
    shown = "".join(f"<dt>{_e(name)}</dt><dd>{_e(value)}</dd>" for name, value in rows if value)
    return f"<dl>{shown}</dl>" if shown else ""


def _section(name: str, heading: str, inner: str) -> str:
    return f'<section id="{name}"><h2>{_e(heading)}</h2>{inner}</section>' if inner else ""


def _p(value: Any) -> str:
    return f"<p>{_e(value)}</p>" if isinstance(value, str) and value else ""


def _e(value: Any) -> str:
    """Customer-safe and HTML-escaped (quotes too: values also go into attributes)."""
    return html.escape(customer_text(str(value)), quote=True)


def _document(locale: str, title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="{_e(locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex"><meta name="referrer" content="no-referrer">'
        f"<title>{_e(title.strip())}</title><style>{_CSS}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


_CSS = (
    "*{box-sizing:border-box}"
    "body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "color:#1d2329;background:#f3f5f7}"
    "main{max-width:42rem;margin:0 auto;padding:1rem}"
    "header,section,footer{background:#fff;border-radius:.75rem;padding:1rem 1.25rem;"
    "margin:0 0 .75rem;box-shadow:0 1px 2px rgba(0,0,0,.08)}"
    "h1{font-size:1.35rem;line-height:1.35;margin:.25rem 0 0}"
    "h2{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:#5b6670;"
    "margin:0 0 .4rem}"
    ".eyebrow{margin:0;color:#5b6670;font-size:.9rem}"
    ".badge{display:inline-block;margin:.5rem 0 0;padding:.15rem .6rem;border-radius:1rem;"
    "font-weight:600;font-size:.85rem;background:#e3f1e8;color:#1b6b3a}"
    ".badge.late{background:#fff1d6;color:#8a5300}.badge.problem{background:#fde3e1;color:#a3261b}"
    ".badge.done{background:#e2ecf8;color:#1f4f8a}"
    ".dates{display:flex;flex-wrap:wrap;gap:1rem}.card{flex:1 1 12rem}.card p{margin:0;"
    "font-size:1.1rem;font-weight:600}"
    ".progress{display:flex;list-style:none;padding:1rem .5rem;margin:0 0 .75rem;background:#fff;"
    "border-radius:.75rem;box-shadow:0 1px 2px rgba(0,0,0,.08)}"
    ".progress li{flex:1;text-align:center;font-size:.8rem;color:#8a949c;position:relative;"
    "padding-top:1.4rem}"
    ".progress li:before{content:'';position:absolute;top:.3rem;left:50%;width:.8rem;"
    "height:.8rem;margin-left:-.4rem;border-radius:50%;background:#cfd6dc;z-index:1}"
    ".progress li:after{content:'';position:absolute;top:.6rem;left:-50%;width:100%;height:.2rem;"
    "background:#cfd6dc}.progress li:first-child:after{display:none}"
    ".progress .done,.progress .current{color:#1d2329}"
    ".progress .done:before,.progress .done:after,.progress .current:before,"
    ".progress .current:after,.progress .problem:after{background:#1b6b3a}"
    ".progress .current{font-weight:700}.progress .problem{color:#a3261b;font-weight:700}"
    ".progress .problem:before{background:#a3261b}"
    ".timeline{list-style:none;margin:0;padding:0}"
    ".scan{display:grid;grid-template-columns:1fr;padding:.5rem 0 .5rem 1rem;"
    "border-left:.2rem solid #cfd6dc}.scan:first-child{border-color:#1b6b3a}"
    ".scan time{font-size:.85rem;color:#5b6670}.scan .what{font-weight:600}"
    ".scan .reason,.scan .where{font-size:.9rem;color:#3d474f}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}"
    "dt{color:#5b6670}dd{margin:0;word-break:break-all}"
    "footer{font-size:.85rem;color:#5b6670;background:none;box-shadow:none}"
    "@media (min-width:36rem){.scan{grid-template-columns:11rem 1fr}"
    ".scan time{grid-row:span 3}h1{font-size:1.6rem}}"
)
