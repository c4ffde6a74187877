"""FedEx Track API responses and AIV webhook pushes → scans (tests/data/carriers/fedex)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
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
from tests.streams.carriers.conftest import PAYLOADS, assert_error_answer, payload, read

SOURCE = "fedex"
CENTRAL = timezone(timedelta(hours=-6))


def test_a_delivered_journey_carries_signer_place_and_estimate():
    result = read(SOURCE, "constructed_delivered_and_not_found.json")
    scans = result.normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.INFO_RECEIVED,
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    ]
    delivered = scans[-1]
    assert delivered.occurred_at == datetime(2026, 11, 18, 10, 41, tzinfo=CENTRAL)
    assert delivered.time_zone is not None
    assert delivered.time_zone.resolved_by is TimeZoneSource.OFFSET
    assert delivered.signer == "R.SMITH"
    assert delivered.delivery_location is not None
    assert delivered.delivery_location.kind is DeliveryLocationKind.RECEPTION
    assert delivered.delivery_location.description == "Receptionist/Front Desk"
    assert delivered.location is not None and delivered.location.postal_code == "38116"
    # The estimate is a day (midnight, no offset): the end of it at the recipient (Memphis).
    assert delivered.estimated_delivery == datetime(
        2026, 11, 18, 23, 59, 59, tzinfo=ZoneInfo("America/Chicago")
    )
    assert result.normalized.unmapped == []


def test_a_per_number_error_inside_the_200_is_an_error_beside_the_answered_number():
    result = read(SOURCE, "constructed_delivered_and_not_found.json")
    [error] = result.errors
    assert error.code == "TRACKING.TRACKINGNUMBER.NOTFOUND"
    assert error.tracking_number == "123456789012"
    assert {scan.tracking_number for scan in result.normalized.scans} == {"122816215025810"}


def test_a_failed_attempt_then_a_hold_at_a_fedex_office():
    attempt, held = read(SOURCE, "constructed_failed_attempt_then_hold.json").normalized.scans
    assert (attempt.status, attempt.reason) == (
        ShipmentStatus.ATTEMPT_FAILED,
        ExceptionReason.RECIPIENT_UNAVAILABLE,
    )
    assert attempt.carrier_status_code == "DE/07"  # "07" found as the documented 007
    assert attempt.description == "Delivery exception: Customer not available or business closed"
    assert held.status is ShipmentStatus.AVAILABLE_FOR_PICKUP
    assert held.pickup_point is not None
    assert held.pickup_point.id == "DALSP"
    assert held.pickup_point.name == "FedEx Office Print & Ship Center"
    assert held.pickup_point.location is not None
    assert held.pickup_point.location.postal_code == "75201"


def test_exception_codes_make_an_address_problem_and_a_customs_delay():
    address, clearance = read(
        SOURCE, "constructed_address_and_clearance_exceptions.json"
    ).normalized.scans
    assert (address.tracking_number, address.status, address.reason) == (
        "797615467620",
        ShipmentStatus.EXCEPTION,
        ExceptionReason.ADDRESS_ISSUE,
    )
    assert (clearance.status, clearance.reason) == (
        ShipmentStatus.EXCEPTION,
        ExceptionReason.CUSTOMS_DELAY,
    )
    assert clearance.carrier_status_code == "CD/A25"
    assert clearance.location is not None and clearance.location.country == "FR"
    assert clearance.occurred_at.utcoffset() == timedelta(hours=1)


def test_a_return_is_flagged():
    [scan] = read(SOURCE, "constructed_return_to_shipper.json").normalized.scans
    assert scan.status is ShipmentStatus.RETURNING_TO_SENDER
    assert scan.return_to_sender is True


def test_a_webhook_push_reads_codes_with_their_webhook_meaning():
    [scan] = read(SOURCE, "constructed_webhook_delivery_updated.json").normalized.scans
    # DY is "Delivery updated" in the webhook table, "Delay" in the Track API table.
    assert scan.status is ShipmentStatus.IN_TRANSIT
    assert scan.estimated_delivery is not None
    body = json.loads(payload(SOURCE, "constructed_webhook_delivery_updated.json"))
    del body["outputMetaData"]
    [as_track] = scans_from_payload(json.dumps(body).encode(), SOURCE).normalized.scans
    assert (as_track.status, as_track.reason) == (
        ShipmentStatus.EXCEPTION,
        ExceptionReason.CARRIER_DELAY,
    )


@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        ("error_400_tracking_number_empty.json", "TRACKING.TRACKINGNUMBER.EMPTY",
         "Please provide tracking number."),
        ("error_401_not_authorized.json", "NOT.AUTHORIZED.ERROR",
         "Access token expired. Please modify your request and try again."),
        ("error_403_forbidden.json", "FORBIDDEN.ERROR",
         "We could not authorize your credentials. Please check your permissions and try again."),
    ],
)  # fmt: skip
def test_an_error_body_gives_the_code_and_words_and_no_scans(name, code, message):
    assert_error_answer(SOURCE, name, code, message)


@pytest.mark.parametrize("path", sorted((PAYLOADS / SOURCE).glob("*.json")), ids=lambda p: p.name)
def test_fedex_payloads_are_recognised(path):
    assert read(SOURCE, path.name, named=False).source.value == SOURCE


def test_an_unknown_code_is_kept_as_unknown_never_dropped():
    body = json.loads(payload(SOURCE, "constructed_return_to_shipper.json"))
    event = body["output"]["completeTrackResults"][0]["trackResults"][0]["scanEvents"][0]
    event.update(eventType="ZZ", eventDescription="Parcel teleported")
    result = scans_from_payload(json.dumps(body).encode(), SOURCE)
    [scan] = result.normalized.scans
    assert (scan.status, scan.carrier_status_code) == (ShipmentStatus.UNKNOWN, "ZZ")
    assert [entry.code for entry in result.normalized.unmapped] == ["ZZ"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"output": {"completeTrackResults": [{"trackResults": [{"scanEvents": []}]}]}}',
        b'{"output": {"alerts": []}}',
        b'{"output": {"completeTrackResults": [{"trackingNumber": "1", "trackResults": '
        b'[{"scanEvents": [{"eventType": "PU"}]}]}]}}',
    ],
)
def test_a_shape_fedex_does_not_document_is_a_payload_error(body):
    with pytest.raises(PayloadError):
        scans_from_payload(body, SOURCE)
