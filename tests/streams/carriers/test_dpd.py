"""DPD Tracking Push and ParcelLifeCycle answers → scans (payloads: tests/data/carriers/dpd)."""

from __future__ import annotations

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

SOURCE = "dpd"


def test_the_documented_push_is_out_for_delivery_in_berlin_time():
    [scan] = read(SOURCE, "push_delivery_carload.json").normalized.scans
    assert (scan.tracking_number, scan.status, scan.carrier_status_code) == (
        "01476810375209",
        ShipmentStatus.OUT_FOR_DELIVERY,
        "delivery_carload",
    )
    assert scan.time_zone is not None
    assert scan.time_zone.resolved_by is TimeZoneSource.CARRIER_HOME
    assert scan.occurred_at.isoformat() == "2014-07-09T09:51:00+02:00"


def test_a_journey_of_pushes_with_a_failed_attempt_and_the_receiver():
    scans = read(SOURCE, "constructed_push_journey.json").normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.INFO_RECEIVED,
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.ATTEMPT_FAILED,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    ]
    assert scans[5].reason is ExceptionReason.RECIPIENT_UNAVAILABLE
    assert scans[-1].signer == "MUELLER"
    assert all(scan.signer is None for scan in scans[:-1])
    assert len({scan.event_id for scan in scans}) == len(scans)


def test_an_uncollected_parcelshop_parcel_goes_back():
    scans = read(SOURCE, "constructed_push_return.json").normalized.scans
    shop, uncollected, back = scans
    assert shop.status is ShipmentStatus.AVAILABLE_FOR_PICKUP
    assert shop.delivery_location is not None
    assert shop.delivery_location.kind is DeliveryLocationKind.PICKUP_POINT
    assert (uncollected.status, uncollected.reason) == (
        ShipmentStatus.EXCEPTION,
        ExceptionReason.RECIPIENT_UNAVAILABLE,
    )
    assert back.status is ShipmentStatus.RETURNING_TO_SENDER
    assert back.return_to_sender is True


def test_a_delivery_notification_is_an_address_exception():
    [scan] = read(SOURCE, "constructed_push_notification.json").normalized.scans
    assert (scan.status, scan.reason) == (ShipmentStatus.EXCEPTION, ExceptionReason.ADDRESS_ISSUE)


def test_a_soap_lifecycle_reads_display_dates_and_places():
    scans = read(SOURCE, "constructed_plc_soap_delivered.xml").normalized.scans
    assert [scan.carrier_status_code for scan in scans] == [
        "SHIPMENT",
        "ACCEPTED",
        "AT_DELIVERY_DEPOT",
        "DELIVERED",
    ]
    assert scans[-1].status is ShipmentStatus.DELIVERED
    delivered = scans[-1]
    assert delivered.location is not None
    assert (delivered.location.city, delivered.location.country) == ("Leeds", "GB")
    assert delivered.time_zone is not None and delivered.time_zone.zone == "Europe/London"
    assert delivered.occurred_at.isoformat() == "2021-07-30T09:54:00+01:00"
    assert scans[1].occurred_at.hour == 18  # "6:30:00 PM"
    assert scans[1].description == "The parcel has been handed to DPD."


def test_a_rest_lifecycle_failure_is_read_from_its_error_items():
    scans = read(SOURCE, "constructed_plc_rest_failure.json").normalized.scans
    assert [scan.carrier_status_code for scan in scans] == [
        "PickedUp",
        "Courier",
        "DeliveryFailure",
    ]
    failure = scans[-1]
    assert (failure.status, failure.reason) == (
        ShipmentStatus.ATTEMPT_FAILED,
        ExceptionReason.RECIPIENT_UNAVAILABLE,
    )
    assert failure.description == "Not at home: we will try again on the next working day."
    assert failure.occurred_at.isoformat() == "2026-03-17T12:44:00+01:00"


def test_a_milestone_with_error_items_is_an_exception():
    body = payload(SOURCE, "constructed_plc_rest_failure.json").replace(
        b'"status": "DeliveryFailure"', b'"status": "Depot"'
    )
    scan = scans_from_payload(body, SOURCE).normalized.scans[-1]
    assert (scan.status, scan.carrier_status_code) == (ShipmentStatus.EXCEPTION, "Depot")


def test_a_soap_fault_gives_the_code_and_words_and_no_scans():
    assert_error_answer(
        SOURCE,
        "constructed_soap_fault.xml",
        "LOGIN_5",
        "The given authentication token is invalid.",
    )


@pytest.mark.parametrize(
    "name",
    [
        "push_delivery_carload.json",
        "constructed_push_journey.json",
        "constructed_plc_soap_delivered.xml",
        "constructed_plc_rest_failure.json",
        "constructed_soap_fault.xml",
    ],
)
def test_dpd_payloads_are_recognised(name):
    assert read(SOURCE, name, named=False).source.value == SOURCE


def test_a_resent_push_gives_the_same_id():
    once = read(SOURCE, "push_delivery_carload.json").normalized.scans
    again = read(SOURCE, "push_delivery_carload.json").normalized.scans
    assert [scan.event_id for scan in once] == [scan.event_id for scan in again]


def test_an_unknown_push_status_is_kept_as_unknown():
    body = payload(SOURCE, "push_delivery_carload.json").replace(b"delivery_carload", b"teleported")
    result = scans_from_payload(body, SOURCE)
    [scan] = result.normalized.scans
    assert (scan.status, scan.carrier_status_code) == (ShipmentStatus.UNKNOWN, "teleported")
    assert [item.code for item in result.normalized.unmapped] == ["teleported"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"parcels": []}',
        b'{"pushid": "1", "pnr": "2", "status": "start_order", "statusdate": "yesterday"}',
        b'{"getTrackingDataResponse": {"trackingResult": {"statusInfo": []}}}',
        b"<Envelope><Body><other/></Body></Envelope>",
    ],
)
def test_a_shape_dpd_does_not_document_is_a_payload_error(body):
    with pytest.raises(PayloadError):
        scans_from_payload(body, SOURCE)
