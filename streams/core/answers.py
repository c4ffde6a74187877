"""Answering "where is my order?": a shipment's state, at a moment, as the lookup API's answer.

The document (``schemas/lookup.py``) carries what the state records; its ``answer`` is a
ready-to-send reply in the customer's language, written from the answer template files
(``streams/message_templates/answers/<locale>.json``, loaded by
``streams/message_templates/answer_files.py``) with the same locale fallback and the same
customer-safe cleaning as the notifications.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from string import Template
from typing import Any

from parcelwatch.schemas.lookup import (
    AnswerOrder,
    Prediction,
    RaisedAlert,
    SentNotification,
    ShipmentAnswer,
    Situation,
    TimelineEntry,
)
from parcelwatch.schemas.state import ScanRecord, ShipmentState
from parcelwatch.schemas.types import (
    AlertKind,
    ExceptionReason,
    Location,
    NotificationKind,
    ShipmentStatus,
)
from parcelwatch.streams.core.alert_rules import alert_id
from parcelwatch.streams.core.carrier_display import carrier_display_name
from parcelwatch.streams.core.local_time import customer_zone
from parcelwatch.streams.core.locale_format import LocaleFormat
from parcelwatch.streams.core.notification_text import (  # the same template variants
    DAYS_LATE,
    NO_DATE,
    closest_locale,
    customer_text,
    single_spaced,
)

S = ShipmentStatus
PLACEHOLDERS = frozenset(
    {
        "order_id",
        "tracking_number",
        "carrier",
        "at_place",
        "window",
        "days_late",
        "delivered_date",
        "delivered_time",
        "last_date",
        "reason",
        "next_step",
        "pickup_place",
    }
)
# Pieces of sentences, each with its own placeholders.
FRAGMENTS = {
    "at_place": frozenset({"place"}),  # " in Memphis"
    "window.same_day": frozenset({"date", "from_time", "to_time"}),
    "window.days": frozenset({"from_date", "to_date"}),
    "window.on": frozenset({"date"}),  # a single estimated day (the carrier's)
    "window.by": frozenset({"date"}),  # the promise
    "unknown_carrier": frozenset(),
    "pickup_point": frozenset(),
}
RETURNED = "returned"  # the reason and next-step key of a parcel sent back
# The variant of a situation's template for a return parcel (on its way back to the merchant):
# "delivered" is then the merchant's receipt, not the customer's. Optional: a situation without
# one is told with its usual words ("a problem with your parcel" fits either direction).
RETURN_PARCEL = ".return"

_MOVING = frozenset({S.PICKED_UP, S.IN_TRANSIT, S.UNKNOWN})
_BY_STATUS = {
    S.DELIVERED: Situation.DELIVERED,
    S.RETURNED_TO_SENDER: Situation.RETURNED,
    S.CANCELLED: Situation.CANCELLED,
    S.RETURNING_TO_SENDER: Situation.RETURNING,
    S.OUT_FOR_DELIVERY: Situation.OUT_FOR_DELIVERY,
    S.AVAILABLE_FOR_PICKUP: Situation.AVAILABLE_FOR_PICKUP,
    S.ATTEMPT_FAILED: Situation.ATTEMPT_FAILED,
    S.EXCEPTION: Situation.EXCEPTION,
}
_SETTLED = frozenset({Situation.DELIVERED, Situation.RETURNED, Situation.CANCELLED})
_DATED = frozenset(
    {Situation.NOT_SHIPPED, Situation.IN_TRANSIT, Situation.RUNNING_LATE, Situation.EXCEPTION}
)


@dataclass(frozen=True, slots=True)
class AnswerTexts:
    """One locale's answer wording."""

    locale: str  # lower case: "en", "de", "de-at"
    answers: dict[str, Template]  # situation (or situation + a VARIANTS suffix) -> template
    fragments: dict[str, Template]  # FRAGMENTS
    reasons: dict[str, str]  # ExceptionReason value, or "returned" -> plain words
    next_steps: dict[str, str]  # reason or situation -> what the customer can do
    returns: dict[str, Template]  # ReturnStatus (or "received.overdue") -> a sentence
    refund_methods: dict[str, str]  # RefundMethod value -> "to your original payment method"


@dataclass(frozen=True, slots=True)
class AnswerTemplates:
    by_locale: dict[str, AnswerTexts]
    fallback: str = "en"

    def for_locale(self, locale: str | None) -> AnswerTexts:
        return closest_locale(self.by_locale, locale, self.fallback)


