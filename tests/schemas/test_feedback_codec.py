from datetime import UTC, datetime

import orjson
import pytest

from parcelwatch.schemas.codec import InvalidEvent, decode_check, encode
from parcelwatch.schemas.feedback import ShipmentFeedback
from parcelwatch.schemas.feedback_codec import (
    decode_feedback,
    decode_order_shipment_link,
    decode_shipment_feedback,
)
from parcelwatch.schemas.types import DeadLetterReason, Limits, ShipmentCheck
from tests.factories import TRACKING, at
from tests.feedback_factories import ORDER_ID, analysis, feedback, link

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LIMITS = Limits()


def test_feedback_round_trips_and_is_keyed_by_its_order():
    original = feedback(tracking_number=TRACKING, rating=2, language="de-AT", customer_id="c-9")
    assert decode_feedback(encode(original), key=ORDER_ID.encode(), now=NOW, limits=LIMITS) == (
        original
    )
    with pytest.raises(InvalidEvent) as raised:
        decode_feedback(encode(original), key=TRACKING.encode(), now=NOW, limits=LIMITS)
    assert raised.value.reason is DeadLetterReason.KEY_MISMATCH
    assert "order id" in raised.value.error


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"text": None, "rating": None}, DeadLetterReason.MISSING_FIELD),
        ({"rating": 9}, DeadLetterReason.INVALID_VALUE),
        ({"channel": "fax"}, DeadLetterReason.INVALID_VALUE),
        ({"text": "x" * 10_001}, DeadLetterReason.INVALID_VALUE),
        ({"received_at": "2027-06-01T00:00:00Z"}, DeadLetterReason.IMPOSSIBLE_TIMESTAMP),
    ],
)
def test_invalid_feedback_is_rejected_with_its_reason(change, reason):
    document = orjson.loads(encode(feedback()))
    document.update(change)
    with pytest.raises(InvalidEvent) as raised:
        decode_feedback(orjson.dumps(document), key=ORDER_ID.encode(), now=NOW, limits=LIMITS)
    assert raised.value.reason is reason


def test_order_shipment_link_round_trips():
    original = link("T1", partition=7)
    decoded = decode_order_shipment_link(
        encode(original), key=ORDER_ID.encode(), now=NOW, limits=LIMITS
    )
    assert decoded == original


def test_forwarded_feedback_round_trips_with_its_analysis():
    original = ShipmentFeedback(
        tracking_number=TRACKING,
        feedback=feedback(rating=1),
        analysis=analysis(product="positive"),
        analyzer_version="rules-1",
        forwarded_at=at(101),
    )
    decoded = decode_shipment_feedback(
        encode(original), key=TRACKING.encode(), now=NOW, limits=LIMITS
    )
    assert decoded == original


def test_a_forwarded_feedback_with_a_broken_analysis_is_rejected():
    document = orjson.loads(
        encode(ShipmentFeedback(TRACKING, feedback(), analysis(), "rules-1", forwarded_at=at(101)))
    )
    document["analysis"]["sentiment"]["score"] = 7
    with pytest.raises(InvalidEvent) as raised:
        decode_shipment_feedback(
            orjson.dumps(document), key=TRACKING.encode(), now=NOW, limits=LIMITS
        )
    assert raised.value.reason is DeadLetterReason.INVALID_VALUE


def test_an_order_check_is_keyed_by_the_order_and_names_no_shipment():
    check = ShipmentCheck(tracking_number=None, requested_at=at(100), order_id=ORDER_ID)
    assert decode_check(encode(check), key=ORDER_ID.encode(), now=NOW, limits=LIMITS) == check
    both = ShipmentCheck(tracking_number=TRACKING, requested_at=at(100), order_id=ORDER_ID)
    with pytest.raises(InvalidEvent):
        decode_check(encode(both), key=TRACKING.encode(), now=NOW, limits=LIMITS)
    neither = ShipmentCheck(tracking_number=None, requested_at=at(100))
    with pytest.raises(InvalidEvent):
        decode_check(encode(neither), key=TRACKING.encode(), now=NOW, limits=LIMITS)
