"""An order's return and refund as the lookup API tells them: where the return stands in the
customer's terms, when the refund is due, and a ready-to-send sentence in the customer's language.

Pure: the clock, the wording (``returns`` and ``refund_methods`` of the answer template files) and
the refund delay are passed in. Dates are written in the offset the return's own events carried
(the merchant's clock, as ``add_business_days`` counts the refund delay), so the order's answer and
its shipments' answers say the same day whoever builds them.
"""

from __future__ import annotations

from datetime import datetime

from parcelwatch.schemas.lookup import ReturnAnswer, ReturnStatus
from parcelwatch.streams.core.answers import AnswerTemplates
from parcelwatch.streams.core.carrier_display import carrier_display_name
from parcelwatch.streams.core.locale_format import LocaleFormat
from parcelwatch.streams.core.notification_text import customer_text, single_spaced
from parcelwatch.streams.core.returns import ReturnPolicy, ReturnState, refund_due_at

OVERDUE = ".overdue"  # the variant of ``received`` once the refund's due date has passed
RETURN_TEMPLATE_NAMES = frozenset({status.value for status in ReturnStatus} | {"received.overdue"})
RETURN_PLACEHOLDERS = frozenset(
    {
        "order_id",
        "carrier",
        "return_tracking_number",
        "requested_date",
        "received_date",
        "due_date",
        "refund_date",
        "amount",
        "refund_method",
    }
)


def return_status(state: ReturnState) -> ReturnStatus:
    """The latest step the customer would recognise; a refund's fate outranks the parcel's."""
    if state.cancelled:
        return ReturnStatus.CANCELLED
    if state.refund_failed_at is not None and state.refund_outstanding:
        return ReturnStatus.REFUND_FAILED
    if not state.refund_outstanding:
        return ReturnStatus.REFUND_ISSUED
    if state.received_at is not None:
        return ReturnStatus.RECEIVED
    if state.in_transit_at is not None:
        return ReturnStatus.IN_TRANSIT
    if state.label_created_at is not None:
        return ReturnStatus.LABEL_READY
    return ReturnStatus.REQUESTED


def build_return_answer(
    state: ReturnState,
    now: datetime,
    templates: AnswerTemplates,
    policy: ReturnPolicy,
    customer_locale: str | None,
) -> ReturnAnswer:
    texts = templates.for_locale(customer_locale)
    written = LocaleFormat.of(customer_locale, texts.locale)
    status = return_status(state)
    due = refund_due_at(state, policy)

    def day(moment: datetime | None) -> str:
        return written.date(moment) if moment is not None else ""

    amount = (
        written.amount(state.refund_amount, state.refund_currency)
        if state.refund_amount is not None and state.refund_currency is not None
        else ""
    )
    method = texts.refund_methods.get(state.refund_method.value, "") if state.refund_method else ""
    values = {
        "order_id": state.order_id,
        "carrier": carrier_display_name(state.return_carrier or "")
        or texts.fragments["unknown_carrier"].substitute(),
        "return_tracking_number": state.return_tracking_number or "",
        "requested_date": day(state.requested_at),
        "received_date": day(state.received_at),
        "due_date": day(due),
        "refund_date": day(state.refund_issued_at),
        "amount": amount,
        "refund_method": method,
    }
    name = status.value
    if status is ReturnStatus.RECEIVED and due is not None and now > due:
        name += OVERDUE
    text = texts.returns[name].substitute(
        {key: customer_text(value) for key, value in values.items()}
    )
    return ReturnAnswer(
        order_id=state.order_id,
        status=status,
        reason=state.reason,
        items=state.items,
        return_tracking_number=state.return_tracking_number,
        return_carrier=state.return_carrier,
        requested_at=state.requested_at,
        label_created_at=state.label_created_at,
        in_transit_at=state.in_transit_at,
        received_at=state.received_at,
        cancelled_at=state.cancelled_at,
        refund_amount=state.refund_amount,
        refund_currency=state.refund_currency,
        refund_method=state.refund_method,
        refund_issued_at=state.refund_issued_at,
        refund_failed_at=state.refund_failed_at,
        refund_due_at=due,
        answer=single_spaced(customer_text(text)),
        locale=texts.locale,
    )
