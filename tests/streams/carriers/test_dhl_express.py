"""DHL Express (MyDHL API and the unified Shipment Tracking API) → scans
(payloads: tests/data/carriers/dhl_express)."""

from __future__ import annotations

from datetime import date

import pytest

from parcelwatch.schemas.types import ExceptionReason, ShipmentStatus, TimeZoneSource
from parcelwatch.streams.carriers.model import PayloadError
from parcelwatch.streams.carriers.reading import scans_from_payload
from tests.streams.carriers.conftest import assert_error_answer, payload, read

SOURCE = "dhl_express"


def _of(scans, number):
    return [scan for scan in scans if scan.tracking_number == number]


def test_a_mydhl_journey_is_delivered_with_signer_and_estimate():
    scans = read(SOURCE, "constructed_mydhl_delivered_and_not_home.json").normalized.scans
    journey = _of(scans, "1234567890")
    assert [scan.carrier_status_code for scan in journey] == ["PU", "PL", "DF", "AF", "WC", "OK"]
    assert [scan.status for scan in journey] == [
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    ]
    picked_up, arrived, delivered = journey[0], journey[3], journey[-1]
    # "Brisbane-AU", "Leipzig-DE": the service area names the place; its zone reads the time.
    assert picked_up.location is not None
    assert (picked_up.location.city, picked_up.location.country) == ("Brisbane", "AU")
    assert delivered.time_zone is not None
    assert delivered.time_zone.resolved_by is TimeZoneSource.LOCATION
    assert delivered.occurred_at.isoformat() == "2020-06-12T13:44:00+02:00"
    # GMTOffset written: taken as is.
    assert arrived.time_zone is not None and arrived.time_zone.resolved_by is TimeZoneSource.OFFSET
    assert arrived.occurred_at.isoformat() == "2020-06-12T05:02:00+02:00"
    assert delivered.signer == "Mr.Grey"
    assert all(scan.signer is None for scan in journey[:-1])
    assert delivered.estimated_delivery is not None
    assert delivered.estimated_delivery.date() == date(2020, 6, 12)
    # The piece is its own history under its licence plate.
    [piece] = _of(scans, "JD014600006540000001")
    assert piece.status is ShipmentStatus.DELIVERED


def test_a_mydhl_not_home_is_a_failed_attempt_in_the_us_state_zone():
    scans = read(SOURCE, "constructed_mydhl_delivered_and_not_home.json").normalized.scans
    attempt = _of(scans, "1234567891")[-1]
    assert (attempt.status, attempt.reason) == (
        ShipmentStatus.ATTEMPT_FAILED,
        ExceptionReason.RECIPIENT_UNAVAILABLE,
    )
    assert attempt.location is not None
    assert (attempt.location.city, attempt.location.region) == ("Cincinnati Hub", "OH")
    assert attempt.time_zone is not None and attempt.time_zone.zone == "America/New_York"


def test_a_clearance_delay_then_a_return_and_an_unlisted_code_kept():
    result = read(SOURCE, "constructed_mydhl_clearance_delay_return.json")
    scans = result.normalized.scans
    delay, back, unlisted = scans[1], scans[2], scans[3]
    assert (delay.status, delay.reason) == (ShipmentStatus.EXCEPTION, ExceptionReason.CUSTOMS_DELAY)
    assert back.status is ShipmentStatus.RETURNING_TO_SENDER
    assert back.return_to_sender is True
    assert (unlisted.status, unlisted.carrier_status_code) == (ShipmentStatus.UNKNOWN, "ZZ")
    assert [item.code for item in result.normalized.unmapped] == ["ZZ"]


def test_a_unified_journey_finds_out_for_delivery_in_the_words():
    scans = read(SOURCE, "constructed_unified_express_delivered.json").normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.INFO_RECEIVED,
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    ]
    assert [scan.carrier_status_code for scan in scans[-2:]] == ["transit", "delivered"]
    delivered = scans[-1]
    assert {scan.carrier for scan in scans} == {"dhl_express"}
    assert delivered.signer == "J. DE VRIES"
    assert delivered.occurred_at.isoformat() == "2026-02-04T14:05:00+01:00"  # Amsterdam
    assert scans[0].occurred_at.isoformat() == "2026-02-03T10:02:00+00:00"  # London
    assert delivered.estimated_delivery is not None


def test_a_unified_return_is_returning_then_returned_for_the_parcel_carrier():
    scans = read(SOURCE, "constructed_unified_return_delivered.json").normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.RETURNING_TO_SENDER,
        ShipmentStatus.RETURNED_TO_SENDER,
    ]
    assert scans[-1].return_to_sender is True
    assert {scan.carrier for scan in scans} == {"dhl_parcel_de"}
    # addressLocality "Germany" is the country, not a town; Berlin time.
    location = scans[-1].location
    assert location is not None and (location.city, location.country) == (None, "DE")
    assert scans[-1].occurred_at.isoformat() == "2023-10-26T12:08:00+02:00"


def test_a_unified_failure_takes_its_reason_from_the_words():
    [scan] = read(SOURCE, "constructed_unified_failure.json").normalized.scans
    assert (scan.status, scan.reason) == (ShipmentStatus.EXCEPTION, ExceptionReason.ADDRESS_ISSUE)
    assert scan.carrier_status_code == "failure"


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [
        ("error_mydhl_no_data_found.json", "404", "No data found"),
        ("error_mydhl_missing_parameter.json", "400", "shipperAccountNumber"),
        ("constructed_unified_error_not_found.json", "404", "No shipment with given tracking"),
    ],
)
def test_an_error_body_gives_the_code_and_words_and_no_scans(name, code, words):
    assert_error_answer(SOURCE, name, code, words)


@pytest.mark.parametrize(
    "name",
    [
        "constructed_mydhl_delivered_and_not_home.json",
        "constructed_unified_return_delivered.json",
        "constructed_unified_express_delivered.json",
        "error_mydhl_no_data_found.json",
    ],
)
def test_dhl_payloads_are_recognised(name):
    assert read(SOURCE, name, named=False).source.value == SOURCE


def test_a_shipment_without_a_number_is_a_payload_error():
    body = payload(SOURCE, "constructed_mydhl_clearance_delay_return.json").replace(
        b'"shipmentTrackingNumber"', b'"waybill"'
    )
    with pytest.raises(PayloadError, match="shipmentTrackingNumber or id"):
        scans_from_payload(body, SOURCE)


@pytest.mark.parametrize(
    "body", [b"[]", b'{"trackInfo": []}', b'{"shipments": [{"id": "1", "events": [{}]}]}']
)
def test_a_shape_dhl_does_not_document_is_a_payload_error(body):
    with pytest.raises(PayloadError):
        scans_from_payload(body, SOURCE)
