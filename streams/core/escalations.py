"""When a shipment or a return needs a person: support cases, decided from the state at a moment.

Pure: the clock, the policy and the answer templates are passed in. Each case has a deterministic
``case_id`` (reason, subject, episode) and the state records the ids opened, so a case is opened
once however often its evidence is redelivered, replayed or looked at again:

* ``parcel_lost`` (one per shipment: the three signals are one problem): tracking expired (an
  ``expired`` alert stands), the carrier reported it lost (its current status), or a ``stalled``
  alert stands while the promise is more than ``lost_after_promise`` past;
* ``unrequested_return`` (one per shipment): an outbound parcel going back to the sender;
* ``delivery_disputed`` (one per delivery): flagged feedback says "never arrived" about a parcel the
  carrier reported delivered;
* ``refund_overdue`` (one per return): the return arrived and no refund followed within
  ``refund_escalation_business_days`` (the second limit, after the ``refund_overdue`` alert's).

Conditions are read from the state rather than from what just changed, so a case whose batch
crashed before its state was stored is found again, with the same id, by the redelivery.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from parcelwatch.schemas.escalations import (
    CaseContext,
    CaseCustomer,
    EscalationReason,
    Priority,
    RefundStatus,
    Resolution,
    ReturnSummary,
    SupportEscalation,
)
from parcelwatch.schemas.feedback import FlaggedFeedback, FlagReason
from parcelwatch.schemas.ids import deterministic_id
from parcelwatch.schemas.lookup import ShipmentAnswer
from parcelwatch.schemas.state import MAX_ESCALATED, ShipmentState
from parcelwatch.schemas.timestamps import format_rfc3339
from parcelwatch.schemas.types import (
    SETTLED_STATUSES,
    Customer,
    ExceptionReason,
    ShipmentStatus,
)
from parcelwatch.streams.core.alert_rules import reason_words
from parcelwatch.streams.core.answers import AnswerTemplates, build_answer
from parcelwatch.streams.core.carrier_display import carrier_display_name
from parcelwatch.streams.core.returns import ReturnState, add_business_days
from parcelwatch.streams.core.silence import expiry_stands, stall_stands

DEFAULT_LOST_AFTER_PROMISE = timedelta(hours=72)
DEFAULT_URGENT_AFTER_PROMISE = timedelta(days=7)
DEFAULT_REFUND_ESCALATION_BUSINESS_DAYS = 10
_R = EscalationReason
_RETURNING = frozenset({ShipmentStatus.RETURNING_TO_SENDER, ShipmentStatus.RETURNED_TO_SENDER})


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    # A stalled parcel this long past its promise is presumed lost.
    lost_after_promise: timedelta = DEFAULT_LOST_AFTER_PROMISE
    # A lost parcel's case is urgent once the customer has waited this long past the promise.
    urgent_after_promise: timedelta = DEFAULT_URGENT_AFTER_PROMISE
    # Business days from a return's arrival to a refund case; twice as many make it urgent.
    refund_escalation_business_days: int = DEFAULT_REFUND_ESCALATION_BUSINESS_DAYS


class LostSignal(StrEnum):
    """What says a parcel is lost, strongest first (the case names the first that holds)."""

    CARRIER_LOST = "carrier_lost"
    EXPIRED = "expired"
    STALLED_PAST_PROMISE = "stalled_past_promise"


# ---------------------------------------------------------------------------------------------
# Shipments


def shipment_cases(
    state: ShipmentState, now: datetime, policy: EscalationPolicy, templates: AnswerTemplates
) -> tuple[ShipmentState, tuple[SupportEscalation, ...]]:
    """The cases ``state`` calls for at ``now`` and not opened before, and the state recording
    them."""
    signal, returning = _due(state, now, policy)
    cases = []
    if signal is not None:
        cases.append(_lost_case(state, signal, now, policy))
    if returning:
        cases.append(_return_to_sender_case(state, now))
    return _opened(state, now, templates, cases)


def shipment_cases_due(state: ShipmentState, now: datetime, policy: EscalationPolicy) -> bool:
    """Whether :func:`shipment_cases` would open a case (without building it)."""
    signal, returning = _due(state, now, policy)
    return signal is not None or returning


def _due(
    state: ShipmentState, now: datetime, policy: EscalationPolicy
) -> tuple[LostSignal | None, bool]:
    """The lost signal and whether an unrequested return is due, leaving out opened cases."""
    signal = lost_signal(state, now, policy)
    if signal is not None and _opened_before(_R.PARCEL_LOST, state):
        signal = None
    returning = state.tracking.status in _RETURNING and is_outbound(state)
    return signal, returning and not _opened_before(_R.UNREQUESTED_RETURN, state)


def lost_signal(state: ShipmentState, now: datetime, policy: EscalationPolicy) -> LostSignal | None:
    tracking = state.tracking
    if tracking.status in SETTLED_STATUSES:
        return None
    carrier_lost = tracking.status_reason is ExceptionReason.LOST
    if tracking.status is ShipmentStatus.EXCEPTION and carrier_lost:
        return LostSignal.CARRIER_LOST
    if expiry_stands(state):
        return LostSignal.EXPIRED
    due = _stalled_lost_at(state, policy)
    return LostSignal.STALLED_PAST_PROMISE if due is not None and now >= due else None


def next_escalation_at(state: ShipmentState, policy: EscalationPolicy) -> datetime | None:
    """When a timer should look again for a case that only time can open: a stalled parcel
    becoming lost. None when no such case is pending."""
    if _opened_before(_R.PARCEL_LOST, state):
        return None
    return _stalled_lost_at(state, policy)


def is_outbound(state: ShipmentState) -> bool:
    """Whether the parcel travels to the customer. A customer's own return travels as its own
    parcel, marked ``direction: return``: its going back to the sender is what was asked for."""
    return not state.is_return


def _stalled_lost_at(state: ShipmentState, policy: EscalationPolicy) -> datetime | None:
    promised_by = state.order.promised_by
    if promised_by is None or state.tracking.status in SETTLED_STATUSES:
        return None
    if not stall_stands(state):
        return None
    return promised_by + policy.lost_after_promise


def _lost_case(
    state: ShipmentState, signal: LostSignal, now: datetime, policy: EscalationPolicy
) -> SupportEscalation:
    tracking, promised_by = state.tracking, state.order.promised_by
    parcel = f"Parcel {state.tracking_number} ({_carrier(state.carrier)})"
    if signal is LostSignal.CARRIER_LOST:
        facts = f"{parcel} was reported lost by the carrier on {_when(tracking.status_at)}."
    else:
        last = tracking.last_scan_at
        seen = (
            f"has had no scan since {_when(last)} ({_days(now - last)})"
            if last is not None
            else "was never scanned by the carrier"
        )
        facts = f"{parcel} {seen}; presumed lost."
    late = now - promised_by if promised_by is not None else None
    if promised_by is None:
        promise = " No promised date is known."
    elif late is not None and late > timedelta(0):
        promise = f" Promised by {_when(promised_by)}: {_days(late)} late."
    else:
        promise = f" Promised by {_when(promised_by)}."
    urgent = late is not None and late >= policy.urgent_after_promise
    return _case(
        state,
        _R.PARCEL_LOST,
        now,
        reason_text=facts + promise,
        resolution=(Resolution.RESHIP, Resolution.REFUND, Resolution.CARRIER_CLAIM),
        resolution_text=(
            "Reship the order, or refund it if the customer prefers; open a loss claim with the "
            "carrier for the missing parcel."
        ),
        priority=Priority.URGENT if urgent else Priority.HIGH,
    )


def _return_to_sender_case(state: ShipmentState, now: datetime) -> SupportEscalation:
    tracking = state.tracking
    moving_back = tracking.status is ShipmentStatus.RETURNING_TO_SENDER
    where = "is on its way back" if moving_back else "has gone back"
    why = (
        f" The carrier's reason: {reason_words(tracking.status_reason)}."
        if tracking.status_reason
        else ""
    )
    text = (
        f"Parcel {state.tracking_number} ({_carrier(state.carrier)}) {where} to the sender since "
        f"{_when(tracking.status_at)}; the customer did not ask for a return.{why}"
    )
    promised_by = state.order.promised_by
    if state.order.order_id is None:
        priority = Priority.LOW  # no order known: nobody to contact, a stock question
    elif promised_by is not None and now > promised_by:
        priority = Priority.HIGH  # the customer is already waiting past the promise
    else:
        priority = Priority.NORMAL
    resolutions = (
        (Resolution.CONTACT_CUSTOMER, Resolution.CONTACT_CARRIER, Resolution.RESHIP)
        if moving_back
        else (Resolution.CONTACT_CUSTOMER, Resolution.RESHIP)
    )
    redirect = (
        ", or ask the carrier to redirect the parcel while it is on its way back"
        if moving_back
        else ""
    )
    return _case(
        state,
        _R.UNREQUESTED_RETURN,
        now,
        reason_text=text,
        resolution=resolutions,
        resolution_text=(
            f"Confirm the delivery address with the customer, then reship once the parcel is back"
            f"{redirect}."
        ),
        priority=priority,
    )


# ---------------------------------------------------------------------------------------------
# Feedback


def feedback_case(
    flagged: FlaggedFeedback, state: ShipmentState, now: datetime, templates: AnswerTemplates
) -> tuple[ShipmentState, SupportEscalation | None]:
    """A disputed delivery (flagged ``disputed_delivery``): one case per delivery, however many
    pieces of feedback dispute it."""
    if flagged.flag.reason is not FlagReason.DISPUTED_DELIVERY:
        return state, None
    delivered_at = state.tracking.delivered_at or state.tracking.status_at
    episode = format_rfc3339(delivered_at) if delivered_at else ""
    if _case_id(_R.DELIVERY_DISPUTED, state, episode) in state.outputs.escalated:
        return state, None
    text = (
        f"The customer says order {state.order.order_id or flagged.order_id} did not arrive, but "
        f"{_carrier(state.carrier)} reported parcel {state.tracking_number} delivered on "
        f"{_when(delivered_at)}. Feedback received {_when(flagged.received_at)} "
        f"({flagged.channel.value})."
    )
    case = _case(
        state,
        _R.DELIVERY_DISPUTED,
        now,
        reason_text=text,
        resolution=(Resolution.CARRIER_CLAIM, Resolution.CONTACT_CUSTOMER),
        resolution_text=(
            "Ask the carrier for proof of delivery (signature, photo, GPS) and open a claim if it "
            "has none; meanwhile ask the customer to check with neighbours and safe places."
        ),
        priority=Priority.HIGH,
        episode=episode,
        feedback_id=flagged.feedback_id,
    )
    state, cases = _opened(state, now, templates, [case])
    return state, cases[0]


# ---------------------------------------------------------------------------------------------
# Returns


def refund_escalation_at(state: ReturnState, policy: EscalationPolicy) -> datetime | None:
    """When a refund still owed becomes a case: the second limit, in business days from the
    return's arrival. None when nothing is owed or the case is open already."""
    if state.received_at is None or not state.refund_outstanding:
        return None
    if _refund_case_id(state) in state.escalated:
        return None
    return add_business_days(state.received_at, policy.refund_escalation_business_days)


