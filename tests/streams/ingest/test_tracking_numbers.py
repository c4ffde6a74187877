from __future__ import annotations

import json
from pathlib import Path

import pytest

from parcelwatch.schemas.types import CarrierSource
from parcelwatch.streams.ingest.tracking_numbers import tracking_number_in

EASYPOST = Path(__file__).resolve().parents[2] / "data" / "carriers" / "easypost"


def test_easypost_event_and_bare_tracker():
    event = json.loads((EASYPOST / "constructed_webhook_delivered.json").read_text())
    assert tracking_number_in(CarrierSource.EASYPOST, event) == "1Z999AA10123456784"
    tracker = json.loads((EASYPOST / "tracker_retrieve.json").read_text())
    assert tracking_number_in(CarrierSource.EASYPOST, tracker) == tracker["tracking_code"]
    batch = json.loads((EASYPOST / "webhook_batch_created.json").read_text())
    assert tracking_number_in(CarrierSource.EASYPOST, batch) is None


@pytest.mark.parametrize(
    ("platform", "document", "expected"),
    [
        (CarrierSource.AFTERSHIP, {"msg": {"tracking_number": "9361289676091361892011"}},
         "9361289676091361892011"),
        (CarrierSource.SHIPPO, {"data": {"tracking_number": "9205590164917312751089"}},
         "9205590164917312751089"),
        (CarrierSource.SEVENTEEN_TRACK, {"data": {"number": "RR123456789CN"}}, "RR123456789CN"),
        (CarrierSource.SHIPPO, {"data": []}, None),
        (CarrierSource.SHIPPO, {"data": {"tracking_number": 12345}}, None),
        (CarrierSource.AFTERSHIP, {"msg": {"tracking_number": "has space"}}, None),
        (CarrierSource.AFTERSHIP, {"msg": {"tracking_number": "x" * 65}}, None),
        (CarrierSource.SEVENTEEN_TRACK, {}, None),
    ],
)  # fmt: skip
def test_other_platforms(platform, document, expected):
    assert tracking_number_in(platform, document) == expected
