"""EasyPost Trackers and webhook Events → scans (payloads: tests/data/carriers/easypost)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from parcelwatch.schemas.types import (
    DeliveryLocationKind,
    ExceptionReason,
    ShipmentStatus,
    TimeZoneSource,
)
from parcelwatch.streams.carriers.model import PayloadError
from parcelwatch.streams.carriers.reading import scans_from_payload
from tests.streams.carriers.conftest import payload, read

SOURCE = "easypost"


def test_the_published_tracker_reads_as_two_pre_transit_scans():
    result = read(SOURCE, "tracker_retrieve.json")
    scans = result.normalized.scans
    assert [scan.status for scan in scans] == [ShipmentStatus.INFO_RECEIVED] * 2
    assert {scan.tracking_number for scan in scans} == {"9461200106068143633117"}
    assert {scan.carrier for scan in scans} == {"usps"}
    first, second = scans
    # No location: the Z is UTC. Houston: the Z is the wall clock, read in Central time.
    assert first.time_zone is not None and first.time_zone.resolved_by is TimeZoneSource.OFFSET
    assert first.occurred_at == datetime(2022, 9, 17, 17, 18, 8, tzinfo=ZoneInfo("UTC"))
    assert second.time_zone is not None
    assert second.time_zone.resolved_by is TimeZoneSource.LOCATION
    assert second.time_zone.zone == "America/Chicago"
    assert second.occurred_at.utcoffset() is not None
    assert second.occurred_at.isoformat() == "2022-09-18T05:55:08-05:00"
    assert second.location is not None and second.location.country == "US"
    assert second.description == "Shipping Label Created"
    assert result.normalized.unmapped == []


def test_a_delivered_webhook_carries_signer_place_and_estimate():
    scans = read(SOURCE, "constructed_webhook_delivered.json").normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.INFO_RECEIVED,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    ]
    delivered = scans[-1]
    assert delivered.signer == "JSMITH"
    assert delivered.delivery_location is not None
    assert delivered.delivery_location.kind is DeliveryLocationKind.FRONT_DOOR
    assert delivered.estimated_delivery is not None
    assert all(scan.signer is None for scan in scans[:-1])
    assert delivered.occurred_at.isoformat() == "2026-11-19T13:42:00-07:00"  # Denver


def test_a_failed_attempt_keeps_the_carriers_own_code_and_finds_the_reason():
    scan = read(SOURCE, "constructed_tracker_failure.json").normalized.scans[-1]
    assert scan.status is ShipmentStatus.ATTEMPT_FAILED
    assert scan.reason is ExceptionReason.RECIPIENT_UNAVAILABLE
    assert scan.carrier_status_code == "DE"
    assert scan.carrier == "fedex"


def test_a_weather_exception_has_its_reason_from_the_code():
    scan = read(SOURCE, "constructed_tracker_weather_exception.json").normalized.scans[-1]
    assert (scan.status, scan.reason) == (ShipmentStatus.EXCEPTION, ExceptionReason.WEATHER_DELAY)


def test_a_return_is_flagged():
    scan = read(SOURCE, "constructed_tracker_return.json").normalized.scans[-1]
    assert scan.status is ShipmentStatus.RETURNING_TO_SENDER
    assert scan.return_to_sender is True


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("error_address_verify.json", "ADDRESS.VERIFY.FAILURE"),
        ("constructed_error_tracker_not_found.json", "NOT_FOUND"),
    ],
)
def test_an_error_body_gives_the_code_and_words_and_no_scans(name, code):
    result = read(SOURCE, name)
    assert result.normalized.scans == []
    [error] = result.errors
    assert error.code == code
    assert error.message


def test_an_event_about_something_else_gives_nothing():
    result = read(SOURCE, "webhook_batch_created.json")
    assert (result.normalized.scans, result.errors, result.histories) == ([], (), 0)


@pytest.mark.parametrize(
    "name",
    [
        "tracker_retrieve.json",
        "trackers_create.json",
        "constructed_webhook_delivered.json",
        "constructed_tracker_failure.json",
    ],
)
def test_easypost_payloads_are_recognised(name):
    assert read(SOURCE, name, named=False).source.value == SOURCE


def test_a_tracker_without_a_tracking_code_is_a_payload_error():
    body = payload(SOURCE, "tracker_retrieve.json").replace(b'"tracking_code"', b'"code"')
    with pytest.raises(PayloadError, match="tracking_code"):
        scans_from_payload(body, SOURCE)
