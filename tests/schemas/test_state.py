"""The table value is a contract too: it must survive the changelog round trip exactly."""

from __future__ import annotations

import orjson
import pytest
from parcelwatch.schemas.state import (
    STATE_VERSION,
    UnsupportedStateVersion,
    state_from_json,
    state_to_json,
)
from parcelwatch.schemas.types import Location
from parcelwatch.streams.core.tracking import apply_event

from tests.factories import at, order, scan


def rich_state():
    state = None
    for event in [
        order(24, destination=None),
        scan("picked_up", 1, location=Location(city="Memphis", region="TN", country="US")),
        scan("exception", 5, reason="weather_delay", estimated_delivery=at(40)),
        scan("in_transit", 30),
    ]:
        state = apply_event(state, event, at(100)).state
    return state


def test_round_trip_through_json_bytes_is_exact():
    state = rich_state()
    stored = orjson.loads(orjson.dumps(state_to_json(state)))  # what the changelog holds
    assert state_from_json(stored) == state
    assert stored["state_version"] == STATE_VERSION


def test_round_trip_keeps_offsets_and_microseconds():
    from datetime import datetime, timedelta, timezone

    moment = datetime(
        2026, 3, 29, 1, 30, 0, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))
    )
    state = apply_event(None, scan("in_transit", 0), moment).state
    restored = state_from_json(orjson.loads(orjson.dumps(state_to_json(state))))
    assert restored.updated_at == moment
    assert restored.updated_at.utcoffset() == timedelta(hours=5, minutes=30)


def test_unknown_state_version_is_refused_not_misread():
    data = state_to_json(rich_state())
    data["state_version"] = STATE_VERSION + 1
    with pytest.raises(UnsupportedStateVersion):
        state_from_json(data)


def test_a_version_1_state_is_read_with_empty_notification_bookkeeping():
    from dataclasses import replace

    state = replace(rich_state(), notified=("shipped",), next_check_at=at(60), home_partition=3)
    written_by_version_1 = state_to_json(state)
    for added in ("notified", "next_check_at", "home_partition"):
        del written_by_version_1[added]
    written_by_version_1["state_version"] = 1

    restored = state_from_json(written_by_version_1)

    assert restored == replace(state, notified=(), next_check_at=None, home_partition=None)
    assert state_to_json(restored)["state_version"] == STATE_VERSION  # written back as 2


def test_notification_bookkeeping_survives_the_round_trip():
    from dataclasses import replace

    state = replace(rich_state(), notified=("shipped", "delayed/x"), next_check_at=at(60))
    assert state_from_json(orjson.loads(orjson.dumps(state_to_json(state)))) == state
