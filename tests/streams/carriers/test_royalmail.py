"""Royal Mail Tracking API V2 answers → scans (payloads: tests/data/carriers/royalmail)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

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

SOURCE = "royalmail"


def test_a_mis_sort_is_an_exception_with_the_estimate_window_end():
    result = read(SOURCE, "constructed_events_missort.json")
    scans = result.normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.EXCEPTION,
    ]
    missort = scans[-1]
    assert missort.reason is ExceptionReason.MISSORTED
    assert missort.tracking_number == "FQ087430672GB"  # the 1D barcode, not the 2D mailPieceId
    assert missort.carrier_status_code == "EVNMI"
    assert missort.location is not None and missort.location.city == "Stafford DO"
    assert missort.time_zone is not None
    assert missort.time_zone.resolved_by is TimeZoneSource.OFFSET
    assert missort.occurred_at.utcoffset() == timedelta(hours=1)
    assert missort.estimated_delivery is not None
    assert missort.estimated_delivery.astimezone(UTC) == datetime(2016, 10, 21, 12, tzinfo=UTC)
    assert result.normalized.unmapped == []


def test_a_delivered_journey_carries_the_signer_to_the_delivery_only():
    scans = read(SOURCE, "constructed_events_delivered_signed.json").normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.INFO_RECEIVED,
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    ]
    delivered = scans[-1]
    assert delivered.signer == "J SMITH"
    assert delivered.delivery_location is not None
    assert delivered.delivery_location.kind is DeliveryLocationKind.RECIPIENT
    assert all(scan.signer is None for scan in scans[:-1])
    assert scans[0].location is None  # the pre-advice names no office
    # A date-only estimate means the end of that day, in the carrier's home zone (no place given).
    assert delivered.estimated_delivery is not None
    assert delivered.estimated_delivery.date() == date(2026, 1, 14)
    assert str(delivered.estimated_delivery.tzinfo) == "Europe/London"


def test_a_failed_attempt_has_its_reason():
    scans = read(SOURCE, "constructed_events_failed_attempt.json").normalized.scans
    failed = next(scan for scan in scans if scan.carrier_status_code == "EVKNA")
    assert (failed.status, failed.reason) == (
        ShipmentStatus.ATTEMPT_FAILED,
        ExceptionReason.RECIPIENT_UNAVAILABLE,
    )
    assert scans[-1].status is ShipmentStatus.IN_TRANSIT  # due for redelivery


def test_a_refused_parcel_goes_back_and_an_unknown_code_is_kept():
    result = read(SOURCE, "constructed_events_return.json")
    unknown, refused, returned = result.normalized.scans
    assert (refused.status, refused.reason) == (
        ShipmentStatus.RETURNING_TO_SENDER,
        ExceptionReason.REFUSED,
    )
    assert returned.status is ShipmentStatus.RETURNED_TO_SENDER
    assert refused.return_to_sender is returned.return_to_sender is True
    assert (unknown.status, unknown.carrier_status_code) == (ShipmentStatus.UNKNOWN, "EVZZZ")
    assert unknown.description == "Teleported to the moon"
    assert [item.code for item in result.normalized.unmapped] == ["EVZZZ"]


def test_a_summary_gives_the_last_event_and_the_per_item_error():
    result = read(SOURCE, "constructed_summary_with_error.json")
    [scan] = result.normalized.scans
    assert scan.status is ShipmentStatus.DELIVERED
    assert scan.delivery_location is not None
    assert scan.delivery_location.kind is DeliveryLocationKind.SAFE_PLACE
    [error] = result.errors
    assert (error.code, error.tracking_number) == ("E1142", "AB1234567890GB")
    assert "not recognised" in error.message and "cannot be located" in error.message


def test_the_summary_and_the_events_answer_give_the_same_id_for_the_last_event():
    events = read(SOURCE, "constructed_events_missort.json").normalized.scans
    summary_only = payload(SOURCE, "constructed_events_missort.json").replace(
        b'"events"', b'"eventsNotAsked"'
    )
    [last] = scans_from_payload(summary_only, SOURCE).normalized.scans
    assert last.event_id == events[-1].event_id


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [
        ("constructed_error_not_found.json", "E1142", "not recognised"),
        ("constructed_error_client_id.json", "401", "Client id not registered"),
    ],
)
def test_an_error_answer_gives_the_code_and_words_and_no_scans(name, code, words):
    assert_error_answer(SOURCE, name, code, words)


@pytest.mark.parametrize(
    "name",
    [
        "constructed_events_missort.json",
        "constructed_events_delivered_signed.json",
        "constructed_summary_with_error.json",
        "constructed_error_not_found.json",
    ],
)
def test_royal_mail_payloads_are_recognised(name):
    assert read(SOURCE, name, named=False).source.value == SOURCE


@pytest.mark.parametrize(
    "body",
    [
        b'{"items": []}',
        b"[]",
        payload(SOURCE, "constructed_events_return.json").replace(b'"eventDateTime"', b'"at"'),
    ],
)
def test_other_shapes_are_payload_errors(body):
    with pytest.raises(PayloadError):
        scans_from_payload(body, SOURCE)
