"""USPS Web Tools TrackV2 (XML) and Tracking 3.x (JSON) → scans (tests/data/carriers/usps)."""

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
from parcelwatch.streams.carriers.model import PayloadError
from parcelwatch.streams.carriers.reading import scans_from_payload
from tests.streams.carriers.conftest import PAYLOADS, assert_error_answer, payload, read

SOURCE = "usps"
PACIFIC = ZoneInfo("America/Los_Angeles")
EASTERN = ZoneInfo("America/New_York")


def test_a_trackv2_fields_answer_is_a_journey_with_an_attempt_signer_and_place():
    result = read(SOURCE, "constructed_trackv2_fields.xml")
    scans = result.normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.ATTEMPT_FAILED,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    ]
    attempt, delivered = scans[2], scans[-1]
    assert attempt.reason is ExceptionReason.RECIPIENT_UNAVAILABLE
    assert attempt.carrier_status_code == "56"
    # Local wall-clock times read in the event ZIP's zone.
    assert delivered.occurred_at == datetime(2026, 11, 19, 13, 2, tzinfo=PACIFIC)
    assert delivered.time_zone is not None
    assert delivered.time_zone.resolved_by is TimeZoneSource.LOCATION
    assert scans[0].occurred_at == datetime(2026, 11, 16, 9, 55, tzinfo=EASTERN)  # Edgewater, NJ
    assert delivered.location is not None and delivered.location.country == "US"
    assert delivered.signer == "J DOE"
    assert delivered.delivery_location is not None
    assert delivered.delivery_location.description == "Front Door/Porch"
    assert delivered.delivery_location.kind in {
        DeliveryLocationKind.FRONT_DOOR,
        DeliveryLocationKind.PORCH,
    }
    assert delivered.estimated_delivery == datetime(2026, 11, 18, 23, 59, 59, tzinfo=PACIFIC)
    # An event USPS dated without a time or place: midnight in USPS's home zone, said so.
    undated = scans[1]
    assert undated.time_zone is not None
    assert undated.time_zone.resolved_by is TimeZoneSource.CARRIER_HOME
    assert undated.occurred_at == datetime(2026, 11, 17, tzinfo=EASTERN)


def test_a_trackinfo_error_is_an_error_beside_the_answered_number():
    result = read(SOURCE, "constructed_trackv2_fields.xml")
    [error] = result.errors
    assert (error.code, error.tracking_number) == ("-2147219302", "9400100000000000000002")
    assert error.message.startswith("The Postal Service could not locate")


def test_a_return_ends_delivered_to_the_original_sender():
    rts, back = read(SOURCE, "constructed_trackv2_return.xml").normalized.scans
    assert (rts.status, rts.reason, rts.return_to_sender) == (
        ShipmentStatus.RETURNING_TO_SENDER,
        ExceptionReason.ADDRESS_ISSUE,
        True,
    )
    assert rts.occurred_at == datetime(2026, 11, 20, 15, 30, tzinfo=ZoneInfo("Pacific/Honolulu"))
    # Code 01 with these words is the return's end, not a delivery to the recipient.
    assert (back.status, back.carrier_status_code) == (ShipmentStatus.RETURNED_TO_SENDER, "01")
    assert back.return_to_sender is True
    assert back.delivery_location is None


def test_a_tracking_3_detail_has_a_refusal_and_a_pickup_point():
    scans = read(SOURCE, "constructed_tracking_v3_detail_exception.json").normalized.scans
    departed, refused, waiting = scans
    assert departed.status is ShipmentStatus.IN_TRANSIT  # unlisted code T1, told by its words
    assert (refused.status, refused.reason) == (ShipmentStatus.EXCEPTION, ExceptionReason.REFUSED)
    assert waiting.status is ShipmentStatus.AVAILABLE_FOR_PICKUP
    assert waiting.pickup_point is not None
    assert waiting.pickup_point.name == "DENVER MAIN POST OFFICE"
    # eventTimestamp has no offset; GMTOffset "-7:00" gives it.
    assert waiting.occurred_at == datetime(2026, 11, 20, 9, 2, tzinfo=timezone(timedelta(hours=-7)))
    assert waiting.time_zone is not None
    assert waiting.time_zone.resolved_by is TimeZoneSource.OFFSET
    assert waiting.estimated_delivery is not None
    assert waiting.estimated_delivery.isoformat() == "2026-11-19T20:00:00-07:00"


