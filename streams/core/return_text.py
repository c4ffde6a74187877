"""A return or refund milestone in the customer's words, from the same template files as the
shipment notifications (``messages.<kind>`` and ``refund_methods`` in each locale file)."""

from __future__ import annotations

from dataclasses import dataclass

from parcelwatch.streams.core.carrier_display import carrier_display_name
from parcelwatch.streams.core.locale_format import LocaleFormat
from parcelwatch.streams.core.notification_text import Templates, customer_text, single_spaced
from parcelwatch.streams.core.returns import ReturnNotice


@dataclass(frozen=True, slots=True)
class ReturnMessage:
    locale: str  # the locale the message is written in (the customer's, or the fallback)
    message: str


def render_return_message(
    notice: ReturnNotice, templates: Templates, customer_locale: str | None
) -> ReturnMessage:
    texts = templates.for_locale(customer_locale)
    written = LocaleFormat.of(customer_locale, texts.locale)
    amount = (
        written.amount(notice.amount, notice.currency)
        if notice.amount is not None and notice.currency is not None
        else ""
    )
    values = {
        "order_id": notice.order_id,
        "carrier": carrier_display_name(notice.carrier or ""),
        "return_tracking_number": notice.return_tracking_number or "",
        "amount": amount,
        "refund_method": texts.refund_methods.get(notice.method, "") if notice.method else "",
    }
    # Each value is cleaned on its own, then the whole (see notification_text.customer_text).
    message = texts.messages[notice.kind.value].substitute(
        {name: customer_text(value) for name, value in values.items()}
    )
    return ReturnMessage(texts.locale, single_spaced(customer_text(message)))
