"""Return and refund messages: every built-in locale, every return kind, complete sentences."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parcelwatch.schemas.returns import RefundMethod
from parcelwatch.schemas.types import RETURN_NOTIFICATION_KINDS
from parcelwatch.schemas.types import NotificationKind as K
from parcelwatch.streams.core.return_text import render_return_message
from parcelwatch.streams.core.returns import ReturnNotice
from parcelwatch.streams.message_templates import BUILT_IN, TemplateError, load_templates
from tests.streams.core.test_notification_text import template_dir

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
TEMPLATES = load_templates()
BUILT_IN_LOCALES = sorted(path.stem for path in BUILT_IN.glob("*.json"))


def notice(kind: K, method: RefundMethod = RefundMethod.ORIGINAL_PAYMENT) -> ReturnNotice:
    refund = kind is K.REFUND_ISSUED
    return ReturnNotice(
        "n-1", kind, "A-1001", NOW, NOW, "RT123456", "dhl",
        "49.90" if refund else None, "EUR" if refund else None, method if refund else None,
    )  # fmt: skip


@pytest.mark.parametrize("method", list(RefundMethod))
@pytest.mark.parametrize("kind", sorted(RETURN_NOTIFICATION_KINDS))
@pytest.mark.parametrize("locale", BUILT_IN_LOCALES)
def test_every_built_in_locale_renders_every_return_kind_completely(locale, kind, method):
    rendered = render_return_message(notice(kind, method), TEMPLATES, locale)
    assert rendered.locale == locale
    assert "$" not in rendered.message and "  " not in rendered.message
    assert "A-1001" in rendered.message
    assert rendered.message[-1] in ".!?"


def test_the_label_notice_names_the_return_parcel_and_its_carrier():
    message = render_return_message(notice(K.RETURN_LABEL_READY), TEMPLATES, "en").message
    assert "RT123456" in message and "DHL" in message


def test_the_refund_amount_is_written_in_the_customers_locale():
    english = render_return_message(notice(K.REFUND_ISSUED), TEMPLATES, "en-GB").message
    german = render_return_message(notice(K.REFUND_ISSUED), TEMPLATES, "de-DE").message
    assert "€49.90" in english and "to your original payment method" in english
    assert "49,90\u00a0€" in german


def test_template_files_must_name_every_refund_method(tmp_path):
    folder = template_dir(tmp_path, drop=lambda data: data["refund_methods"].pop("gift_card"))
    with pytest.raises(TemplateError, match=r"refund_methods missing \['gift_card'\]"):
        load_templates(folder)


def test_a_return_template_cannot_use_a_shipment_placeholder(tmp_path):
    def edit(data):
        data["messages"]["return_received"] = "We got $order_id on $delivered_date."

    with pytest.raises(TemplateError, match=r"return_received: unknown placeholders"):
        load_templates(template_dir(tmp_path, edit=edit))
