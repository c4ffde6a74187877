"""Parsed histories → scans: ids, order, time zones, estimates and what nothing maps."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from parcelwatch.schemas.codec import NO_MESSAGE_KEY, decode_scan, encode
from parcelwatch.schemas.types import (
    CarrierSource,
    Limits,
    Location,
    ShipmentStatus,
    TimeZoneSource,
)
from parcelwatch.streams.carriers.mapping import mapping_table
from parcelwatch.streams.carriers.model import CarrierEvent, CarrierResponse, TrackingHistory
from parcelwatch.streams.carriers.normalize import UnmappedCode, normalize

SOURCE = CarrierSource.EASYPOST
BERLIN = Location(city="Berlin", postal_code="10115", country="de")


def _history(*events: CarrierEvent, **changes) -> CarrierResponse:
    history = TrackingHistory(
        tracking_number="JJD 0001 2345", carrier="dhl_parcel_de", events=events
    )
    return CarrierResponse(histories=(replace(history, **changes),))


def _normalize(response: CarrierResponse, home: str | None = "Europe/Berlin"):
    return normalize(SOURCE, response, mapping_table(SOURCE.value), home)


def test_events_become_scans_oldest_first_with_local_times_resolved():
    late = CarrierEvent(datetime(2026, 11, 20, 14, 0), code="delivered", location=BERLIN)
    early = CarrierEvent(datetime(2026, 11, 19, 9, 30, tzinfo=UTC), code="in_transit")
    scans = _normalize(_history(late, early)).scans
    assert [scan.status for scan in scans] == [ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED]
    assert scans[0].time_zone is not None
    assert scans[0].time_zone.resolved_by is TimeZoneSource.OFFSET
    assert scans[1].occurred_at.isoformat() == "2026-11-20T14:00:00+01:00"
    assert scans[1].location == Location(city="Berlin", postal_code="10115", country="DE")
    assert {scan.tracking_number for scan in scans} == {"JJD00012345"}  # spaces dropped


def test_ids_depend_on_source_number_time_code_and_place_only():
    event = CarrierEvent(datetime(2026, 11, 20, 14, 0), code="in_transit", location=BERLIN)
    first = _normalize(_history(event)).scans[0]
    reworded = _normalize(_history(replace(event, description="new words"))).scans[0]
    elsewhere = _normalize(_history(replace(event, location=Location(country="FR")))).scans[0]
    later = _normalize(_history(replace(event, occurred_at=datetime(2026, 11, 20, 14, 1)))).scans[0]
    assert first.event_id == reworded.event_id
    assert len({first.event_id, elsewhere.event_id, later.event_id}) == 3


def test_a_date_only_estimate_is_the_end_of_that_day_at_the_destination():
    events = (
        CarrierEvent(datetime(2026, 11, 18, 8, 0), code="in_transit", location=BERLIN),
        CarrierEvent(datetime(2026, 11, 19, 8, 0), code="in_transit", location=BERLIN),
    )
    response = _history(
        *events,
        estimated_delivery=date(2026, 11, 21),
        destination=Location(country="US", region="CA"),
    )
    scans = _normalize(response).scans
    assert scans[0].estimated_delivery is None
    assert scans[1].estimated_delivery is not None
    assert scans[1].estimated_delivery.isoformat() == "2026-11-21T23:59:59-08:00"


def test_an_estimate_years_away_from_the_newest_event_is_dropped_and_the_scan_stays_valid():
    newest = CarrierEvent(datetime(2026, 4, 6, 16, 0), code="delivered", location=BERLIN)
    limits = Limits()
    for estimate, kept in ((date(2022, 11, 8), False), (date(2025, 11, 8), True)):
        [scan] = _normalize(_history(newest, estimated_delivery=estimate)).scans
        assert (scan.estimated_delivery is not None) is kept
        decoded = decode_scan(encode(scan), key=NO_MESSAGE_KEY, now=scan.occurred_at, limits=limits)
        assert decoded.status is ShipmentStatus.DELIVERED


def test_what_nothing_maps_stays_with_its_code_and_words_and_is_reported():
    event = CarrierEvent(datetime(2026, 11, 20, 14, 0), code="ZZ", description="Beamed up")
    result = _normalize(_history(event))
    [scan] = result.scans
    assert (scan.status, scan.carrier_status_code, scan.description) == (
        ShipmentStatus.UNKNOWN,
        "ZZ",
        "Beamed up",
    )
    assert result.unmapped == [UnmappedCode("ZZ", "Beamed up")]


def test_without_a_zone_or_home_a_local_time_is_read_as_utc():
    event = CarrierEvent(datetime(2026, 11, 20, 14, 0), code="in_transit")
    [scan] = _normalize(_history(event), home=None).scans
    assert scan.time_zone is not None and scan.time_zone.resolved_by is TimeZoneSource.UTC
    assert scan.occurred_at.utcoffset() is not None and scan.occurred_at.hour == 14


def test_overlong_carrier_texts_are_cut_to_the_contract():
    event = CarrierEvent(
        datetime(2026, 11, 20, 14, 0), code="C" * 80, description="word " * 400, signer="S" * 300
    )
    [scan] = _normalize(_history(event)).scans
    assert scan.carrier_status_code is not None and len(scan.carrier_status_code) == 64
    assert scan.description is not None and len(scan.description) == 1000
    assert scan.signer is not None and len(scan.signer) == 200
