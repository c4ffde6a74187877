"""Decoding inputs: valid events come through typed; each kind of bad input gets its reason."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import orjson
import pytest

from schemas.codec import InvalidEvent, decode_order, decode_scan, encode, make_dead_letter
from schemas.types import DeadLetterReason, ExceptionReason, Limits, ShipmentStatus
from tests.factories import TRACKING, order_json, scan_json

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
LIMITS = Limits()
KEY = TRACKING.encode()
R = DeadLetterReason


def scan_bytes(**overrides) -> bytes:
    return orjson.dumps(scan_json(**overrides))


def reason_for(payload: bytes, *, key: bytes | None = KEY, decoder=decode_scan, limits=LIMITS):
    with pytest.raises(InvalidEvent) as caught:
        decoder(payload, key=key, now=NOW, limits=limits)
    return caught.value.reason


def test_valid_scan_decodes_to_typed_fields():
    scan = decode_scan(
        scan_bytes(status="exception", reason="customs_delay"), key=KEY, now=NOW, limits=LIMITS
    )
    assert scan.status is ShipmentStatus.EXCEPTION
    assert scan.reason is ExceptionReason.CUSTOMS_DELAY
    assert scan.occurred_at == datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    assert scan.occurred_at.utcoffset().total_seconds() == -5 * 3600  # offset kept
    assert scan.location.city == "Louisville"


def test_valid_order_decodes_with_customer_and_items():
    order = decode_order(orjson.dumps(order_json()), key=KEY, now=NOW, limits=LIMITS)
    assert order.customer.timezone == "Europe/Berlin"
    assert [channel.value for channel in order.customer.channels] == ["email", "push"]
    assert order.items[0].quantity == 2
    assert order.destination.country == "DE"


def test_unknown_extra_fields_are_ignored_for_forward_compatibility():
    scan = decode_scan(scan_bytes(future_field={"x": 1}), key=KEY, now=NOW, limits=LIMITS)
    assert scan.event_id == "evt-1"


def test_optional_fields_may_be_null():
    scan = decode_scan(scan_bytes(reason=None, location=None), key=KEY, now=NOW, limits=LIMITS)
    assert scan.reason is None and scan.location is None


def test_encode_then_decode_round_trips():
    scan = decode_scan(scan_bytes(estimated_delivery="2026-11-22T18:00:00.5+09:00"), key=KEY,
                       now=NOW, limits=LIMITS)  # fmt: skip
    assert decode_scan(encode(scan), key=KEY, now=NOW, limits=LIMITS) == scan


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", R.MALFORMED_JSON),
        (b"\xff\xfe\x00garbage", R.MALFORMED_JSON),
        (b"", R.MALFORMED_JSON),
        (b"[1, 2]", R.NOT_AN_OBJECT),
        (b'"a string"', R.NOT_AN_OBJECT),
        (
            orjson.dumps({k: v for k, v in scan_json().items() if k != "schema_version"}),
            R.MISSING_FIELD,
        ),
        (scan_bytes(schema_version=2), R.UNSUPPORTED_SCHEMA_VERSION),
        (scan_bytes(schema_version="1"), R.UNSUPPORTED_SCHEMA_VERSION),
        (scan_bytes(schema_version=True), R.UNSUPPORTED_SCHEMA_VERSION),
        (scan_bytes(event_id=None), R.MISSING_FIELD),
        (orjson.dumps({k: v for k, v in scan_json().items() if k != "status"}), R.MISSING_FIELD),
        (scan_bytes(event_id=42), R.WRONG_TYPE),
        (scan_bytes(location="Louisville"), R.WRONG_TYPE),
        (scan_bytes(status=3), R.WRONG_TYPE),
        (scan_bytes(event_id=""), R.INVALID_VALUE),
        (scan_bytes(carrier="UPS"), R.INVALID_VALUE),
        (scan_bytes(tracking_number="has space"), R.INVALID_VALUE),
        (scan_bytes(location={"country": "Germany"}), R.INVALID_VALUE),
        (scan_bytes(description="x" * 1001), R.INVALID_VALUE),
        (scan_bytes(status="lost_in_space"), R.UNKNOWN_STATUS),
        (scan_bytes(status="IN_TRANSIT"), R.UNKNOWN_STATUS),
        (scan_bytes(reason="aliens"), R.UNKNOWN_REASON),
        (scan_bytes(occurred_at="2026-11-20T10:00:00"), R.INVALID_TIMESTAMP),  # no offset
        (scan_bytes(occurred_at="2026-11-20"), R.INVALID_TIMESTAMP),
        (scan_bytes(occurred_at="2026-02-30T10:00:00Z"), R.INVALID_TIMESTAMP),
        (scan_bytes(occurred_at="2026-11-20T10:00:00Z\n"), R.INVALID_TIMESTAMP),
        (scan_bytes(occurred_at=1763631600), R.WRONG_TYPE),
        (scan_bytes(occurred_at="1970-01-01T00:00:00Z"), R.IMPOSSIBLE_TIMESTAMP),
        (scan_bytes(occurred_at="2026-11-23T12:00:00Z"), R.IMPOSSIBLE_TIMESTAMP),  # 2 days ahead
        (scan_bytes(estimated_delivery="1999-12-31T00:00:00Z"), R.IMPOSSIBLE_TIMESTAMP),
        (scan_bytes(tracking_number="OTHER123"), R.KEY_MISMATCH),
    ],
)
def test_each_bad_scan_gets_its_reason(payload, reason):
    assert reason_for(payload) is reason


def test_missing_key_is_a_key_mismatch():
    assert reason_for(scan_bytes(), key=None) is R.KEY_MISMATCH


def test_oversize_payload_is_rejected_before_parsing():
    big = scan_bytes(description="x" * 900)
    assert reason_for(big, limits=Limits(max_payload_bytes=512)) is R.PAYLOAD_TOO_LARGE


def test_small_clock_skew_is_tolerated():
    scan = decode_scan(scan_bytes(occurred_at="2026-11-21T18:00:00Z"), key=KEY, now=NOW,
                       limits=LIMITS)  # fmt: skip
    assert scan.occurred_at.hour == 18


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"promised_by": "2026-11-17T00:00:00Z"}, R.IMPOSSIBLE_TIMESTAMP),  # before ordered_at
        ({"service_level": "Next Day!"}, R.INVALID_VALUE),
        ({"order_id": None}, R.MISSING_FIELD),
        ({"customer": {"locale": "en"}}, R.MISSING_FIELD),
        ({"customer": {"id": "c", "channels": ["pigeon"]}}, R.INVALID_VALUE),
        ({"customer": {"id": "c", "channels": "email"}}, R.WRONG_TYPE),
        ({"customer": {"id": "c", "timezone": "not a zone"}}, R.INVALID_VALUE),
        ({"items": [{"sku": "a", "quantity": 0}]}, R.INVALID_VALUE),
        ({"items": [{"sku": "a", "quantity": 1.5}]}, R.WRONG_TYPE),
        ({"items": [{"sku": "a", "quantity": True}]}, R.WRONG_TYPE),
        ({"items": ["a"]}, R.WRONG_TYPE),
        ({"ordered_at": "yesterday"}, R.INVALID_TIMESTAMP),
    ],
)
def test_each_bad_order_gets_its_reason(overrides, reason):
    assert reason_for(orjson.dumps(order_json(**overrides)), decoder=decode_order) is reason


def test_error_text_names_the_field_but_not_its_value():
    with pytest.raises(InvalidEvent) as caught:
        decode_order(orjson.dumps(order_json(customer={"id": "secret-person@example.com",
                                                       "locale": 5})),
                     key=KEY, now=NOW, limits=LIMITS)  # fmt: skip
    assert "customer.locale" in caught.value.error
    assert "secret-person" not in caught.value.error


def test_dead_letter_keeps_utf8_payload_and_origin():
    error = InvalidEvent(R.MALFORMED_JSON, "broken")
    letter = make_dead_letter(error=error, source_topic="carrier-scans", source_partition=3,
                              source_offset=77, key=b"K1", payload=b"{oops", received_at=NOW,
                              limits=LIMITS)  # fmt: skip
    assert (letter.payload, letter.payload_encoding, letter.payload_truncated) == (
        "{oops", "utf-8", False,
    )  # fmt: skip
    assert (letter.source_topic, letter.source_partition, letter.source_offset) == (
        "carrier-scans", 3, 77,
    )  # fmt: skip
    assert letter.key == "K1" and letter.reason is R.MALFORMED_JSON


def test_dead_letter_base64_for_binary_and_truncates_oversize():
    error = InvalidEvent(R.PAYLOAD_TOO_LARGE, "big")
    binary = bytes(range(256)) * 4
    letter = make_dead_letter(error=error, source_topic="t", source_partition=0, source_offset=1,
                              key=None, payload=binary, received_at=NOW,
                              limits=Limits(max_payload_bytes=300))  # fmt: skip
    assert letter.payload_encoding == "base64"
    assert base64.b64decode(letter.payload) == binary[:300]
    assert letter.payload_truncated is True


def test_dead_letter_id_is_deterministic_per_source_offset():
    error = InvalidEvent(R.MALFORMED_JSON, "x")
    common = dict(error=error, source_topic="t", key=None, payload=b"x", received_at=NOW,
                  limits=LIMITS)  # fmt: skip
    one = make_dead_letter(source_partition=0, source_offset=5, **common)
    same = make_dead_letter(source_partition=0, source_offset=5, **common)
    other = make_dead_letter(source_partition=0, source_offset=6, **common)
    assert one.dead_letter_id == same.dead_letter_id != other.dead_letter_id


def test_history_events_without_a_message_key_skip_only_the_key_check():
    from schemas.codec import NO_MESSAGE_KEY

    scan = decode_scan(scan_bytes(), key=NO_MESSAGE_KEY, now=NOW, limits=LIMITS)
    assert scan.tracking_number == TRACKING
    assert reason_for(scan_bytes(status="teleported"), key=NO_MESSAGE_KEY) is R.UNKNOWN_STATUS


def test_encoding_is_the_contracts_json_exactly():
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from schemas.codec import encode
    from schemas.types import Customer, NotificationChannel, PredictedDelivery

    berlin = datetime(2026, 3, 29, 3, 30, 0, 5, tzinfo=ZoneInfo("Europe/Berlin"))
    prediction = PredictedDelivery(berlin, datetime(2026, 3, 29, tzinfo=UTC), berlin)
    assert encode(prediction) == (
        b'{"expected":"2026-03-29T03:30:00.000005+02:00","earliest":"2026-03-29T00:00:00+00:00",'
        b'"latest":"2026-03-29T03:30:00.000005+02:00"}'
    )
    customer = Customer("c-1", None, "UTC", (NotificationChannel.SMS, NotificationChannel.PUSH))
    assert encode(customer) == (
        b'{"id":"c-1","locale":null,"timezone":"UTC","channels":["sms","push"]}'
    )


def test_a_naive_time_is_never_written_without_an_offset():
    from datetime import datetime

    from schemas.codec import encode

    assert encode({"at": datetime(2026, 1, 1, 12, 0)}) == b'{"at":"2026-01-01T12:00:00+00:00"}'
