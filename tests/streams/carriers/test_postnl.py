"""PostNL Shipping Status → scans (payloads: tests/data/carriers/postnl)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from parcelwatch.schemas.types import (
    DeliveryLocationKind,
    ExceptionReason,
    ShipmentStatus,
    TimeZoneSource,
)
from parcelwatch.streams.carriers.model import PayloadError
from parcelwatch.streams.carriers.reading import scans_from_payload
from tests.streams.carriers.conftest import assert_error_answer, payload, read

SOURCE = "postnl"


def test_the_published_complete_status_reads_as_four_scans_in_amsterdam_time():
    result = read(SOURCE, "complete_status_out_for_delivery.json")
    scans = result.normalized.scans
    assert [scan.carrier_status_code for scan in scans] == ["A01", "B01", "J01", "J05"]
    assert [scan.status for scan in scans] == [
        ShipmentStatus.INFO_RECEIVED,
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
    ]
    newest = scans[-1]
    assert newest.time_zone is not None
    assert newest.time_zone.resolved_by is TimeZoneSource.CARRIER_HOME
    assert newest.time_zone.zone == "Europe/Amsterdam"
    assert newest.occurred_at.isoformat() == "2022-11-08T10:13:20+01:00"
    assert newest.location is None  # PostNL gives depot numbers, not places
    # Expectation.ETATo, local to the receiver in Utrecht.
    assert newest.estimated_delivery is not None
    assert newest.estimated_delivery.isoformat() == "2022-11-08T16:50:00+01:00"
    assert result.normalized.unmapped == []


def test_multicollo_lists_and_single_objects_are_both_read():
    result = read(SOURCE, "complete_status_multicollo.json")
    scans = result.normalized.scans
    assert sorted(scan.tracking_number for scan in scans) == ["3SDEVC5672025", "3SDEVC7755088"]
    assert {scan.carrier_status_code for scan in scans} == {"A01"}
    assert {scan.description for scan in scans} == {
        "Pakket is nog niet door PostNL ontvangen of verwerkt"
    }
    # DeliveryDate absent: no estimate.
    assert all(scan.estimated_delivery is None for scan in scans)


def test_a_current_status_without_events_becomes_one_status_scan():
    [scan] = read(SOURCE, "constructed_current_status.json").normalized.scans
    assert (scan.carrier_status_code, scan.status) == ("status:7", ShipmentStatus.OUT_FOR_DELIVERY)
    # No Expectation: the DeliveryDate is the estimate, by the end of that day.
    assert scan.estimated_delivery is not None
    assert scan.estimated_delivery.date() == date(2022, 11, 8)


def test_the_updated_shipments_feed_gives_one_scan_per_barcode():
    result = read(SOURCE, "updated_shipments.json")
    scans = result.normalized.scans
    assert result.histories == 4
    assert {scan.tracking_number for scan in scans} == {
        "3SDEVC2260332157",
        "3SDEVC775533088",
        "3SDEVC563372025",
        "3SDEVC336510881",
    }
    sorted_scan = next(scan for scan in scans if scan.tracking_number == "3SDEVC2260332157")
    assert sorted_scan.status is ShipmentStatus.IN_TRANSIT
    assert sorted_scan.occurred_at.replace(tzinfo=None) == datetime(2022, 11, 8, 2, 17, 49)


def test_a_delivery_to_the_neighbour_says_where():
    scans = read(SOURCE, "constructed_delivered_to_neighbour.json").normalized.scans
    delivered = scans[-1]
    assert delivered.status is ShipmentStatus.DELIVERED
    assert delivered.delivery_location is not None
    assert delivered.delivery_location.kind is DeliveryLocationKind.NEIGHBOUR
    assert [scan.status for scan in scans[:-1]] == [
        ShipmentStatus.INFO_RECEIVED,
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
    ]
    assert delivered.occurred_at.isoformat() == "2026-03-27T14:02:11+01:00"


def test_a_failed_attempt_after_the_clocks_went_back():
    scan = read(SOURCE, "constructed_failed_attempt.json").normalized.scans[-1]
    assert (scan.status, scan.carrier_status_code) == (ShipmentStatus.ATTEMPT_FAILED, "J08")
    assert scan.occurred_at.isoformat() == "2026-10-27T11:20:00+01:00"


def test_a_refusal_returns_the_parcel_and_the_return_is_delivered():
    scans = read(SOURCE, "constructed_refused_return.json").normalized.scans
    refused, back = scans[1], scans[2]
    assert (refused.status, refused.reason) == (
        ShipmentStatus.RETURNING_TO_SENDER,
        ExceptionReason.REFUSED,
    )
    assert refused.return_to_sender is True
    assert back.status is ShipmentStatus.RETURNED_TO_SENDER
    assert back.return_to_sender is True


def test_a_missing_shipment_is_a_lost_exception():
    scan = read(SOURCE, "constructed_shipment_missing.json").normalized.scans[-1]
    assert (scan.status, scan.reason) == (ShipmentStatus.EXCEPTION, ExceptionReason.LOST)


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [
        ("error_no_shipment_found.json", "2", "No shipment found"),
        ("constructed_error_fault.json", "Validation Fault", "no barcode supplied in path"),
        ("constructed_error_unauthorized.json", "401", "Failed to resolve API Key"),
    ],
)
def test_an_error_body_gives_the_code_and_words_and_no_scans(name, code, words):
    assert_error_answer(SOURCE, name, code, words)


@pytest.mark.parametrize(
    "name",
    [
        "complete_status_out_for_delivery.json",
        "complete_status_multicollo.json",
        "constructed_current_status.json",
        "updated_shipments.json",
        "error_no_shipment_found.json",
    ],
)
def test_postnl_payloads_are_recognised(name):
    assert read(SOURCE, name, named=False).source.value == SOURCE


def test_an_unknown_code_is_kept_as_unknown():
    body = payload(SOURCE, "constructed_failed_attempt.json").replace(b'"J08"', b'"Q99"')
    result = scans_from_payload(body, SOURCE)
    scan = result.normalized.scans[-1]
    assert (scan.status, scan.carrier_status_code) == (ShipmentStatus.UNKNOWN, "Q99")
    assert [item.code for item in result.normalized.unmapped] == ["Q99"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"parcels": []}',
        b'{"CompleteStatus": {"Shipment": {"Event": []}}}',
        b'{"CompleteStatus": {"Shipment": {"Barcode": "3S1", "Event": {"Code": "J01"}}}}',
        b'{"CompleteStatus": {"Shipment": {"Barcode": "3S1", "Event": {"TimeStamp": "8 Nov"}}}}',
    ],
)
def test_a_shape_postnl_does_not_document_is_a_payload_error(body):
    with pytest.raises(PayloadError):
        scans_from_payload(body, SOURCE)