def return_cases(
    state: ReturnState,
    now: datetime,
    policy: EscalationPolicy,
    shipment: ShipmentAnswer | None = None,
    customer: Customer | None = None,
) -> tuple[ReturnState, tuple[SupportEscalation, ...]]:
    """A refund overdue beyond the second limit, once per return. ``shipment`` (the lookup
    answer about the order's shipment) and ``customer`` (from the order) go into the case when
    the caller knows them."""
    due = refund_escalation_at(state, policy)
    if due is None or now < due:
        return state, ()
    assert state.received_at is not None  # refund_escalation_at needs it
    limit = policy.refund_escalation_business_days
    failed = _refund_status(state) is RefundStatus.FAILED
    text = (
        f"The return of order {state.order_id} arrived on {_when(state.received_at)} and no "
        f"refund followed within {limit} business days."
    )
    if failed:
        text += f" The last refund failed on {_when(state.refund_failed_at)}."
    far_past = now >= add_business_days(state.received_at, 2 * limit)
    locale = customer.locale if customer else shipment.order.customer_locale if shipment else None
    case = SupportEscalation(
        case_id=_refund_case_id(state),
        reason=_R.REFUND_OVERDUE,
        reason_text=text,
        suggested_resolution=Resolution.REFUND,
        other_resolutions=(),
        resolution_text=(
            "Issue the refund now, or tell the customer why it is held and when it will be paid."
        ),
        priority=Priority.URGENT if failed or far_past else Priority.HIGH,
        opened_at=now,
        order_id=state.order_id,
        tracking_number=shipment.tracking_number if shipment else None,
        carrier=shipment.carrier if shipment else None,
        customer=CaseCustomer(customer.id if customer else None, locale)
        if customer or locale
        else None,
        feedback_id=None,
        context=CaseContext(shipment=shipment, returns=_return_summary(state)),
    )
    return replace(state, escalated=(*state.escalated, case.case_id)), (case,)


