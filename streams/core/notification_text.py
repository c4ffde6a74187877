"""Turning a milestone into the customer's notification, in the customer's language and clock.

The words live in template files (``streams/message_templates/<locale>.json``, loaded by
``streams/message_templates``); this module only fills them in, with dates, times and counts
written by CLDR (``locale_format``) in the wording's language and the customer's region.
``string.Template`` is used, not ``str.format``: a template file is configuration, and ``$name``
cannot reach attributes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from string import Template
from typing import TypeVar

from parcelwatch.schemas.ids import deterministic_id
from parcelwatch.schemas.state import ShipmentState
from parcelwatch.schemas.types import (
    AlertKind,
    EstimateSource,
    ExceptionReason,
    Location,
    Notification,
    NotificationKind,
    ShipmentStatus,
)
from parcelwatch.streams.core.carrier_display import carrier_display_name
from parcelwatch.streams.core.locale_format import LocaleFormat
from parcelwatch.streams.core.notifications import Milestone

K = NotificationKind
Wording = TypeVar("Wording")
NO_DATE = ".no_date"  # the variant of a template used when no expected date is known
DAYS_LATE = ".days_late"  # the variant used when the expected day is after the promised one
VARIANTS = (NO_DATE, DAYS_LATE)
PLACEHOLDERS = frozenset(
    {
        "order_id",
        "tracking_number",
        "carrier",
        "expected_date",
        "delivered_date",
        "delivered_time",
        "days_late",
        "reason",
        "next_step",
        "pickup_place",
    }
)
# Return and refund notifications speak of the order's return, not of a shipment's delivery.
RETURN_PLACEHOLDERS = frozenset(
    {"order_id", "carrier", "return_tracking_number", "amount", "refund_method"}
)
# No date to give: the parcel has arrived, or the message is about something else.
_UNDATED = frozenset({K.DELIVERED, K.REVIEW_REQUEST, K.AVAILABLE_FOR_PICKUP})
_WITH_REASON = frozenset({K.ATTEMPT_FAILED, K.EXCEPTION})


# ---------------------------------------------------------------------------------------------
# Customer-safe text. Order ids, places and the like come from producers; a customer's mail
# client, SMS gateway or terminal must never receive control characters from them: ANSI escapes
# (colours, cursor moves, hyperlinks), bidirectional overrides that make "A-1001" display as
# something else (the "Trojan Source" trick), or NULs that cut a message short downstream.

_ANSI_ESCAPE = re.compile(
    r"""
      \x1b\[ [0-?]* [ -/]* [@-~]          # CSI: colours, cursor and screen control
    | \x1b\] [^\x07\x1b]* (?:\x07|\x1b\\)  # OSC: window titles, hyperlinks (BEL or ST ends it)
    | \x1b [PX^_] [^\x1b]* \x1b\\          # DCS, SOS, PM, APC strings, ended by ST
    | \x1b [ -/]* [0-~]                  # any other escape sequence
    | \x9b [0-?]* [ -/]* [@-~]           # CSI in its 8-bit form
    """,
    re.VERBOSE,
)
_BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_WHITESPACE_CONTROLS = "\t\n\v\f\r\x1c\x1d\x1e\x1f\x85"  # become a space: words stay apart
_CONTROL_CHARACTERS = [chr(code) for code in (*range(0x20), *range(0x7F, 0xA0))]  # category Cc
_UNSAFE = str.maketrans(
    {
        **dict.fromkeys(_CONTROL_CHARACTERS + list(_BIDI_CONTROLS)),
        **dict.fromkeys(_WHITESPACE_CONTROLS, " "),
    }
)


def customer_text(text: str) -> str:
    """``text`` without ANSI escape sequences, control characters (Unicode category Cc) and
    bidirectional controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C). Whitespace
    controls become spaces; everything else printable is kept as it was."""
    return _ANSI_ESCAPE.sub("", text).translate(_UNSAFE)


@dataclass(frozen=True, slots=True)
class LocaleTemplates:
    locale: str  # the wording's locale, lower case: "en", "de", "de-at"
    pickup_point: str  # said when the carrier gave no pickup location
    messages: dict[str, Template]  # notification kind (or kind + a VARIANTS suffix) -> template
    reasons: dict[str, str]  # ExceptionReason value, or "returned" -> plain words
    next_steps: dict[str, str]  # reason or notification kind -> what the customer can do
    refund_methods: dict[str, str] = field(default_factory=dict)  # RefundMethod value -> words


@dataclass(frozen=True, slots=True)
class Templates:
    by_locale: dict[str, LocaleTemplates]
    fallback: str = "en"

    def for_locale(self, locale: str | None) -> LocaleTemplates:
        return closest_locale(self.by_locale, locale, self.fallback)


def closest_locale(by_locale: Mapping[str, Wording], locale: str | None, fallback: str) -> Wording:
    """The closest wording: ``de-AT`` -> ``de-at``, else ``de``, else the fallback. Shared by the
    notification, answer and tracking-page texts."""
    if locale:
        wanted = locale.replace("_", "-").lower()
        for candidate in (wanted, wanted.split("-", 1)[0]):
            if candidate in by_locale:
                return by_locale[candidate]
    return by_locale[fallback]


def notification_id(tracking_number: str, milestone_key: str) -> str:
    return deterministic_id("notification", tracking_number, milestone_key)


def render_notification(
    milestone: Milestone,
    state: ShipmentState,
    now: datetime,
    templates: Templates,
    zone: tzinfo,
) -> Notification:
    customer = state.order.customer
    assert customer is not None and state.order.order_id is not None and state.carrier is not None
    texts = templates.for_locale(customer.locale)
    written = LocaleFormat.of(customer.locale, texts.locale)
    expected, source = _expected_delivery(milestone.kind, state, now)
    expected_local = _local(expected, zone) if expected else None
    delivered_local = (
        _local(state.tracking.delivered_at, zone) if state.tracking.delivered_at else None
    )
    days_late = _days_late(expected_local, state.order.promised_by, zone)
    reason, next_step = _reason_and_next_step(milestone, state, texts)
    pickup = _pickup_location(state) if milestone.kind is K.AVAILABLE_FOR_PICKUP else None
    next_step = customer_text(next_step) if next_step else next_step
    pickup = _clean_location(pickup)
    values = {
        "order_id": state.order.order_id,
        "tracking_number": state.tracking_number,
        "carrier": carrier_display_name(state.carrier),
        "expected_date": written.date(expected_local) if expected_local else "",
        "delivered_date": written.date(delivered_local) if delivered_local else "",
        "delivered_time": written.time(delivered_local) if delivered_local else "",
        "days_late": written.days(days_late) if days_late else "",
        "reason": texts.reasons.get(reason or "other", texts.reasons["other"]),
        "next_step": next_step or "",
        "pickup_place": _place_words(pickup) or texts.pickup_point,
    }
    template = _template_for(milestone.kind, texts, dated=expected is not None, late=days_late > 0)
    # Every value is cleaned on its own, so that the pieces of an escape sequence split across
    # values cannot meet in the message; the whole is cleaned again for the template's own words.
    message = template.substitute({name: customer_text(value) for name, value in values.items()})
    return Notification(
        notification_id=notification_id(state.tracking_number, milestone.key),
        tracking_number=state.tracking_number,
        order_id=state.order.order_id,
        customer=customer,
        kind=milestone.kind,
        carrier=state.carrier,
        status=state.tracking.status or ShipmentStatus.INFO_RECEIVED,
        locale=texts.locale,
        message=single_spaced(customer_text(message)),  # an empty $next_step leaves gaps
        created_at=now,
        occurred_at=milestone.occurred_at,
        expected_delivery=expected,
        expected_delivery_source=source,
        promised_by=state.order.promised_by,
        pickup_location=pickup,
        reason=state.tracking.status_reason if milestone.kind in _WITH_REASON else None,
        next_step=next_step,
        alert_id=milestone.alert_id,
    )


def _expected_delivery(
    kind: NotificationKind, state: ShipmentState, now: datetime
) -> tuple[datetime | None, EstimateSource | None]:
    """The best estimate still ahead of ``now``: a date already past is not worth telling."""
    if kind in _UNDATED:
        return None, None
    model = state.risk.predicted_delivery.expected if state.risk.predicted_delivery else None
    carrier = state.tracking.estimated_delivery
    if kind is K.DELAYED:
        # The promise is what is being missed: only a fresh estimate is worth telling.
        order = ((model, EstimateSource.MODEL), (carrier, EstimateSource.CARRIER))
    else:
        promise = (state.order.promised_by, EstimateSource.PROMISE)
        order = ((carrier, EstimateSource.CARRIER), (model, EstimateSource.MODEL), promise)
    for moment, source in order:
        if moment is not None and moment >= now:
            return moment, source
    return None, None


def _reason_and_next_step(
    milestone: Milestone, state: ShipmentState, texts: LocaleTemplates
) -> tuple[str | None, str | None]:
    if milestone.kind is K.AVAILABLE_FOR_PICKUP:
        return None, texts.next_steps.get(K.AVAILABLE_FOR_PICKUP.value)
    if milestone.kind not in _WITH_REASON:
        return None, None
    if milestone.alert_kind is AlertKind.RETURNED:
        return "returned", texts.next_steps.get("returned")
    status_reason = state.tracking.status_reason
    reason = status_reason.value if status_reason else ExceptionReason.OTHER.value
    step = texts.next_steps.get(reason) or texts.next_steps.get(milestone.kind.value)
    return reason, step


def _pickup_location(state: ShipmentState) -> Location | None:
    for record in reversed(state.tracking.recent_scans):
        if record.status is ShipmentStatus.AVAILABLE_FOR_PICKUP and record.location is not None:
            return record.location
    return None


def _template_for(
    kind: NotificationKind, texts: LocaleTemplates, *, dated: bool, late: bool
) -> Template:
    variant = DAYS_LATE if late else "" if dated else NO_DATE
    return texts.messages.get(kind.value + variant) or texts.messages[kind.value]


def _local(moment: datetime, zone: tzinfo) -> datetime:
    """``moment`` on the customer's clock. The decoder's bounds keep every time far inside what
    a datetime can represent; should one still not fit in the customer's zone (year 9999 plus an
    offset), it is given in its own offset rather than failing the notification."""
    try:
        return moment.astimezone(zone)
    except OverflowError:
        return moment


def _days_late(expected: datetime | None, promised: datetime | None, zone: tzinfo) -> int:
    """Calendar days, on the customer's clock, from the promised day to the expected one (0 when
    either is unknown or the expected day is not after the promised one)."""
    if expected is None or promised is None:
        return 0
    return max(0, (expected.date() - _local(promised, zone).date()).days)


# One space between words; a single no-break space (CLDR writes "2:05\u202fPM", "2\u00a0jours")
# stays, so that a number and its unit are never split across lines.
_KEPT_SPACES = frozenset({" ", "\u00a0", "\u202f"})
_WHITESPACE = re.compile(r"\s+")


def single_spaced(text: str) -> str:
    return _WHITESPACE.sub(lambda run: run[0] if run[0] in _KEPT_SPACES else " ", text).strip()


def _clean_location(location: Location | None) -> Location | None:
    """A place a customer reads (the pickup point), as customer-safe text."""
    if location is None:
        return None
    return replace(
        location,
        city=_clean_or_none(location.city),
        region=_clean_or_none(location.region),
        postal_code=_clean_or_none(location.postal_code),
        country=_clean_or_none(location.country),
    )


def _clean_or_none(text: str | None) -> str | None:
    cleaned = " ".join(customer_text(text).split()) if text else ""
    return cleaned or None


def _place_words(location: Location | None) -> str | None:
    if location is None:
        return None
    parts = [part for part in (location.postal_code, location.city) if part]
    return " ".join(parts) or None
