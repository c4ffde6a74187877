"""UPS Track API responses and Track Alert events → scans (payloads: tests/data/carriers/ups)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from parcelwatch.schemas.types import (
    DeliveryLocationKind,
    ExceptionReason,
    ShipmentStatus,
    TimeZoneSource,
)
from parcelwatch.streams.carriers.mapping import mapping_table
from parcelwatch.streams.carriers.model import PayloadError
from parcelwatch.streams.carriers.reading import scans_from_payload
from tests.streams.carriers.conftest import PAYLOADS, assert_error_answer, payload, read

SOURCE = "ups"
NEW_YORK = ZoneInfo("America/New_York")


def _alert(**status: str | int) -> bytes:
    event = json.loads(payload(SOURCE, "track_alert_out_for_delivery.json"))
    event["activityStatus"] = status
    return json.dumps(event).encode()


def test_the_published_sample_response_reads_as_label_then_delivery():
    result = read(SOURCE, "track_api_sample_response.json")
    label, delivered = result.normalized.scans
    assert (label.status, delivered.status) == (
        ShipmentStatus.INFO_RECEIVED,
        ShipmentStatus.DELIVERED,
    )
    assert (label.carrier_status_code, delivered.carrier_status_code) == ("M/MP", "D/F4")
    assert delivered.description == "DELIVERED"
    # Paramus, NJ: the local 16:30 is read in the location's zone.
    assert delivered.time_zone is not None
    assert delivered.time_zone.resolved_by is TimeZoneSource.LOCATION
    assert delivered.occurred_at == datetime(2022, 1, 26, 16, 30, tzinfo=NEW_YORK)
    assert delivered.location is not None and delivered.location.city == "PARAMUS"
    # The label scan has only a country: UPS's home zone is used, and said.
    assert label.time_zone is not None
    assert label.time_zone.resolved_by is TimeZoneSource.CARRIER_HOME
    assert label.time_zone.zone == "America/New_York"
    assert result.normalized.unmapped == []


def test_a_delivered_journey_carries_signer_place_estimate_and_offsets():
    result = read(SOURCE, "constructed_track_delivered_two_numbers.json")
    scans = result.normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.INFO_RECEIVED,
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    ]
    delivered = scans[-1]
    assert delivered.signer == "MILLER"
    assert delivered.delivery_location is not None
    assert delivered.delivery_location.kind is DeliveryLocationKind.FRONT_DOOR
    assert delivered.delivery_location.description == "Front Door"
    assert all(scan.signer is None for scan in scans[:-1])
    # gmtOffset is given: the time is taken with it.
    mountain = timezone(timedelta(hours=-7))
    assert delivered.occurred_at == datetime(2026, 11, 18, 14, 22, 10, tzinfo=mountain)
    assert delivered.time_zone is not None
    assert delivered.time_zone.resolved_by is TimeZoneSource.OFFSET
    # UPS drops leading zeros of times ("81502").
    assert scans[3].occurred_at == datetime(2026, 11, 18, 8, 15, 2, tzinfo=mountain)
    # The scheduled date, by the end of the day at the destination (Denver).
    assert delivered.estimated_delivery == datetime(
        2026, 11, 18, 23, 59, 59, tzinfo=ZoneInfo("America/Denver")
    )


def test_a_number_ups_could_not_answer_is_an_error_beside_the_answered_one():
    result = read(SOURCE, "constructed_track_delivered_two_numbers.json")
    assert result.histories == 1
    [error] = result.errors
    assert (error.code, error.tracking_number) == ("TW0001", "1ZCNSTRCT0000000002")
    assert error.message == "Tracking Information Not Found"
    assert {scan.tracking_number for scan in result.normalized.scans} == {"1ZCNSTRCT0000000001"}


def test_an_exception_with_an_unlisted_code_takes_its_type_and_the_reason_from_the_words():
    scans = read(SOURCE, "constructed_track_weather_exception.json").normalized.scans
    exception = scans[-1]
    assert (exception.status, exception.reason) == (
        ShipmentStatus.EXCEPTION,
        ExceptionReason.WEATHER_DELAY,
    )
    assert exception.carrier_status_code == "X/WX"
    assert exception.occurred_at == datetime(2026, 11, 17, 3, 55, tzinfo=NEW_YORK)  # Louisville
    # The rescheduled date wins over the scheduled one, until the window's end time.
    assert exception.estimated_delivery == datetime(2026, 11, 20, 23, 59, tzinfo=NEW_YORK)


def test_a_failed_attempt_is_told_by_its_words_before_its_exception_type():
    scan = read(SOURCE, "constructed_track_failed_attempt.json").normalized.scans[-1]
    assert (scan.status, scan.reason) == (
        ShipmentStatus.ATTEMPT_FAILED,
        ExceptionReason.RECIPIENT_UNAVAILABLE,
    )
    assert scan.time_zone is not None and scan.time_zone.zone == "America/Los_Angeles"
    pacific = ZoneInfo("America/Los_Angeles")
    assert scan.occurred_at == datetime(2026, 11, 18, 11, 30, tzinfo=pacific)


def test_a_return_is_flagged_with_its_reason():
    scan = read(SOURCE, "constructed_track_return.json").normalized.scans[-1]
    assert scan.status is ShipmentStatus.RETURNING_TO_SENDER
    assert scan.return_to_sender is True
    assert scan.reason is ExceptionReason.ADDRESS_ISSUE  # "The receiver has moved"


def test_the_status_type_is_a_fallback_tried_after_the_words():
    table = mapping_table(SOURCE)
    by_words = table.lookup(("ZZ",), "Returning to sender", ("type:I",))
    assert by_words.mapping.status is ShipmentStatus.RETURNING_TO_SENDER
    assert by_words.by == "text"
    by_type = table.lookup(("ZZ",), "Arrived at Facility", ("type:I",))
    assert (by_type.mapping.status, by_type.by) == (ShipmentStatus.IN_TRANSIT, "code")
    assert table.lookup(("ZZ",), "Arrived at Facility").mapped is False


@pytest.mark.parametrize(
    ("name", "status", "number", "utc"),
    [
        ("track_alert_manifest.json", ShipmentStatus.INFO_RECEIVED, "1ZABCXYZ0112346789",
         datetime(2024, 4, 22, 4, 12, 30, tzinfo=UTC)),
        ("track_alert_picked_up.json", ShipmentStatus.PICKED_UP, "1ZABCXYZ0112346789",
         datetime(2024, 4, 23, 1, 29, 1, tzinfo=UTC)),
        ("track_alert_out_for_delivery.json", ShipmentStatus.OUT_FOR_DELIVERY,
         "1Z204W4R0308071865", datetime(2024, 4, 23, 13, 15, 19, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_published_track_alert_events_read_as_one_scan_each(name, status, number, utc):
    [scan] = read(SOURCE, name).normalized.scans
    assert (scan.status, scan.tracking_number) == (status, number)  # the leading space trimmed
    assert scan.occurred_at == utc  # the GMT date and time UPS sends beside the local ones
    assert scan.time_zone is not None and scan.time_zone.resolved_by is TimeZoneSource.OFFSET


def test_a_track_alert_delivery_has_its_signer_and_a_numeric_description_code():
    [scan] = read(SOURCE, "track_alert_v2_delivered.json").normalized.scans
    assert scan.status is ShipmentStatus.DELIVERED
    assert scan.signer == "John"
    # The example's scheduledDeliveryDate (2019-10-14) is four years before its delivery: no
    # estimate, or the scan contract would refuse the delivery itself.
    assert scan.estimated_delivery is None
    # descriptionCode 11 (YAML-unquoted 011) is still the 3-digit code.
    body = _alert(type="D", code="Q9", description="Parcel handed over", descriptionCode=11)
    [by_number] = scans_from_payload(body, SOURCE).normalized.scans
    assert by_number.status is ShipmentStatus.DELIVERED


@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        ("error_track_alert_invalid_token.json", "UJ0001",
         "Invalid token or token is not present."),
        ("error_invalid_authentication.json", "250002", "Invalid Authentication Information"),
    ],
)  # fmt: skip
def test_an_error_body_gives_the_code_and_words_and_no_scans(name, code, message):
    assert_error_answer(SOURCE, name, code, message)


@pytest.mark.parametrize("path", sorted((PAYLOADS / SOURCE).glob("*.json")), ids=lambda p: p.name)
def test_ups_payloads_are_recognised(path):
    assert read(SOURCE, path.name, named=False).source.value == SOURCE


def test_an_unknown_code_is_kept_as_unknown_never_dropped():
    body = _alert(type="D", code="ZQ", description="Parcel teleported", descriptionCode="999")
    result = scans_from_payload(body, SOURCE)
    [scan] = result.normalized.scans
    assert scan.status is ShipmentStatus.UNKNOWN
    assert scan.carrier_status_code == "D/ZQ"
    assert [entry.code for entry in result.normalized.unmapped] == ["D/ZQ"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"trackResponse": {"shipment": [{"package": [{"activity": []}]}]}}',
        b'{"shipments": []}',
        b"[1, 2]",
    ],
)
def test_a_shape_ups_does_not_document_is_a_payload_error(body):
    with pytest.raises(PayloadError):
        scans_from_payload(body, SOURCE)


def test_times_written_with_separators_are_read_too():
    event = json.loads(payload(SOURCE, "track_alert_out_for_delivery.json"))
    event.update(gmtActivityDate="2024-04-23", gmtActivityTime="13:15:19")
    [scan] = scans_from_payload(json.dumps(event).encode(), SOURCE).normalized.scans
    assert scan.occurred_at == datetime(2024, 4, 23, 13, 15, 19, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "words", "status"),
    [
        ("U", "Your package will be delivered tomorrow", ShipmentStatus.IN_TRANSIT),
        ("X", "The package could not be delivered", ShipmentStatus.ATTEMPT_FAILED),
        ("X", "A mechanical failure has caused a delay", ShipmentStatus.EXCEPTION),
        ("I", "Delivered to UPS Access Point", ShipmentStatus.AVAILABLE_FOR_PICKUP),
        ("D", "Your package was delivered", ShipmentStatus.DELIVERED),
    ],
)
def test_unlisted_codes_are_read_by_their_words_then_their_type(kind, words, status):
    body = _alert(type=kind, code="ZQ", description=words, descriptionCode="999")
    [scan] = scans_from_payload(body, SOURCE).normalized.scans
    assert scan.status is status