def situation_of(state: ShipmentState, now: datetime) -> Situation:
    """Where the shipment stands. A settled status wins; then a parcel the carrier lost, or
    whose tracking went dead (an open ``expired`` alert), is lost."""
    tracking = state.tracking
    by_status = _BY_STATUS.get(tracking.status) if tracking.status else None
    if by_status in _SETTLED:
        return by_status
    lost_scan = tracking.status is S.EXCEPTION and tracking.status_reason is ExceptionReason.LOST
    if lost_scan or state.open_episode(AlertKind.EXPIRED) is not None:
        return Situation.LOST
    if by_status is not None:
        return by_status
    if tracking.status in _MOVING:
        return Situation.RUNNING_LATE if _late(state, now) else Situation.IN_TRANSIT
    return Situation.NOT_SHIPPED  # no scan, or only the label's (info_received)


def build_answer(
    state: ShipmentState,
    now: datetime,
    templates: AnswerTemplates,
    zone: tzinfo | None = None,
) -> ShipmentAnswer:
    """The answer document about ``state`` at ``now``, without the order's return (the lookup
    adds it with ``with_return``: it may live on another worker). ``zone`` is the customer's
    clock for dates and times; by default the customer's zone, else the promise's offset, else
    UTC."""
    zone = zone or customer_zone(state)
    customer = state.order.customer
    locale = customer.locale if customer else None
    texts = templates.for_locale(locale)
    situation = situation_of(state, now)
    next_step = _next_step(situation, state, texts)
    risk = state.risk
    prediction = (
        Prediction(
            expected=risk.predicted_delivery.expected,
            earliest=risk.predicted_delivery.earliest,
            latest=risk.predicted_delivery.latest,
            risk=risk.score,
            model_version=risk.model_version,
        )
        if risk.predicted_delivery
        else None
    )
    delivered_scan = _latest_scan(state, S.DELIVERED)
    return ShipmentAnswer(
        tracking_number=state.tracking_number,
        carrier=state.carrier,
        situation=situation,
        status=state.tracking.status,
        status_reason=state.tracking.status_reason,
        status_at=state.tracking.status_at,
        delivered_at=state.tracking.delivered_at,
        delivered_location=delivered_scan.location if delivered_scan else None,
        carrier_estimate=state.tracking.estimated_delivery,
        order=AnswerOrder(
            order_id=order_id_of(state),
            service_level=state.order.service_level,
            ordered_at=state.order.ordered_at,
            promised_by=state.order.promised_by,
            origin=state.order.origin,
            destination=state.order.destination,
            customer_locale=locale,
            items=state.order.items,
        ),
        timeline=tuple(
            TimelineEntry(scan.status, scan.occurred_at, scan.reason, scan.location)
            for scan in state.tracking.recent_scans
        ),
        prediction=prediction,
        alerts=raised_alerts(state),
        notifications=sent_notifications(state),
        next_step=next_step,
        answer=answer_text(situation, state, now, texts, zone, next_step),
        locale=texts.locale,
        answered_at=now,
    )


def order_id_of(state: ShipmentState) -> str | None:
    """The order the parcel belongs to: its own, or for a return parcel the order it returns."""
    if state.order.order_id is None and state.return_of is not None:
        return state.return_of.order_id
    return state.order.order_id


def raised_alerts(state: ShipmentState) -> tuple[RaisedAlert, ...]:
    """Every alert of the alert log; then, undated, what a state stored before the log knows:
    open episodes (their id derives from the episode) and kinds raised before."""
    outputs = state.outputs
    open_ids = {
        alert_id(state.tracking_number, kind, episode): kind
        for kind, episode in outputs.open_episodes
    }
    logged = tuple(
        RaisedAlert(e.kind, e.alert_id in open_ids, e.raised_at, e.occurred_at, e.alert_id)
        for e in outputs.alert_log
    )
    logged_ids = {alert.alert_id for alert in logged}
    open_unlogged = tuple(
        RaisedAlert(kind, True, None, None, id_)
        for id_, kind in sorted(open_ids.items(), key=lambda item: item[1])
        if id_ not in logged_ids
    )
    known_kinds = {alert.kind for alert in (*logged, *open_unlogged)}
    older = tuple(
        RaisedAlert(kind, False, None, None, None)
        for kind in outputs.raised_kinds
        if kind not in known_kinds
    )
    return (*older, *open_unlogged, *logged)


