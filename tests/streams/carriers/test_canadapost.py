"""Canada Post tracking-detail and messages answers → scans (tests/data/carriers/canadapost).

Canada Post publishes no example answer in readable form: every payload here is built from the
documented element model (see the README beside them).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from parcelwatch.schemas.types import ExceptionReason, ShipmentStatus, TimeZoneSource
from parcelwatch.streams.carriers.model import PayloadError
from parcelwatch.streams.carriers.reading import scans_from_payload
from tests.streams.carriers.conftest import PAYLOADS, assert_error_answer, payload, read

SOURCE = "canadapost"


def _wall_clock(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def test_a_delivered_journey_with_zone_labels_signer_and_changed_estimate():
    result = read(SOURCE, "constructed_details_delivered.xml")
    scans = result.normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    ]
    accepted, processed, out, delivered = scans
    # "PST" and "EST" fix the offset; the scan says the offset was given.
    pacific, eastern = timezone(-timedelta(hours=8)), timezone(-timedelta(hours=5))
    assert accepted.occurred_at == datetime(2026, 11, 16, 16, 40, tzinfo=pacific)
    assert delivered.occurred_at == datetime(2026, 11, 19, 14, 22, 10, tzinfo=eastern)
    assert delivered.time_zone is not None
    assert delivered.time_zone.resolved_by is TimeZoneSource.OFFSET
    # No label: the local time stays the wall clock, read in a zone that is said.
    assert _wall_clock(processed.occurred_at) == datetime(2026, 11, 17, 23, 10, 2)
    assert processed.time_zone is not None
    assert processed.time_zone.resolved_by in {TimeZoneSource.LOCATION, TimeZoneSource.CARRIER_HOME}
    # Zero-padded identifiers are kept as written and mapped without the zeros.
    assert out.carrier_status_code == "0174"
    assert delivered.signer == "L TREMBLAY"
    assert delivered.delivery_location is not None
    assert delivered.delivery_location.description == "Item successfully delivered"
    assert delivered.location is not None
    assert (delivered.location.city, delivered.location.region, delivered.location.country) == (
        "OTTAWA",
        "ON",
        "CA",
    )
    # changed-expected-date wins over expected-delivery-date.
    assert delivered.estimated_delivery is not None
    assert delivered.estimated_delivery.date() == date(2026, 11, 19)
    assert result.normalized.unmapped == []


def test_a_failed_attempt_then_the_item_waits_at_a_retail_post_office():
    attempt, waiting = read(SOURCE, "constructed_details_attempt_then_pickup.xml").normalized.scans
    assert (attempt.status, attempt.reason) == (
        ShipmentStatus.ATTEMPT_FAILED,
        ExceptionReason.RECIPIENT_UNAVAILABLE,
    )
    assert waiting.status is ShipmentStatus.AVAILABLE_FOR_PICKUP
    assert waiting.pickup_point is not None
    assert (waiting.pickup_point.id, waiting.pickup_point.name) == ("0000102941", "PHARMAPRIX 1234")
    assert _wall_clock(waiting.occurred_at) == datetime(2026, 11, 18, 15, 30)


def test_a_weather_exception_inside_a_soap_envelope():
    [scan] = read(SOURCE, "constructed_soap_weather_exception.xml").normalized.scans
    assert (scan.status, scan.reason) == (ShipmentStatus.EXCEPTION, ExceptionReason.WEATHER_DELAY)
    # Newfoundland Standard Time is UTC-3:30.
    assert scan.occurred_at.utcoffset() == -timedelta(hours=3, minutes=30)
    assert scan.tracking_number == "4016201057845006"


def test_a_return_is_flagged_and_a_foreign_site_names_its_country():
    abroad, returning = read(SOURCE, "constructed_details_return.xml").normalized.scans
    assert returning.status is ShipmentStatus.RETURNING_TO_SENDER
    assert returning.return_to_sender is True
    assert returning.delivery_location is None  # "being returned": not a delivery
    # "ILTLVA,Israel" with the label "ISRAEL": the country's zone, read from the site.
    assert abroad.location is not None and abroad.location.country == "IL"
    assert abroad.time_zone is not None and abroad.time_zone.zone == "Asia/Jerusalem"
    assert abroad.status is ShipmentStatus.IN_TRANSIT


@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        ("constructed_messages_endpoint_mismatch.xml", "AA002",
         "The username and password of the request do not match the endpoint."),
        ("constructed_messages_throttled.xml", "Server", "Rejected by SLM Monitor"),
    ],
)  # fmt: skip
def test_a_messages_answer_gives_the_code_and_words_and_no_scans(name, code, message):
    assert_error_answer(SOURCE, name, code, message)


@pytest.mark.parametrize("path", sorted((PAYLOADS / SOURCE).glob("*.xml")), ids=lambda p: p.name)
def test_canada_post_payloads_are_recognised(path):
    assert read(SOURCE, path.name, named=False).source.value == SOURCE


def test_an_unknown_identifier_is_kept_as_unknown_never_dropped():
    body = payload(SOURCE, "constructed_details_return.xml")
    body = body.replace(b"<event-identifier>2600", b"<event-identifier>9999").replace(
        b"Item being returned to sender; return label processed", b"Item teleported"
    )
    result = scans_from_payload(body, SOURCE)
    unknown = [scan for scan in result.normalized.scans if scan.carrier_status_code == "9999"]
    assert [scan.status for scan in unknown] == [ShipmentStatus.UNKNOWN]
    assert [entry.code for entry in result.normalized.unmapped] == ["9999"]


@pytest.mark.parametrize(
    "body",
    [
        b"<tracking-detail><significant-events/></tracking-detail>",
        b"<tracking-summary><pin-summary><pin>1</pin></pin-summary></tracking-summary>",
        b"<tracking-detail><pin>1</pin><significant-events><occurrence>"
        b"<event-identifier>1408</event-identifier></occurrence></significant-events>"
        b"</tracking-detail>",
        b'{"pin": "1"}',
    ],
)
def test_a_shape_canada_post_does_not_document_is_a_payload_error(body):
    with pytest.raises(PayloadError):
        scans_from_payload(body, SOURCE)
