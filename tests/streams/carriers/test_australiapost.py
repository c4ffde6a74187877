"""Australia Post track answers → scans (payloads: tests/data/carriers/australiapost)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parcelwatch.schemas.types import (
    DeliveryLocationKind,
    ExceptionReason,
    Location,
    ShipmentStatus,
    TimeZoneSource,
)
from parcelwatch.streams.carriers.mapping import mapping_table
from parcelwatch.streams.carriers.model import PayloadError
from parcelwatch.streams.carriers.reading import scans_from_payload
from tests.streams.carriers.conftest import payload, read

SOURCE = "australiapost"


def test_a_delivered_journey_is_mapped_from_the_words_alone():
    result = read(SOURCE, "constructed_track_delivered_safe_place.json")
    scans = result.normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.INFO_RECEIVED,
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    ]
    assert {scan.tracking_number for scan in scans} == {"33LUD5000123"}  # the number asked
    assert all(scan.carrier_status_code is None for scan in scans)  # no codes: words only
    delivered = scans[-1]
    assert delivered.delivery_location is not None
    assert delivered.delivery_location.kind is DeliveryLocationKind.SAFE_PLACE
    assert delivered.location == Location("ALEXANDRIA", "NSW", None, "AU")
    assert delivered.time_zone is not None
    assert delivered.time_zone.resolved_by is TimeZoneSource.OFFSET
    assert delivered.occurred_at.astimezone(UTC) == datetime(2026, 11, 18, 2, 5, 22, tzinfo=UTC)
    assert scans[0].location is None
    assert scans[1].delivery_location is None
    assert result.normalized.unmapped == []


def test_each_article_is_its_own_parcel_and_the_unknown_id_is_an_error():
    result = read(SOURCE, "constructed_track_multi_articles_and_error.json")
    by_number: dict[str, list[ShipmentStatus]] = {}
    for scan in result.normalized.scans:
        by_number.setdefault(scan.tracking_number, []).append(scan.status)
    assert by_number == {
        "2JD5418133010001": [ShipmentStatus.ATTEMPT_FAILED, ShipmentStatus.AVAILABLE_FOR_PICKUP],
        "2JD5418133010002": [ShipmentStatus.IN_TRANSIT],
    }
    failed = result.normalized.scans[0]
    assert failed.reason is ExceptionReason.RECIPIENT_UNAVAILABLE
    transit = next(scan for scan in result.normalized.scans if scan.tracking_number.endswith("2"))
    assert transit.location == Location("BRISBANE", "QLD", "4000", "AU")
    [error] = result.errors
    assert (error.code, error.message, error.tracking_number) == (
        "ESB-10001",
        "Invalid tracking ID",
        "7XX1000634011427",
    )
    assert result.histories == 2


def test_a_return_goes_back_and_reaches_the_sender():
    scans = read(SOURCE, "constructed_track_return.json").normalized.scans
    undeliverable, returning, returned = scans
    assert (undeliverable.status, undeliverable.reason) == (
        ShipmentStatus.EXCEPTION,
        ExceptionReason.ADDRESS_ISSUE,
    )
    assert returning.status is ShipmentStatus.RETURNING_TO_SENDER
    assert returned.status is ShipmentStatus.RETURNED_TO_SENDER
    assert returning.return_to_sender is returned.return_to_sender is True
    assert returned.delivery_location is None  # the sender is not a delivery place


def test_startrack_items_exceptions_and_words_nobody_maps():
    result = read(SOURCE, "constructed_startrack_consignment.json")
    picked, held, delay, unknown = result.normalized.scans
    assert {scan.tracking_number for scan in result.normalized.scans} == {"ABCZ00012345"}
    assert picked.status is ShipmentStatus.PICKED_UP
    assert (held.status, held.reason) == (ShipmentStatus.EXCEPTION, ExceptionReason.OTHER)
    assert (delay.status, delay.reason) == (ShipmentStatus.EXCEPTION, ExceptionReason.CARRIER_DELAY)
    # Never dropped: unknown, the words kept and counted.
    assert unknown.status is ShipmentStatus.UNKNOWN
    assert unknown.description == "Parcel tumbled through a wormhole"
    assert [item.description for item in result.normalized.unmapped] == [unknown.description]
    # No offset and a place without a state: Australia Post's home zone.
    assert unknown.time_zone is not None
    assert unknown.time_zone.resolved_by is TimeZoneSource.CARRIER_HOME
    assert unknown.time_zone.zone == "Australia/Sydney"
    assert unknown.occurred_at.isoformat() == "2026-10-09T06:10:00+11:00"


@pytest.mark.parametrize(
    ("words", "status"),
    [
        ("Leave in a safe place requested by Receiver", ShipmentStatus.IN_TRANSIT),
        ("With Australia Post for delivery today", ShipmentStatus.OUT_FOR_DELIVERY),
        ("Delivered to parcel locker", ShipmentStatus.DELIVERED),
        ("Shipping information received by Australia Post", ShipmentStatus.INFO_RECEIVED),
        ("Arrived at facility in CHULLORA NSW", ShipmentStatus.IN_TRANSIT),
        ("Item awaiting collection at Post Office", ShipmentStatus.AVAILABLE_FOR_PICKUP),
        ("Delivery delayed due to severe weather", ShipmentStatus.EXCEPTION),
    ],
)
def test_australia_post_phrasings_map_by_their_words(words, status):
    assert mapping_table(SOURCE).lookup((words,), words).mapping.status is status


def test_an_authentication_error_gives_the_gateway_code_and_words():
    result = read(SOURCE, "constructed_error_authentication.json")
    assert result.normalized.scans == []
    [error] = result.errors
    assert error.code == "API_001"
    assert "failed authentication" in error.message


@pytest.mark.parametrize(
    "name",
    [
        "constructed_track_delivered_safe_place.json",
        "constructed_track_multi_articles_and_error.json",
        "constructed_startrack_consignment.json",
    ],
)
def test_australia_post_payloads_are_recognised(name):
    assert read(SOURCE, name, named=False).source.value == SOURCE


@pytest.mark.parametrize(
    "body",
    [
        b'{"results": []}',
        b"[]",
        payload(SOURCE, "constructed_track_return.json").replace(b'"date"', b'"when"'),
    ],
)
def test_other_shapes_are_payload_errors(body):
    with pytest.raises(PayloadError):
        scans_from_payload(body, SOURCE)
