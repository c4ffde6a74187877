"""Builders of ``returns`` steps for tests: each type with the fields it needs, all overridable."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from parcelwatch.schemas.returns import RefundMethod, ReturnEvent, ReturnEventType, ReturnReason
from parcelwatch.schemas.types import Item

ORDER_ID = "A-1001"
RETURN_PARCEL = "RT123456"
_T = ReturnEventType


def return_step(
    kind: ReturnEventType, occurred_at: datetime, event_id: str, **fields: Any
) -> ReturnEvent:
    defaults: dict[str, Any] = {
        _T.RETURN_REQUESTED: {
            "items": (Item("SKU-1", 1, "shoes"),),
            "reason": ReturnReason.SIZE_OR_FIT,
        },
        _T.RETURN_LABEL_CREATED: {"return_tracking_number": RETURN_PARCEL, "carrier": "dhl"},
        _T.REFUND_ISSUED: {
            "amount": "49.90",
            "currency": "EUR",
            "method": RefundMethod.ORIGINAL_PAYMENT,
        },
        _T.REFUND_FAILED: {"failure_reason": "card expired"},
    }.get(kind, {})
    values = {"order_id": ORDER_ID, **defaults, **fields}
    return ReturnEvent(event_id=event_id, type=kind, occurred_at=occurred_at, **values)
