"""Simulated scans sent as a source's raw payloads come back, through the normaliser, as the same
scans: statuses, tracking numbers, times (to the second, in UTC), codes and words."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import orjson
import pytest

from parcelwatch.schemas.carrier_raw import RawCarrierPayload
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import (
    CarrierSource,
    ExceptionReason,
    Location,
    Scan,
    ShipmentStatus,
)
from parcelwatch.streams.carriers.mapping import mapping_table
from parcelwatch.streams.carriers.reading import scans_from_payload
from parcelwatch.streams.carriers.timezones import zone_of_location
from parcelwatch.streams.simulation import SimulatedEvent, SimulationConfig, generate_journeys
from parcelwatch.streams.simulation.geography import _AREAS
from parcelwatch.streams.simulation.playback import compress_timeline
from parcelwatch.streams.simulation.raw_payloads import (
    RAW_FORMATS,
    as_raw_payloads,
    render_easypost,
    source_code,
)
from tests.streams.simulation.journeys import NOW, SEASON_END

# Much trouble, so every status and reason the simulator draws is rendered.
TROUBLED = SimulationConfig(
    shipments=300,
    seed=5,
    exception_rate=0.3,
    failed_attempt_rate=0.3,
    return_rate=0.1,
    never_picked_up_rate=0.1,
)
# Statuses EasyPost has no code for, and the one it sends instead.
EASYPOST_NEAREST = {ShipmentStatus.PICKED_UP: ShipmentStatus.IN_TRANSIT}


@pytest.fixture(scope="module", params=[NOW, SEASON_END], ids=["march", "winter"])
def journeys(request) -> list[SimulatedEvent]:
    return generate_journeys(TROUBLED, now=request.param)


def _raw(events: list[SimulatedEvent]) -> list[SimulatedEvent]:
    return [event for event in events if event.topic_kind == "raw"]


def _payload(event: SimulatedEvent) -> RawCarrierPayload:
    assert isinstance(event.event, RawCarrierPayload)
    return event.event


def _simulated_scans(events: list[SimulatedEvent]) -> dict[bytes, list[Scan]]:
    per_parcel: dict[bytes, dict[str, Scan]] = defaultdict(dict)
    for event in events:
        if isinstance(event.event, Scan):
            per_parcel[event.key][event.event.event_id] = event.event
    return {
        key: sorted(scans.values(), key=lambda scan: scan.occurred_at)
        for key, scans in per_parcel.items()
    }


def _normalised(event: SimulatedEvent) -> list[Scan]:
    payload = _payload(event)
    result = scans_from_payload(payload.payload_bytes(), payload.source)
    assert result.errors == () and result.normalized.unmapped == []
    return sorted(result.normalized.scans, key=lambda scan: scan.occurred_at)


def test_every_scan_becomes_a_raw_message_keyed_and_timed_as_the_scan(journeys):
    raw = as_raw_payloads(journeys, "easypost")
    assert [event.topic_kind for event in raw] == [
        "raw" if event.topic_kind == "scan" else event.topic_kind for event in journeys
    ]
    topics = TopicNames()
    for before, after in zip(journeys, raw, strict=True):
        assert (after.key, after.emit_at) == (before.key, before.emit_at)
        if after.topic_kind == "raw":
            payload = _payload(after)
            assert after.topic(topics) == topics.carrier_raw
            assert payload.source is CarrierSource.EASYPOST
            assert payload.received_at == before.emit_at
            assert payload.tracking_number == before.key.decode()
            assert payload.content_type == "application/json"
        else:
            assert after.event is before.event


def test_the_last_history_of_each_parcel_round_trips_through_the_normaliser(journeys):
    simulated = _simulated_scans(journeys)
    last: dict[bytes, SimulatedEvent] = {}
    for event in _raw(as_raw_payloads(journeys, "easypost")):
        last[event.key] = event
    assert last.keys() == simulated.keys()
    seen = Counter()
    for key, event in last.items():
        back = _normalised(event)
        sent = simulated[key]
        assert len(back) == len(sent)
        for got, scan in zip(back, sent, strict=True):
            seen[scan.status] += 1
            assert got.tracking_number == scan.tracking_number == key.decode()
            assert got.status is EASYPOST_NEAREST.get(scan.status, scan.status)
            assert got.occurred_at.astimezone(UTC) == scan.occurred_at.astimezone(UTC).replace(
                microsecond=0
            )
            # the carrier's own code, passed on by EasyPost (without one, EasyPost's status)
            if scan.carrier_status_code is not None:
                assert got.carrier_status_code == scan.carrier_status_code
            assert got.description == scan.description
            assert got.location == scan.location
            if _has_own_code(scan):
                assert got.reason is scan.reason
    # the spread: every kind of trouble was rendered
    assert {
        ShipmentStatus.EXCEPTION,
        ShipmentStatus.ATTEMPT_FAILED,
        ShipmentStatus.RETURNING_TO_SENDER,
        ShipmentStatus.RETURNED_TO_SENDER,
        ShipmentStatus.AVAILABLE_FOR_PICKUP,
        ShipmentStatus.DELIVERED,
        ShipmentStatus.CANCELLED,
    } <= seen.keys()


def _has_own_code(scan: Scan) -> bool:
    """Whether EasyPost has a code for exactly this status and reason."""
    table = mapping_table("easypost").codes
    return any(
        mapping.status is scan.status and mapping.reason is scan.reason
        for mapping in table.values()
    )


def test_resending_the_history_gives_the_same_event_ids(journeys):
    ids_so_far: dict[bytes, set[str]] = defaultdict(set)
    bodies: dict[bytes, set[bytes]] = defaultdict(set)
    for event in _raw(as_raw_payloads(journeys, "easypost")):
        ids = {scan.event_id for scan in _normalised(event)}
        body = _payload(event).payload_bytes()
        if body in bodies[event.key]:  # a redelivered webhook: the same body, nothing new
            assert ids <= ids_so_far[event.key]
            continue
        bodies[event.key].add(body)
        # each new body holds the parcel's whole history so far: the earlier ids again, one new
        assert ids_so_far[event.key] < ids
        assert len(ids - ids_so_far[event.key]) == 1
        ids_so_far[event.key] = ids


def test_a_scan_redelivered_is_the_same_body(journeys):
    raw = as_raw_payloads(journeys, "easypost")
    by_scan: dict[str, set[bytes]] = defaultdict(set)
    for before, after in zip(journeys, raw, strict=True):
        if isinstance(before.event, Scan):
            by_scan[before.event.event_id].add(_payload(after).payload_bytes())
    assert all(len(bodies) == 1 for bodies in by_scan.values())
    sent_twice = Counter(e.event.event_id for e in journeys if isinstance(e.event, Scan))
    assert max(sent_twice.values()) > 1  # the run has redeliveries to check


def test_a_compressed_timeline_renders_with_its_played_times():
    events = generate_journeys(SimulationConfig(shipments=20, seed=3), now=NOW)
    start = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # a week after Europe's clocks went back
    played = compress_timeline(events, factor=5000.0, now=start)
    simulated = _simulated_scans(played)
    last = {event.key: event for event in _raw(as_raw_payloads(played, "easypost"))}
    for key, event in last.items():
        times = [scan.occurred_at.astimezone(UTC) for scan in _normalised(event)]
        assert times == [
            scan.occurred_at.astimezone(UTC).replace(microsecond=0) for scan in simulated[key]
        ]
    with pytest.raises(TypeError):
        compress_timeline(as_raw_payloads(events, "easypost"), factor=2.0, now=start)


@pytest.mark.parametrize(
    ("status", "reason", "code"),
    [
        (ShipmentStatus.INFO_RECEIVED, None, "pre_transit"),
        (ShipmentStatus.PICKED_UP, None, "in_transit"),  # EasyPost has no pick-up status
        (ShipmentStatus.DELIVERED, None, "delivered"),
        (ShipmentStatus.EXCEPTION, ExceptionReason.WEATHER_DELAY, "weather_delay"),
        (ShipmentStatus.EXCEPTION, ExceptionReason.CARRIER_DELAY, "in_transit/delayed"),
        # no customs code: the first exception code without a reason, the words give it
        (ShipmentStatus.EXCEPTION, ExceptionReason.CUSTOMS_DELAY, "transit_exception"),
        (ShipmentStatus.ATTEMPT_FAILED, ExceptionReason.RECIPIENT_UNAVAILABLE, "failure"),
        (ShipmentStatus.RETURNING_TO_SENDER, ExceptionReason.REFUSED, "return_to_sender"),
        (ShipmentStatus.RETURNED_TO_SENDER, None, "return_to_sender/delivered"),
    ],
)
def test_the_code_is_the_first_in_the_table_with_the_status_and_reason(status, reason, code):
    assert source_code("easypost", status, reason) == code
    mapping = mapping_table("easypost").codes[code]
    assert mapping.status is EASYPOST_NEAREST.get(status, status)


def test_an_easypost_body_is_a_tracker_updated_event_with_the_whole_history():
    events = generate_journeys(SimulationConfig(shipments=5, seed=2), now=NOW)
    history = _simulated_scans(events)[events[0].key]
    body = orjson.loads(render_easypost(history, NOW))
    assert (body["object"], body["description"]) == ("Event", "tracker.updated")
    tracker = body["result"]
    assert tracker["object"] == "Tracker"
    assert tracker["tracking_code"] == events[0].key.decode()
    assert len(tracker["tracking_details"]) == len(history)
    assert tracker["status"] == tracker["tracking_details"][-1]["status"]
    assert tracker["updated_at"] == "2026-03-18T15:00:00Z"
    with pytest.raises(ValueError):
        render_easypost([], NOW)


def test_every_source_offered_renders():
    assert set(RAW_FORMATS) == {"easypost"}
    assert all(CarrierSource(name) is fmt.source for name, fmt in RAW_FORMATS.items())


@pytest.mark.parametrize("area", list(_AREAS.values()), ids=lambda area: area.city)
def test_the_zone_data_gives_every_simulated_place_its_own_clock(area):
    # The simulator's areas carry their true zone; the offline zone table must agree (same
    # offsets through the year), or raw payloads' local times would read back shifted.
    name = zone_of_location(Location(area.city, area.region, area.postal[0], area.country))
    assert name is not None
    for month in (1, 4, 7, 10):
        moment = datetime(2026, month, 15, 12, tzinfo=UTC)
        assert (
            moment.astimezone(ZoneInfo(name)).utcoffset()
            == moment.astimezone(area.zone).utcoffset()
        )
