"""Simulated journeys on the live clock: shifted to now, compressed, every timestamp alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from parcelwatch.schemas.feedback import Feedback
from parcelwatch.schemas.types import Order, Scan
from parcelwatch.streams.simulation import (
    SimulatedEvent,
    SimulationConfig,
    generate_journeys,
    generate_run,
)
from parcelwatch.streams.simulation.playback import (
    compress_timeline,
    compression_factor,
    playback_origin,
    played_at,
)
from tests.factories import at, order, scan

SIM_END = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)
LIVE = datetime(2026, 12, 1, 19, 0, 0, tzinfo=UTC)
FACTOR = 3600.0  # one simulated hour per played second


@pytest.fixture(scope="module")
def journeys() -> list[SimulatedEvent]:
    return generate_journeys(SimulationConfig(shipments=60, seed=3), now=SIM_END)


def _times(item: SimulatedEvent) -> list[datetime]:
    event = item.event
    if isinstance(event, Order):
        return [item.emit_at, event.ordered_at, event.promised_by]
    extra = [event.estimated_delivery] if event.estimated_delivery is not None else []
    return [item.emit_at, event.occurred_at, *extra]


def test_the_first_publication_plays_now_and_the_rest_follows_in_order(journeys):
    played = compress_timeline(journeys, factor=FACTOR, now=LIVE)

    assert min(item.emit_at for item in played) == LIVE
    assert [item.event.event_id for item in played] == [item.event.event_id for item in journeys]
    emitted = [item.emit_at for item in played]
    assert emitted == sorted(emitted)  # the simulator's publication order is kept


def test_every_timestamp_is_mapped_alike_so_spans_shrink_by_the_factor(journeys):
    played = compress_timeline(journeys, factor=FACTOR, now=LIVE)
    origin = journeys[0].emit_at

    for original, compressed in zip(journeys, played, strict=True):
        for before, after in zip(_times(original), _times(compressed), strict=True):
            # the same instant as the mapping says, to the microsecond the type keeps
            expected = LIVE + (before - origin) / FACTOR
            assert abs(after - expected) <= timedelta(microseconds=1)
            assert after.utcoffset() == before.utcoffset()  # local times still read as local


def test_the_journey_span_plays_in_the_chosen_time(journeys):
    simulated = max(item.emit_at for item in journeys) - playback_origin(journeys)
    factor = compression_factor(simulated, timedelta(seconds=60))

    played = compress_timeline(journeys, factor=factor, now=LIVE)

    span = max(item.emit_at for item in played) - min(item.emit_at for item in played)
    assert abs(span - timedelta(seconds=60)) < timedelta(milliseconds=1)


def test_a_promise_keeps_its_place_relative_to_the_scans():
    key = b"1ZTEST0000000001"
    events = [
        SimulatedEvent("order", key, order(promised_in_hours=30), at(-2)),
        SimulatedEvent("scan", key, scan("in_transit", 10, estimated_delivery=at(28)), at(10.5)),
        SimulatedEvent("scan", key, scan("delivered", 36), at(36.2)),
    ]

    placed, moving, delivered = compress_timeline(events, factor=FACTOR, now=LIVE)

    assert isinstance(placed.event, Order) and isinstance(delivered.event, Scan)
    assert delivered.event.occurred_at - placed.event.promised_by == timedelta(seconds=6)
    assert placed.event.promised_by - placed.event.ordered_at == timedelta(seconds=32)
    assert isinstance(moving.event, Scan) and moving.event.estimated_delivery == LIVE + timedelta(
        seconds=30
    )


def test_played_at_is_the_same_mapping_as_the_timeline(journeys):
    played = compress_timeline(journeys, factor=FACTOR, now=LIVE)
    origin = playback_origin(journeys)

    assert played_at(journeys[-1].emit_at, origin=origin, factor=FACTOR, now=LIVE) == (
        played[-1].emit_at
    )
    assert played_at(SIM_END, origin=origin, factor=FACTOR, now=LIVE) >= played[-1].emit_at


def test_an_offset_of_the_live_clock_does_not_leak_into_the_events():
    key = b"1ZTEST0000000001"
    events = [SimulatedEvent("scan", key, scan("picked_up", 0), at(0))]
    local_now = LIVE.astimezone(timezone(timedelta(hours=-5)))

    (played,) = compress_timeline(events, factor=FACTOR, now=local_now)

    assert played.emit_at == LIVE and played.emit_at.utcoffset() == timedelta(0)


def test_nothing_to_play_and_bad_arguments():
    assert compress_timeline([], factor=FACTOR, now=LIVE) == []
    with pytest.raises(ValueError, match="factor"):
        compress_timeline([], factor=0, now=LIVE)
    with pytest.raises(ValueError, match="timezone-aware"):
        compress_timeline([], factor=FACTOR, now=datetime(2026, 12, 1))
    with pytest.raises(ValueError, match="positive"):
        compression_factor(timedelta(days=1), timedelta(0))
    assert compression_factor(timedelta(days=10), timedelta(seconds=80)) == 10800.0


def test_feedback_is_received_at_its_place_on_the_live_clock():
    run = generate_run(SimulationConfig(shipments=60, seed=3), now=SIM_END)
    events = run.events
    assert any(item.topic_kind == "feedback" for item in events)

    played = compress_timeline(events, factor=FACTOR, now=LIVE)

    origin = playback_origin(events)
    for original, compressed in zip(events, played, strict=True):
        if not isinstance(original.event, Feedback):
            continue
        assert isinstance(compressed.event, Feedback)
        expected = LIVE + (original.event.received_at - origin) / FACTOR
        assert abs(compressed.event.received_at - expected) <= timedelta(microseconds=1)
        assert compressed.event.received_at <= compressed.emit_at
        assert compressed.event.text == original.event.text