def test_a_v3r2_multi_status_answer_gives_scans_and_the_failed_number():
    result = read(SOURCE, "constructed_tracking_v3r2_multistatus.json")
    out, delivered = result.normalized.scans
    assert delivered.status is ShipmentStatus.DELIVERED
    assert delivered.delivery_location is not None
    assert delivered.delivery_location.kind is DeliveryLocationKind.MAILBOX
    assert delivered.signer is None  # recipientName is empty
    # A date-only eventTimestamp: the GMT time is more precise.
    assert out.occurred_at == datetime(2026, 11, 18, 11, 40, tzinfo=UTC)
    [error] = result.errors
    assert (error.code, error.tracking_number) == ("404", "9205500000000000000006")
    assert "may be incorrect" in error.message


def test_the_published_tracking_summary_lines_are_read_as_events():
    scans = read(SOURCE, "tracking_v3_summary.xml").normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    ]
    out = scans[3]
    assert out.description == "Out for Delivery"
    assert out.occurred_at == datetime(2022, 6, 17, 6, 10, tzinfo=EASTERN)
    assert out.location is not None
    assert (out.location.city, out.location.region, out.location.postal_code) == (
        "FAIRFAX",
        "VA",
        "22032",
    )
    assert scans[-1].occurred_at == datetime(2022, 6, 17, 12, 1, tzinfo=EASTERN)
    assert all(scan.carrier_status_code is None for scan in scans)


def test_the_published_yearless_text_lines_are_refused_clearly():
    with pytest.raises(PayloadError, match="year"):
        read(SOURCE, "webtools_package_track_text_lines.xml")


@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        ("webtools_error.xml", "-2147217951", "Missing value for To Phone number."),
        ("constructed_tracking_v3_error_unauthorized.json", "401",
         "Unauthorized (OAuth token expired or invalid)"),
    ],
)  # fmt: skip
def test_an_error_answer_gives_the_code_and_words_and_no_scans(name, code, message):
    assert_error_answer(SOURCE, name, code, message)


@pytest.mark.parametrize(
    "path",
    sorted(
        path
        for path in (PAYLOADS / SOURCE).iterdir()
        if path.suffix in {".json", ".xml"} and "text_lines" not in path.name
    ),
    ids=lambda path: path.name,
)
def test_usps_payloads_are_recognised(path):
    assert read(SOURCE, path.name, named=False).source.value == SOURCE


def test_an_unknown_code_is_kept_as_unknown_never_dropped():
    body = json.loads(payload(SOURCE, "constructed_tracking_v3_detail_exception.json"))
    body["trackingEvents"] = [{**body["trackingEvents"][0], "eventCode": "Q7",
                               "eventType": "Item teleported"}]  # fmt: skip
    result = scans_from_payload(json.dumps(body).encode(), SOURCE)
    [scan] = result.normalized.scans
    assert (scan.status, scan.carrier_status_code) == (ShipmentStatus.UNKNOWN, "Q7")
    assert [entry.code for entry in result.normalized.unmapped] == ["Q7"]


@pytest.mark.parametrize(
    "body",
    [
        b"<TrackResponse><TrackInfo><TrackSummary><Event>Delivered</Event></TrackSummary>"
        b"</TrackInfo></TrackResponse>",
        b"<Shipment><Number>1</Number></Shipment>",
        b'{"trackingNumber": "9400", "trackingEvents": [{"eventType": "Delivered"}]}',
        b'{"mailClass": "PRIORITY_MAIL"}',
    ],
)
def test_a_shape_usps_does_not_document_is_a_payload_error(body):
    with pytest.raises(PayloadError):
        scans_from_payload(body, SOURCE)