def _refund_case_id(state: ReturnState) -> str:
    received = format_rfc3339(state.received_at) if state.received_at else ""
    return deterministic_id("case", _R.REFUND_OVERDUE.value, "order", state.order_id, received)


def _refund_status(state: ReturnState) -> RefundStatus:
    if not state.refund_outstanding:
        return RefundStatus.ISSUED
    return RefundStatus.OWED if state.refund_issued_at is None else RefundStatus.FAILED


def _return_summary(state: ReturnState) -> ReturnSummary:
    return ReturnSummary(
        order_id=state.order_id,
        reason=state.reason,
        items=state.items,
        requested_at=state.requested_at,
        return_tracking_number=state.return_tracking_number,
        return_carrier=state.return_carrier,
        received_at=state.received_at,
        refund_status=_refund_status(state),
        refund_requested_at=state.refund_requested_at,
        refund_approved_at=state.refund_approved_at,
        refund_issued_at=state.refund_issued_at,
        refund_method=state.refund_method,
        refund_failed_at=state.refund_failed_at,
    )


# ---------------------------------------------------------------------------------------------
# Shared


def _case_id(reason: EscalationReason, state: ShipmentState, episode: str = "") -> str:
    return deterministic_id("case", reason.value, state.tracking_number, episode)


def _opened_before(reason: EscalationReason, state: ShipmentState) -> bool:
    # Most shipments never had a case: their id (a SHA-1) is not worth deriving on every input.
    escalated = state.outputs.escalated
    return bool(escalated) and _case_id(reason, state) in escalated


