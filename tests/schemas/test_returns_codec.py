"""The ``returns`` decoder: the checks JSON Schema cannot make (key, clock) and the reason codes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest

from parcelwatch.schemas.codec import NO_MESSAGE_KEY, InvalidEvent, encode
from parcelwatch.schemas.returns import (
    RefundMethod,
    ReturnEventType,
    ReturnReason,
    decode_return_event,
)
from parcelwatch.schemas.types import DeadLetterReason, Item, Limits
from tests.schemas.test_schema_sync import return_event_json

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def decode(payload: dict, key: bytes | object | None = b"A-1001"):
    return decode_return_event(orjson.dumps(payload), key=key, now=NOW, limits=Limits())


def reason_of(payload: dict, key: bytes | object | None = b"A-1001") -> DeadLetterReason:
    with pytest.raises(InvalidEvent) as caught:
        decode(payload, key)
    return caught.value.reason


def test_a_return_request_decodes_with_its_items_and_reason():
    event = decode(return_event_json("return_requested"))
    assert event.type is ReturnEventType.RETURN_REQUESTED
    assert event.items == (Item("SKU-1", 1),)
    assert event.reason is ReturnReason.SIZE_OR_FIT


def test_an_issued_refund_keeps_its_amount_exact():
    event = decode(return_event_json("refund_issued", amount="0.10"))
    assert event.amount_value == Decimal("0.10")
    assert (event.currency, event.method) == ("EUR", RefundMethod.ORIGINAL_PAYMENT)


def test_a_step_without_its_own_fields_is_a_missing_field():
    assert reason_of(return_event_json("refund_issued", method=None)) is (
        DeadLetterReason.MISSING_FIELD
    )
    assert reason_of(return_event_json("return_requested", items=[])) is (
        DeadLetterReason.MISSING_FIELD
    )


def test_an_unknown_return_reason_is_an_unknown_reason():
    assert reason_of(return_event_json("return_requested", reason="meh")) is (
        DeadLetterReason.UNKNOWN_REASON
    )


@pytest.mark.parametrize("key", [None, b"A-1002"])
def test_messages_are_keyed_by_order_id(key):
    assert reason_of(return_event_json("return_cancelled"), key) is DeadLetterReason.KEY_MISMATCH


def test_history_files_need_no_key():
    assert decode(return_event_json("refund_approved"), NO_MESSAGE_KEY).order_id == "A-1001"


def test_a_step_in_the_future_is_impossible():
    payload = return_event_json("refund_requested", occurred_at="2026-11-23T12:00:00Z")
    assert reason_of(payload) is DeadLetterReason.IMPOSSIBLE_TIMESTAMP


@pytest.mark.parametrize("kind", [kind.value for kind in ReturnEventType])
def test_encoding_and_decoding_give_the_same_event(kind):
    event = decode(return_event_json(kind))
    assert decode(orjson.loads(encode(event))) == event
