"""The return parcels' internal contracts: what the pipeline writes reads back, and what anyone
else writes to those topics is validated like an input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import orjson
import pytest

from parcelwatch.schemas.codec import InvalidEvent, encode
from parcelwatch.schemas.return_parcels import (
    ReturnParcelLink,
    ReturnParcelScan,
    decode_return_parcel_link,
    decode_return_parcel_scan,
)
from parcelwatch.schemas.types import DeadLetterReason, Limits, ShipmentStatus

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "json"
LINK = ReturnParcelLink("A-1001", "RT123456", "dhl", 3, NOW)
SCAN = ReturnParcelScan("A-1001", "RT123456", "dhl", "scan-1", ShipmentStatus.IN_TRANSIT, NOW, NOW)


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.v1.schema.json").read_text())


def test_both_read_back_what_the_pipeline_writes_and_their_schemas_accept_it():
    assert (
        decode_return_parcel_link(encode(LINK), key=b"RT123456", now=NOW, limits=Limits()) == LINK
    )
    assert decode_return_parcel_scan(encode(SCAN), key=b"A-1001", now=NOW, limits=Limits()) == SCAN
    jsonschema.validate(orjson.loads(encode(LINK)), schema("return-parcel"))
    jsonschema.validate(orjson.loads(encode(SCAN)), schema("return-scan"))


@pytest.mark.parametrize(
    ("decode", "event", "key", "change", "reason"),
    [
        (decode_return_parcel_link, LINK, b"A-1001", {}, DeadLetterReason.KEY_MISMATCH),
        (decode_return_parcel_link, LINK, b"RT123456", {"order_partition": -1},
         DeadLetterReason.INVALID_VALUE),
        (decode_return_parcel_link, LINK, b"RT123456", {"carrier": "DHL"},
         DeadLetterReason.INVALID_VALUE),
        (decode_return_parcel_scan, SCAN, b"RT123456", {}, DeadLetterReason.KEY_MISMATCH),
        (decode_return_parcel_scan, SCAN, b"A-1001", {"status": "teleported"},
         DeadLetterReason.UNKNOWN_STATUS),
        (decode_return_parcel_scan, SCAN, b"A-1001", {"event_id": None},
         DeadLetterReason.MISSING_FIELD),
    ],
)  # fmt: skip
def test_bad_messages_are_refused_with_their_reason(decode, event, key, change, reason):
    payload = {**orjson.loads(encode(event)), **change}
    with pytest.raises(InvalidEvent) as refused:
        decode(orjson.dumps(payload), key=key, now=NOW, limits=Limits())
    assert refused.value.reason is reason
    if reason is not DeadLetterReason.KEY_MISMATCH:  # the key is the decoder's own check
        name = "return-parcel" if event is LINK else "return-scan"
        assert not jsonschema.Draft202012Validator(schema(name)).is_valid(payload)