def sent_notifications(state: ShipmentState) -> tuple[SentNotification, ...]:
    """Every notification of the log; first, undated, the milestones decided but not logged:
    sent before the log existed, or skipped as stale (the state cannot tell which)."""
    log = state.outputs.notification_log
    logged = {entry.milestone for entry in log}
    older = tuple(
        SentNotification(kind, milestone, None, None)
        for milestone in state.outputs.notified
        if milestone not in logged and (kind := _milestone_kind(milestone)) is not None
    )
    dated = tuple(SentNotification(e.kind, e.milestone, e.sent_at, e.notification_id) for e in log)
    return (*older, *dated)


def _milestone_kind(milestone: str) -> NotificationKind | None:
    """A milestone key's kind: ``delayed/<promise>`` -> delayed."""
    try:
        return NotificationKind(milestone.split("/", 1)[0])
    except ValueError:
        return None


def with_return(document: dict[str, Any], returns: dict[str, Any] | None) -> dict[str, Any]:
    """An encoded answer with the order's return (an encoded ``ReturnAnswer``, or None): the
    reply says the return's sentence after the shipment's, as a customer asking about an order
    with a return in progress wants to hear it."""
    if returns is None:
        return document
    return {**document, "returns": returns, "answer": f"{document['answer']} {returns['answer']}"}


def answer_text(
    situation: Situation,
    state: ShipmentState,
    now: datetime,
    texts: AnswerTexts,
    zone: tzinfo,
    next_step: str | None,
) -> str:
    customer = state.order.customer
    written = LocaleFormat.of(customer.locale if customer else None, texts.locale)
    window, days_late = (
        _window(state, now, texts, zone, written, situation) if situation in _DATED else (None, 0)
    )
    if situation is Situation.NOT_SHIPPED and window is None:
        days_late = _days_past_promise(state, now, zone)
    delivered = _local(state.tracking.delivered_at, zone) if state.tracking.delivered_at else None
    last_seen = state.tracking.last_scan_at or state.tracking.status_at or state.order.ordered_at
    last_local = _local(last_seen, zone) if last_seen else None
    place = _place_of(situation, state)
    values = {
        "order_id": order_id_of(state) or state.tracking_number,
        "tracking_number": state.tracking_number,
        "carrier": (
            carrier_display_name(state.carrier)
            if state.carrier
            else _fragment(texts, "unknown_carrier")
        ),
        "at_place": _fragment(texts, "at_place", place=_clean(place)) if place else "",
        "window": window or "",
        "days_late": written.days(days_late) if days_late else "",
        "delivered_date": written.date(delivered) if delivered else "",
        "delivered_time": written.time(delivered) if delivered else "",
        "last_date": written.date(last_local) if last_local else "",
        "reason": _reason(situation, state, texts),
        "next_step": next_step or "",
        "pickup_place": _clean(place) if place else _fragment(texts, "pickup_point"),
    }
    if state.is_return and situation.value + RETURN_PARCEL in texts.answers:
        variants = (RETURN_PARCEL,)  # a return's wording names no delivery window
    elif window:
        variants = (DAYS_LATE if days_late > 0 else "",)
    elif days_late > 0:  # past the promise, no new date: how late, else the undated words
        variants = (DAYS_LATE, NO_DATE)
    else:
        variants = (NO_DATE if _lacks_its_date(situation, last_local) else "",)
    template = next(
        (texts.answers[name] for v in variants if (name := situation.value + v) in texts.answers),
        texts.answers[situation.value],
    )
    text = template.substitute({name: customer_text(value) for name, value in values.items()})
    return single_spaced(customer_text(text))


def _lacks_its_date(situation: Situation, last_local: datetime | None) -> bool:
    """Whether the situation's base template would name a date that is not known (its
    ``.no_date`` variant is used then)."""
    return situation in _DATED or (situation is Situation.LOST and last_local is None)


def _days_past_promise(state: ShipmentState, now: datetime, zone: tzinfo) -> int:
    """Calendar days on the customer's clock from the promised day to today; at least one once
    the promise has passed, 0 before."""
    promised = state.order.promised_by
    if promised is None or now <= promised:
        return 0
    return max(1, (_local(now, zone).date() - _local(promised, zone).date()).days)


