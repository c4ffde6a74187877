"""Turning a milestone into the customer's notification, in the customer's language and clock.

The words live in template files (``streams/message_templates/<locale>.json``, loaded by
``streams.message_templates``); this module only fills them in. ``string.Template`` is used, not
``str.format``: a template file is configuration, and ``$name`` cannot reach attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from string import Template

from schemas.ids import deterministic_id
from schemas.state import ShipmentState
from schemas.types import (
    AlertKind,
    EstimateSource,
    ExceptionReason,
    Location,
    Notification,
    NotificationKind,
    ShipmentStatus,
)
from streams.core.notifications import Milestone

K = NotificationKind
NO_DATE = ".no_date"  # the variant of a template used when no expected date is known
PLACEHOLDERS = frozenset(
    {
        "order_id",
        "tracking_number",
        "carrier",
        "expected_date",
        "delivered_date",
        "reason",
        "next_step",
        "pickup_place",
    }
)
# No date to give: the parcel has arrived, or the message is about something else.
_UNDATED = frozenset({K.DELIVERED, K.REVIEW_REQUEST, K.AVAILABLE_FOR_PICKUP})
_WITH_REASON = frozenset({K.ATTEMPT_FAILED, K.EXCEPTION})


@dataclass(frozen=True, slots=True)
class LocaleTemplates:
    locale: str
    date: Template  # $weekday $day $month
    weekdays: tuple[str, ...]  # Monday first
    months: tuple[str, ...]
    pickup_point: str  # said when the carrier gave no pickup location
    messages: dict[str, Template]  # notification kind (or kind + NO_DATE) -> template
    reasons: dict[str, str]  # ExceptionReason value, or "returned" -> plain words
    next_steps: dict[str, str]  # reason or notification kind -> what the customer can do

    def format_date(self, moment: datetime) -> str:
        return self.date.substitute(
            weekday=self.weekdays[moment.weekday()],
            day=str(moment.day),
            month=self.months[moment.month - 1],
        )


@dataclass(frozen=True, slots=True)
class Templates:
    by_locale: dict[str, LocaleTemplates]
    fallback: str = "en"

    def for_locale(self, locale: str | None) -> LocaleTemplates:
        """The closest templates: ``de-AT`` -> ``de-at``, else ``de``, else the fallback."""
        if locale:
            wanted = locale.replace("_", "-").lower()
            for candidate in (wanted, wanted.split("-", 1)[0]):
                if candidate in self.by_locale:
                    return self.by_locale[candidate]
        return self.by_locale[self.fallback]


def notification_id(tracking_number: str, milestone_key: str) -> str:
    return deterministic_id("notification", tracking_number, milestone_key)


def render_notification(
    milestone: Milestone,
    state: ShipmentState,
    now: datetime,
    templates: Templates,
    zone: tzinfo,
) -> Notification:
    customer = state.customer
    assert customer is not None and state.order_id is not None and state.carrier is not None
    texts = templates.for_locale(customer.locale)
    expected, source = _expected_delivery(milestone.kind, state, now)
    reason, next_step = _reason_and_next_step(milestone, state, texts)
    pickup = _pickup_location(state) if milestone.kind is K.AVAILABLE_FOR_PICKUP else None
    values = {
        "order_id": state.order_id,
        "tracking_number": state.tracking_number,
        "carrier": state.carrier.upper(),
        "expected_date": texts.format_date(expected.astimezone(zone)) if expected else "",
        "delivered_date": (
            texts.format_date(state.delivered_at.astimezone(zone)) if state.delivered_at else ""
        ),
        "reason": texts.reasons.get(reason or "other", texts.reasons["other"]),
        "next_step": next_step or "",
        "pickup_place": _place_words(pickup) or texts.pickup_point,
    }
    template = texts.messages[milestone.kind.value]
    if expected is None and milestone.kind.value + NO_DATE in texts.messages:
        template = texts.messages[milestone.kind.value + NO_DATE]
    return Notification(
        notification_id=notification_id(state.tracking_number, milestone.key),
        tracking_number=state.tracking_number,
        order_id=state.order_id,
        customer=customer,
        kind=milestone.kind,
        carrier=state.carrier,
        status=state.status or ShipmentStatus.INFO_RECEIVED,
        locale=texts.locale,
        message=" ".join(template.substitute(values).split()),  # an empty $next_step leaves gaps
        created_at=now,
        occurred_at=milestone.occurred_at,
        expected_delivery=expected,
        expected_delivery_source=source,
        promised_by=state.promised_by,
        pickup_location=pickup,
        reason=state.status_reason if milestone.kind in _WITH_REASON else None,
        next_step=next_step,
        alert_id=milestone.alert_id,
    )


def _expected_delivery(
    kind: NotificationKind, state: ShipmentState, now: datetime
) -> tuple[datetime | None, EstimateSource | None]:
    """The best estimate still ahead of ``now``: a date already past is not worth telling."""
    if kind in _UNDATED:
        return None, None
    model = state.predicted_delivery.expected if state.predicted_delivery else None
    carrier = state.estimated_delivery
    if kind is K.DELAYED:
        # The promise is what is being missed: only a fresh estimate is worth telling.
        order = ((model, EstimateSource.MODEL), (carrier, EstimateSource.CARRIER))
    else:
        promise = (state.promised_by, EstimateSource.PROMISE)
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
    reason = state.status_reason.value if state.status_reason else ExceptionReason.OTHER.value
    step = texts.next_steps.get(reason) or texts.next_steps.get(milestone.kind.value)
    return reason, step


def _pickup_location(state: ShipmentState) -> Location | None:
    for record in reversed(state.recent_scans):
        if record.status is ShipmentStatus.AVAILABLE_FOR_PICKUP and record.location is not None:
            return record.location
    return None


def _place_words(location: Location | None) -> str | None:
    if location is None:
        return None
    parts = [part for part in (location.postal_code, location.city) if part]
    return " ".join(parts) or None
