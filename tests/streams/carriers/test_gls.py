"""GLS Track And Trace V1 → scans (payloads: tests/data/carriers/gls)."""

from __future__ import annotations

from datetime import UTC, datetime

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

SOURCE = "gls"


def test_the_published_answer_gives_scans_for_one_parcel_and_an_error_for_the_other():
    result = read(SOURCE, "parcels_with_errors.json")
    [error] = result.errors
    assert (error.code, error.message, error.tracking_number) == (
        "E_404_01",
        "Resource Not Found",
        "42249018928",
    )
    scans = result.normalized.scans
    assert [scan.carrier_status_code for scan in scans] == ["INTIAL.PREADVICE", "INTIAL.E48_DATA"]
    assert {scan.status for scan in scans} == {ShipmentStatus.INFO_RECEIVED}
    assert {scan.tracking_number for scan in scans} == {"36301917596"}
    first = scans[0]
    # The offset is written: the time is taken as is, the zone comes from the offset.
    assert first.time_zone is not None and first.time_zone.resolved_by is TimeZoneSource.OFFSET
    assert first.occurred_at.astimezone(UTC) == datetime(2024, 10, 11, 13, 24, 51, tzinfo=UTC)
    assert first.location is not None and (first.location.country, first.location.city) == (
        "DE",
        None,
    )
    assert result.normalized.unmapped == []


def test_a_delivered_journey_maps_each_category():
    scans = read(SOURCE, "constructed_delivered_journey.json").normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.INFO_RECEIVED,
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    ]
    delivered = scans[-1]
    assert delivered.carrier_status_code == "DELIVD.NORMAL"
    assert delivered.location is not None and delivered.location.postal_code == "41460"
    assert delivered.occurred_at.utcoffset().total_seconds() == 3600


def test_a_failed_attempt_is_read_from_the_words_with_its_reason():
    scan = read(SOURCE, "constructed_not_delivered.json").normalized.scans[-1]
    assert scan.status is ShipmentStatus.ATTEMPT_FAILED
    assert scan.reason is ExceptionReason.RECIPIENT_UNAVAILABLE
    assert scan.carrier_status_code == "NOTDEL.NOTATHOME"
    assert scan.location is not None and scan.location.country == "IT"


def test_a_return_after_a_parcel_shop_delivery():
    scans = read(SOURCE, "constructed_return.json").normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.AVAILABLE_FOR_PICKUP,
        ShipmentStatus.RETURNING_TO_SENDER,
    ]
    shop = scans[0]
    assert shop.delivery_location is not None
    assert shop.delivery_location.kind is DeliveryLocationKind.PICKUP_POINT
    assert shop.location is None  # every place field was an empty string


def test_a_damaged_parcel_is_an_exception_with_its_reason():
    scan = read(SOURCE, "constructed_damaged_exception.json").normalized.scans[-1]
    assert (scan.status, scan.reason) == (ShipmentStatus.EXCEPTION, ExceptionReason.DAMAGED)


def test_a_parcel_without_events_becomes_one_scan_from_its_status():
    [scan] = read(SOURCE, "constructed_status_only.json").normalized.scans
    assert scan.status is ShipmentStatus.AVAILABLE_FOR_PICKUP
    assert scan.carrier_status_code == "DELIVEREDPS"


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [
        ("error_bad_request.json", "400", "more than allowed limit of 10"),
        ("error_token_expired.json", "steps.jwt.TokenExpired", "The Token has expired"),
    ],
)
def test_an_error_body_gives_the_code_and_words_and_no_scans(name, code, words):
    assert_error_answer(SOURCE, name, code, words)


@pytest.mark.parametrize(
    "name",
    [
        "parcels_with_errors.json",
        "constructed_delivered_journey.json",
        "constructed_status_only.json",
    ],
)
def test_gls_payloads_are_recognised(name):
    assert read(SOURCE, name, named=False).source.value == SOURCE


def test_an_unknown_code_is_kept_as_unknown():
    body = payload(SOURCE, "constructed_damaged_exception.json")
    body = body.replace(b"HOLDDP.DAMAGED", b"ZZZZZZ.QQ").replace(
        b"The parcel is damaged and is held at the depot.", b"Xyzzy."
    )
    result = scans_from_payload(body, SOURCE)
    [scan] = result.normalized.scans
    assert (scan.status, scan.carrier_status_code) == (ShipmentStatus.UNKNOWN, "ZZZZZZ.QQ")
    assert [item.code for item in result.normalized.unmapped] == ["ZZZZZZ.QQ"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"shipments": []}',
        b"[1, 2]",
        b'{"parcels": [{"requested": "1", "events": [{"code": "X"}]}]}',
    ],
)
def test_a_shape_gls_does_not_document_is_a_payload_error(body):
    with pytest.raises(PayloadError):
        scans_from_payload(body, SOURCE)
