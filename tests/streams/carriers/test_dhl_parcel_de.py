"""DHL Parcel DE tracking XML → scans (payloads: tests/data/carriers/dhl_parcel_de)."""

from __future__ import annotations

from datetime import date

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

SOURCE = "dhl_parcel_de"


def test_a_delivered_journey_maps_event_and_reason_codes():
    result = read(SOURCE, "constructed_piece_detail_delivered.xml")
    scans = result.normalized.scans
    assert [scan.carrier_status_code for scan in scans] == [
        "SHRCU/PCKST",
        "PCKDU/PUBCR",
        "LDTMV/MVMTV",
        "ULFMV/UNLDD",
        "SRTED/NRQRD",
        "DLVRD/NGHBR",
    ]  # the skeleton event (a time, nothing else) gives no scan
    assert [scan.status for scan in scans] == [
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,  # SRTED/NRQRD with TTpro PO: loaded onto the vehicle
        ShipmentStatus.DELIVERED,
    ]
    delivered = scans[-1]
    assert delivered.delivery_location is not None
    assert delivered.delivery_location.kind is DeliveryLocationKind.NEIGHBOUR
    assert delivered.delivery_location.description == "Nachbar"
    assert delivered.location is not None
    assert (delivered.location.city, delivered.location.country) == ("Bonn", "DE")
    assert delivered.time_zone is not None
    assert delivered.time_zone.resolved_by is TimeZoneSource.LOCATION
    assert delivered.occurred_at.isoformat() == "2016-03-18T10:02:00+01:00"
    assert result.normalized.unmapped == []
    [error] = result.errors
    assert (error.code, error.tracking_number) == ("100", "00340434161094099999")
    assert "keine Daten" in error.message


def test_a_failed_attempt_then_an_uncollected_return_back_with_the_sender():
    scans = read(SOURCE, "constructed_not_home_uncollected_return.xml").normalized.scans
    attempt, locker, uncollected, returning, back = scans
    assert (attempt.status, attempt.reason) == (
        ShipmentStatus.ATTEMPT_FAILED,
        ExceptionReason.RECIPIENT_UNAVAILABLE,
    )
    assert locker.status is ShipmentStatus.AVAILABLE_FOR_PICKUP
    assert (uncollected.status, uncollected.reason) == (
        ShipmentStatus.EXCEPTION,
        ExceptionReason.RECIPIENT_UNAVAILABLE,
    )
    assert returning.status is ShipmentStatus.RETURNING_TO_SENDER
    assert back.status is ShipmentStatus.RETURNED_TO_SENDER
    # The piece is a return (ruecksendung="true"): every scan says so.
    assert all(scan.return_to_sender for scan in scans)
    assert attempt.occurred_at.isoformat() == "2026-10-21T13:05:00+02:00"
    assert back.occurred_at.isoformat() == "2026-11-03T11:17:00+01:00"


def test_a_disposal_filed_as_delivered_is_an_exception_and_a_loss_is_lost():
    result = read(SOURCE, "constructed_disposed_and_lost.xml")
    by_code = {scan.carrier_status_code: scan for scan in result.normalized.scans}
    disposed = by_code["DSPSD/DMGED"]
    assert (disposed.status, disposed.reason) == (ShipmentStatus.EXCEPTION, ExceptionReason.DAMAGED)
    assert disposed.location is not None and disposed.location.country == "AT"
    assert disposed.time_zone is not None and disposed.time_zone.zone == "Europe/Vienna"
    lost = by_code["EXPHD/LOSTX"]
    assert (lost.status, lost.reason) == (ShipmentStatus.EXCEPTION, ExceptionReason.LOST)
    unknown = by_code["QQQQQ/ZZZZZ"]
    assert unknown.status is ShipmentStatus.UNKNOWN
    assert [item.code for item in result.normalized.unmapped] == ["QQQQQ/ZZZZZ"]


def test_the_public_query_gives_the_latest_status_and_the_delivery_day():
    [scan] = read(SOURCE, "constructed_public_status.xml").normalized.scans
    assert (scan.status, scan.carrier_status_code) == (
        ShipmentStatus.OUT_FOR_DELIVERY,
        "SRTED/NRQRD",
    )
    assert scan.time_zone is not None
    assert scan.time_zone.resolved_by is TimeZoneSource.CARRIER_HOME
    assert scan.estimated_delivery is not None
    assert scan.estimated_delivery.date() == date(2016, 3, 18)


def test_a_failed_login_gives_the_code_and_words_and_no_scans():
    assert_error_answer(SOURCE, "constructed_error_login.xml", "5", "Login failed")


@pytest.mark.parametrize(
    "name",
    [
        "constructed_piece_detail_delivered.xml",
        "constructed_public_status.xml",
        "constructed_error_login.xml",
    ],
)
def test_dhl_parcel_de_payloads_are_recognised(name):
    assert read(SOURCE, name, named=False).source.value == SOURCE


def test_an_event_with_an_impossible_time_is_a_payload_error():
    body = payload(SOURCE, "constructed_public_status.xml").replace(
        b"18.03.2016 07:30", b"tomorrow"
    )
    with pytest.raises(PayloadError):
        scans_from_payload(body, SOURCE)


@pytest.mark.parametrize(
    "body", [b'{"shipments": []}', b"<TrackResponse/>", b'<data name="something-else" code="0"/>']
)
def test_a_shape_dhl_parcel_de_does_not_document_is_a_payload_error(body):
    with pytest.raises(PayloadError):
        scans_from_payload(body, SOURCE)