def _case(
    state: ShipmentState,
    reason: EscalationReason,
    now: datetime,
    *,
    reason_text: str,
    resolution: tuple[Resolution, ...],
    resolution_text: str,
    priority: Priority,
    episode: str = "",
    feedback_id: str | None = None,
) -> SupportEscalation:
    """A shipment's case; its context is attached by :func:`_opened`."""
    customer = state.order.customer
    return SupportEscalation(
        case_id=_case_id(reason, state, episode),
        reason=reason,
        reason_text=reason_text,
        suggested_resolution=resolution[0],
        other_resolutions=resolution[1:],
        resolution_text=resolution_text,
        priority=priority,
        opened_at=now,
        order_id=state.order.order_id,
        tracking_number=state.tracking_number,
        carrier=state.carrier,
        customer=CaseCustomer(customer.id, customer.locale) if customer else None,
        feedback_id=feedback_id,
        context=CaseContext(shipment=None, returns=None),
    )


def _opened(
    state: ShipmentState,
    now: datetime,
    templates: AnswerTemplates,
    cases: list[SupportEscalation],
) -> tuple[ShipmentState, tuple[SupportEscalation, ...]]:
    """``state`` recording ``cases``, and the cases with the lookup API's answer attached."""
    if not cases:
        return state, ()
    escalated = (*state.outputs.escalated, *(case.case_id for case in cases))[-MAX_ESCALATED:]
    state = replace(state, outputs=replace(state.outputs, escalated=escalated))
    context = CaseContext(shipment=build_answer(state, now, templates), returns=None)
    return state, tuple(replace(case, context=context) for case in cases)


def _carrier(carrier: str | None) -> str:
    return carrier_display_name(carrier) if carrier else "the carrier"


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "an unknown date"


def _days(delta: timedelta) -> str:
    """A duration in whole days (hours below one day)."""
    hours = round(delta.total_seconds() / 3600)
    if hours < 24:
        return f"{hours} h"
    days = round(hours / 24)
    return f"{days} day" if days == 1 else f"{days} days"
