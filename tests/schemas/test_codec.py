"""Decoding inputs: valid events come through typed; each kind of bad input gets its reason."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from parcelwatch.schemas.codec import (
    DEAD_LETTER_ERROR_MAX_CHARS,
    DEAD_LETTER_KEY_BUDGET,
    DEAD_LETTER_PAYLOAD_BUDGET,
    MAX_DEAD_LETTER_BYTES,
    InvalidEvent,
    decode_order,
    decode_scan,
    encode,
    make_dead_letter,
)
from parcelwatch.schemas.types import DeadLetterReason, ExceptionReason, Limits, ShipmentStatus
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
        (scan_bytes(schema_version=[1]), R.UNSUPPORTED_SCHEMA_VERSION),  # was a TypeError
        (scan_bytes(schema_version={"major": 1}), R.UNSUPPORTED_SCHEMA_VERSION),
        (scan_bytes(schema_version=1.5), R.UNSUPPORTED_SCHEMA_VERSION),
        (scan_bytes(schema_version=-(2**63)), R.UNSUPPORTED_SCHEMA_VERSION),
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
        (scan_bytes(estimated_delivery="9999-12-31T23:59:59Z"), R.IMPOSSIBLE_TIMESTAMP),
        (scan_bytes(estimated_delivery="0001-01-01T00:00:00+14:00"), R.IMPOSSIBLE_TIMESTAMP),
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
        ({"promised_by": "9999-12-31T23:59:59-23:59"}, R.IMPOSSIBLE_TIMESTAMP),
        ({"promised_by": "2027-11-19T00:00:00+01:00"}, R.IMPOSSIBLE_TIMESTAMP),  # 366 days
        ({"ordered_at": "1999-12-31T23:59:59Z"}, R.IMPOSSIBLE_TIMESTAMP),
        ({"ordered_at": "2026-11-23T12:00:00Z"}, R.IMPOSSIBLE_TIMESTAMP),  # 2 days ahead
        ({"schema_version": [1]}, R.UNSUPPORTED_SCHEMA_VERSION),
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
    from parcelwatch.schemas.codec import NO_MESSAGE_KEY

    scan = decode_scan(scan_bytes(), key=NO_MESSAGE_KEY, now=NOW, limits=LIMITS)
    assert scan.tracking_number == TRACKING
    assert reason_for(scan_bytes(status="teleported"), key=NO_MESSAGE_KEY) is R.UNKNOWN_STATUS


def test_encoding_is_the_contracts_json_exactly():
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from parcelwatch.schemas.codec import encode
    from parcelwatch.schemas.types import Customer, NotificationChannel, PredictedDelivery

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

    from parcelwatch.schemas.codec import encode

    assert encode({"at": datetime(2026, 1, 1, 12, 0)}) == b'{"at":"2026-01-01T12:00:00+00:00"}'


# ---------------------------------------------------------------------------------------------
# Timestamp bounds: each names the field and the bound it breaks


def _error_for(payload: bytes, decoder=decode_scan) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as caught:
        decoder(payload, key=KEY, now=NOW, limits=LIMITS)
    return caught.value


@pytest.mark.parametrize(
    ("decoder", "payload", "words"),
    [
        (decode_scan, scan_bytes(estimated_delivery="9999-12-31T23:59:59Z"),
         "'estimated_delivery' is more than 365 days after 'occurred_at'"),
        (decode_scan, scan_bytes(estimated_delivery="2025-11-19T10:00:00-05:00"),
         "'estimated_delivery' is more than 365 days before 'occurred_at'"),
        (decode_scan, scan_bytes(occurred_at="1999-12-31T23:59:59Z"),
         "'occurred_at' is before the year 2000"),
        (decode_scan, scan_bytes(occurred_at="2026-11-23T12:00:00Z"),
         "'occurred_at' is more than 24 h in the future"),
        (decode_order, orjson.dumps(order_json(promised_by="2027-11-19T00:00:00+01:00")),
         "'promised_by' is more than 365 days after 'ordered_at'"),
        (decode_order, orjson.dumps(order_json(promised_by="2026-11-18T11:59:59+01:00")),
         "'promised_by' is before 'ordered_at'"),
    ],
)  # fmt: skip
def test_impossible_timestamps_say_which_field_and_why(decoder, payload, words):
    error = _error_for(payload, decoder)
    assert error.reason is R.IMPOSSIBLE_TIMESTAMP
    assert words in error.error


def test_the_horizons_themselves_are_accepted():
    order = decode_order(
        orjson.dumps(order_json(promised_by="2027-11-18T12:00:00+01:00")),  # exactly 365 days
        key=KEY, now=NOW, limits=LIMITS,
    )  # fmt: skip
    assert (order.promised_by - order.ordered_at).days == 365
    scan = decode_scan(
        scan_bytes(estimated_delivery="2025-11-20T10:00:00-05:00"),  # a stale estimate, 365 days
        key=KEY, now=NOW, limits=LIMITS,
    )  # fmt: skip
    assert scan.estimated_delivery is not None


@pytest.mark.parametrize(
    ("requested_at", "accepted"),
    [
        ("2026-11-21T11:00:00Z", True),
        ("1999-12-31T23:59:59Z", False),
        ("2026-11-23T12:00:00Z", False),
        ("9999-12-31T23:59:59Z", False),
    ],
)
def test_check_requested_at_is_bounded_on_both_sides(requested_at, accepted):
    from parcelwatch.schemas.codec import decode_check

    payload = orjson.dumps(
        {"schema_version": 1, "tracking_number": TRACKING, "requested_at": requested_at}
    )
    if accepted:
        assert decode_check(payload, key=KEY, now=NOW, limits=LIMITS).tracking_number == TRACKING
    else:
        assert reason_for(payload, decoder=decode_check) is R.IMPOSSIBLE_TIMESTAMP


@pytest.mark.parametrize(
    ("hours", "expected"),
    [(24.0, timedelta(hours=24)), (1e12, timedelta(days=366)), (float("inf"), timedelta(days=366)),
     (float("nan"), timedelta(0)), (-5.0, timedelta(0))],
)  # fmt: skip
def test_clock_skew_stays_a_bound_whatever_the_setting(hours, expected):
    limits = Limits(max_clock_skew_hours=hours)
    assert limits.clock_skew == expected
    assert reason_for(scan_bytes(occurred_at="9999-12-31T23:59:59Z"), limits=limits) is (
        R.IMPOSSIBLE_TIMESTAMP
    )


def test_schema_version_one_point_zero_is_version_one_as_in_json_schema():
    assert decode_scan(scan_bytes(schema_version=1.0), key=KEY, now=NOW, limits=LIMITS)


def test_schema_version_of_another_type_names_the_type():
    error = _error_for(scan_bytes(schema_version=[1]))
    assert "must be a number, got list" in error.error


def test_error_words_quote_at_most_a_short_piece_of_a_value():
    error = _error_for(scan_bytes(status="s" * 50_000))
    assert error.reason is R.UNKNOWN_STATUS
    assert len(error.error) < 300


# ---------------------------------------------------------------------------------------------
# Dead letters are bounded, and identify what they cut


def _letter(key: bytes | None, payload: bytes, max_payload_bytes: int = LIMITS.max_payload_bytes):
    return make_dead_letter(
        error=InvalidEvent(R.PAYLOAD_TOO_LARGE, "big"), source_topic="carrier-scans",
        source_partition=0, source_offset=9, key=key, payload=payload, received_at=NOW,
        limits=Limits(max_payload_bytes=max_payload_bytes),
    )  # fmt: skip


def test_a_900_kb_key_and_payload_of_nul_bytes_give_a_small_dead_letter():
    key, payload = b"\x00" * 900_000, b"\x00" * 900_000
    letter = _letter(key, payload, max_payload_bytes=1024 * 1024)
    assert len(encode(letter)) < 512 * 1024
    assert (letter.payload_size, letter.key_size) == (900_000, 900_000)
    assert letter.payload_sha256 == hashlib.sha256(payload).hexdigest()
    assert letter.key_sha256 == hashlib.sha256(key).hexdigest()
    assert letter.payload_truncated is True and letter.key_truncated is True
    # What is kept is the beginning of the original, as much as the budgets allow.
    assert letter.payload_encoding == "utf-8" and set(letter.payload) == {"\x00"}
    kept = len(orjson.dumps(letter.payload))
    assert DEAD_LETTER_PAYLOAD_BUDGET - 6 < kept <= DEAD_LETTER_PAYLOAD_BUDGET  # 6 bytes per NUL
    assert len(orjson.dumps(letter.key)) <= DEAD_LETTER_KEY_BUDGET


@pytest.mark.parametrize("max_payload_bytes", [256, 64 * 1024, 1024 * 1024, 10**9])
@pytest.mark.parametrize(
    "payload",
    [b"\x00" * 900_000, b"\xff" * 900_000, b'"\\' * 300_000, "\u2028é€😀".encode() * 90_000],
    ids=["nul", "binary", "quotes", "unicode"],
)
def test_the_payload_copy_fits_its_budget_whatever_the_limit(payload, max_payload_bytes):
    letter = _letter(b"key", payload, max_payload_bytes)
    assert len(orjson.dumps(letter.payload)) <= DEAD_LETTER_PAYLOAD_BUDGET
    assert len(encode(letter)) <= MAX_DEAD_LETTER_BYTES
    assert letter.payload_truncated is True and letter.payload_size == len(payload)
    original = (
        base64.b64decode(letter.payload)
        if letter.payload_encoding == "base64"
        else letter.payload.encode()
    )
    assert payload.startswith(original) and 0 < len(original) <= max_payload_bytes


def test_a_cut_through_a_character_keeps_utf8_text():
    payload = "€".encode() * 100  # 3 bytes each: a cut at 256 splits one
    letter = _letter(None, payload, max_payload_bytes=256)
    assert letter.payload_encoding == "utf-8"
    assert letter.payload == "€" * 85 and letter.payload_truncated is True


def test_small_inputs_are_kept_whole_with_their_size_and_hash():
    letter = _letter(b"1ZKEY", b'{"status": "teleported"}')
    assert (letter.payload, letter.payload_truncated) == ('{"status": "teleported"}', False)
    assert (letter.key, letter.key_size, letter.key_truncated) == ("1ZKEY", 5, False)
    assert letter.key_sha256 == hashlib.sha256(b"1ZKEY").hexdigest()
    assert letter.payload_size == 24


def test_a_message_without_a_key_has_null_key_fields():
    letter = _letter(None, b"x")
    assert (letter.key, letter.key_size, letter.key_sha256, letter.key_truncated) == (
        None, None, None, False,
    )  # fmt: skip


def test_error_words_are_capped_in_the_dead_letter():
    letter = make_dead_letter(
        error=InvalidEvent(R.PROCESSING_ERROR, "\x00" * 100_000), source_topic="t",
        source_partition=0, source_offset=0, key=None, payload=b"", received_at=NOW,
        limits=LIMITS,
    )  # fmt: skip
    assert len(letter.error) <= DEAD_LETTER_ERROR_MAX_CHARS


# -- feedback-tallies --------------------------------------------------------------------------


def tally_bytes(**overrides) -> bytes:
    payload = {
        "schema_version": 1,
        "feedback_id": "fb-1",
        "carrier": "acme",
        "region": "SP",
        "reason": "logistics_pain",
        "topics": ["damaged", "late_delivery", "damaged"],
        "received_at": "2026-11-21T08:00:00-03:00",
    }
    payload.update(overrides)
    return orjson.dumps(payload)


def test_a_feedback_tally_decodes_typed_with_topics_once_each():
    from parcelwatch.schemas.codec import decode_pain_point_input
    from parcelwatch.schemas.feedback import FeedbackTally, FeedbackTopic, FlagReason

    tally = decode_pain_point_input(tally_bytes(), key=b"acme", now=NOW, limits=LIMITS)
    assert isinstance(tally, FeedbackTally)
    assert tally.reason is FlagReason.LOGISTICS_PAIN
    assert tally.topics == (FeedbackTopic.DAMAGED, FeedbackTopic.LATE_DELIVERY)
    assert tally.received_at == datetime(2026, 11, 21, 11, 0, tzinfo=UTC)


def test_a_close_request_decodes_as_one():
    from parcelwatch.schemas.codec import decode_pain_point_input
    from parcelwatch.schemas.pain_points import PainPointClose

    payload = orjson.dumps(
        {"schema_version": 1, "carrier": "acme", "requested_at": "2026-11-21T11:59:00Z"}
    )
    close = decode_pain_point_input(payload, key=b"acme", now=NOW, limits=LIMITS)
    assert close == PainPointClose("acme", datetime(2026, 11, 21, 11, 59, tzinfo=UTC))


@pytest.mark.parametrize(
    ("overrides", "key", "reason", "words"),
    [
        ({}, b"other", R.KEY_MISMATCH, "key feedback-tallies by carrier"),
        ({}, None, R.KEY_MISMATCH, "carrier"),
        ({"reason": "furious"}, b"acme", R.INVALID_VALUE, "field 'reason'"),
        ({"topics": ["teleported"]}, b"acme", R.INVALID_VALUE, "field 'topics[0]'"),
        ({"topics": [3]}, b"acme", R.WRONG_TYPE, "field 'topics[0]'"),
        ({"topics": None}, b"acme", R.MISSING_FIELD, "field 'topics'"),
        ({"feedback_id": None}, b"acme", R.MISSING_FIELD, "field 'feedback_id'"),
        ({"received_at": "2026-11-23T12:00:00Z"}, b"acme", R.IMPOSSIBLE_TIMESTAMP, "future"),
    ],
)
def test_each_bad_tally_gets_its_reason_and_words(overrides, key, reason, words):
    from parcelwatch.schemas.codec import decode_pain_point_input

    with pytest.raises(InvalidEvent) as caught:
        decode_pain_point_input(tally_bytes(**overrides), key=key, now=NOW, limits=LIMITS)
    assert caught.value.reason is reason
    assert words in caught.value.error