def _late(state: ShipmentState, now: datetime) -> bool:
    """Past its promise undelivered, or expected (by the model, else the carrier) after it."""
    promised = state.order.promised_by
    if promised is None:
        return False
    if now > promised:
        return True
    expected = _fresh_estimate(state, now)
    return expected is not None and expected > promised


def _fresh_estimate(state: ShipmentState, now: datetime) -> datetime | None:
    model = state.risk.predicted_delivery
    if model is not None and model.latest >= now:
        return model.expected
    carrier = state.tracking.estimated_delivery
    return carrier if carrier is not None and carrier >= now else None


def _window(
    state: ShipmentState,
    now: datetime,
    texts: AnswerTexts,
    zone: tzinfo,
    written: LocaleFormat,
    situation: Situation,
) -> tuple[str | None, int]:
    """When it should arrive, in words, and how many days after the promised day."""
    model = state.risk.predicted_delivery
    carrier = state.tracking.estimated_delivery
    promised = state.order.promised_by
    expected_day: datetime | None
    if model is not None and model.latest >= now:
        start = _local(max(model.earliest, now), zone)
        end = _local(model.latest, zone)
        expected_day = _local(model.expected, zone)
        if start.date() == end.date():
            text = _fragment(
                texts,
                "window.same_day",
                date=written.date(start),
                from_time=written.time(start),
                to_time=written.time(end),
            )
        else:
            text = _fragment(
                texts, "window.days", from_date=written.date(start), to_date=written.date(end)
            )
    elif carrier is not None and carrier >= now:
        expected_day = _local(carrier, zone)
        text = _fragment(texts, "window.on", date=written.date(expected_day))
    elif promised is not None and promised >= now and situation is not Situation.RUNNING_LATE:
        return _fragment(texts, "window.by", date=written.date(_local(promised, zone))), 0
    else:
        return None, 0
    days_late = 0
    if promised is not None:
        days_late = max(0, (expected_day.date() - _local(promised, zone).date()).days)
    return text, days_late


def _reason(situation: Situation, state: ShipmentState, texts: AnswerTexts) -> str:
    """The carrier's reason in the customer's words. A parcel going back says the carrier's
    reason when the return scan gives one (a refusal, an address), else why parcels go back."""
    reason = state.tracking.status_reason
    if situation in (Situation.RETURNING, Situation.RETURNED):
        return texts.reasons.get(reason.value if reason else RETURNED, texts.reasons[RETURNED])
    reason = reason or ExceptionReason.OTHER
    return texts.reasons.get(reason.value, texts.reasons[ExceptionReason.OTHER.value])


def _next_step(situation: Situation, state: ShipmentState, texts: AnswerTexts) -> str | None:
    """A reason's next step where it has one (attempt failed, exception), else the situation's."""
    step = None
    if situation in (Situation.ATTEMPT_FAILED, Situation.EXCEPTION):
        reason = state.tracking.status_reason
        step = texts.next_steps.get(reason.value) if reason else None
    step = step or texts.next_steps.get(situation.value)
    return customer_text(step) if step else None


def _place_of(situation: Situation, state: ShipmentState) -> str | None:
    """The city of the scan that says where the parcel is (or was left), if the carrier named
    one."""
    if situation is Situation.DELIVERED:
        scan = _latest_scan(state, S.DELIVERED)
    elif situation is Situation.AVAILABLE_FOR_PICKUP:
        scan = _latest_scan(state, S.AVAILABLE_FOR_PICKUP)
    else:
        scan = next((s for s in reversed(state.tracking.recent_scans) if _city(s.location)), None)
    return _city(scan.location) if scan else None


def _latest_scan(state: ShipmentState, status: ShipmentStatus) -> ScanRecord | None:
    return next((s for s in reversed(state.tracking.recent_scans) if s.status is status), None)


def _city(location: Location | None) -> str | None:
    return location.city if location is not None and location.city else None


def _fragment(texts: AnswerTexts, name: str, **values: str) -> str:
    return texts.fragments[name].substitute(values)


def _clean(text: str) -> str:
    return " ".join(customer_text(text).split())


def _local(moment: datetime, zone: tzinfo) -> datetime:
    try:
        return moment.astimezone(zone)
    except OverflowError:  # a time at the edge of what datetime holds: given in its own offset
        return moment
