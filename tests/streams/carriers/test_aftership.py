"""AfterShip webhooks and Trackings API responses → scans (tests/data/carriers/aftership)."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from parcelwatch.schemas.types import (
    DeliveryLocationKind,
    ExceptionReason,
    ShipmentStatus,
    TimeZoneSource,
)
from parcelwatch.streams.carriers.model import PayloadError
from parcelwatch.streams.carriers.payloads import aftership
from parcelwatch.streams.carriers.reading import scans_from_payload
from tests.streams.carriers.conftest import assert_error_answer, payload, read

SOURCE = "aftership"


def _edited(name: str, edit) -> bytes:
    document = json.loads(payload(SOURCE, name))
    edit(document)
    return json.dumps(document).encode()


def test_a_legacy_webhook_reads_a_delivered_journey_in_local_time():
    result = read(SOURCE, "constructed_webhook_delivered_legacy.json")
    scans = result.normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.INFO_RECEIVED,
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    ]
    assert {(scan.tracking_number, scan.carrier) for scan in scans} == {
        ("9361289676091361892011", "usps")
    }
    # No offset: each checkpoint's wall clock, read in its location's zone (old field names).
    first, _, _, delivered = scans
    assert first.location is not None and first.location.country == "US"  # from the state
    assert first.time_zone is not None and first.time_zone.zone == "America/Los_Angeles"
    assert first.occurred_at == datetime(2021, 1, 18, 16, 2, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert delivered.time_zone is not None
    assert delivered.time_zone.resolved_by is TimeZoneSource.LOCATION
    assert delivered.occurred_at.isoformat() == "2021-01-22T14:12:00-06:00"
    assert delivered.signer == "J SMITH"
    assert all(scan.signer is None for scan in scans[:-1])
    assert delivered.delivery_location is not None
    assert delivered.delivery_location.kind is DeliveryLocationKind.MAILBOX
    assert delivered.carrier_status_code == "Delivered_001"  # no raw_tag: AfterShip's subtag
    # expected_delivery is a day: the end of it, at the destination.
    assert delivered.estimated_delivery == datetime(
        2021, 1, 22, 23, 59, 59, tzinfo=ZoneInfo("America/Chicago")
    )
    assert result.normalized.unmapped == []


def test_an_api_exception_keeps_the_carriers_raw_code_and_the_subtags_reason():
    scans = read(SOURCE, "constructed_api_exception_customs.json").normalized.scans
    held = scans[-1]
    assert (held.status, held.reason) == (ShipmentStatus.EXCEPTION, ExceptionReason.CUSTOMS_DELAY)
    assert held.carrier_status_code == "CR"
    assert held.carrier == "dhl_express"
    assert held.description == "Clearance event: further information required from the importer"
    # Offsets written: taken as written, and the scan says so.
    assert held.time_zone is not None and held.time_zone.resolved_by is TimeZoneSource.OFFSET
    assert held.occurred_at.isoformat() == "2026-11-03T10:05:00+01:00"
    assert held.location is not None and (held.location.city, held.location.country) == (
        "LEIPZIG",
        "DE",
    )
    assert scans[0].status is ShipmentStatus.PICKED_UP
    # The carrier's estimate wins over AfterShip's own prediction.
    assert held.estimated_delivery is not None
    assert held.estimated_delivery.date() == date(2026, 11, 7)


def test_a_legacy_api_response_with_the_tracking_under_data_tracking():
    scans = read(SOURCE, "constructed_api_v4_tracking.json").normalized.scans
    assert [(scan.status, scan.reason) for scan in scans] == [
        (ShipmentStatus.IN_TRANSIT, None),
        (ShipmentStatus.EXCEPTION, ExceptionReason.DAMAGED),
    ]
    assert scans[-1].location is not None and scans[-1].location.country == "CA"  # alpha-3 CAN
    assert scans[-1].estimated_delivery is not None
    assert scans[-1].estimated_delivery.isoformat() == "2026-11-27T17:00:00-05:00"


def test_a_failed_attempt_takes_its_reason_from_the_carriers_words():
    scans = read(SOURCE, "constructed_webhook_failed_attempt.json").normalized.scans
    attempt = scans[-1]
    assert attempt.status is ShipmentStatus.ATTEMPT_FAILED
    assert attempt.reason is ExceptionReason.RECIPIENT_UNAVAILABLE
    assert attempt.carrier_status_code == "48"
    assert attempt.time_zone is not None and attempt.time_zone.zone == "America/Chicago"  # Austin
    assert attempt.occurred_at.isoformat() == "2026-11-18T16:20:00-06:00"


def test_a_return_is_returning_then_returned_and_flagged():
    scans = read(SOURCE, "constructed_webhook_return.json").normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.RETURNING_TO_SENDER,
        ShipmentStatus.RETURNED_TO_SENDER,
    ]
    assert all(scan.return_to_sender for scan in scans)
    assert {scan.carrier for scan in scans} == {"laposte"}
    assert scans[0].reason is ExceptionReason.ADDRESS_ISSUE  # "adresse incomplète"


def test_a_list_response_gives_each_tracking_and_a_pickup_point():
    result = read(SOURCE, "constructed_api_trackings_list.json")
    assert result.histories == 2  # the pending one has no checkpoints yet
    [scan] = result.normalized.scans
    assert scan.status is ShipmentStatus.AVAILABLE_FOR_PICKUP
    assert scan.carrier == "dhl_parcel_de"
    assert scan.pickup_point is not None
    assert scan.pickup_point.name == "Packstation 118, Hauptstraße 5, 10827 Berlin"
    assert scan.time_zone is not None and scan.time_zone.zone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [
        ("constructed_error_tracking_not_found.json", "4004", "Tracking does not exist."),
        ("constructed_error_invalid_api_key.json", "401", "Invalid API key."),
    ],
)
def test_an_error_body_gives_aftership_code_and_words_and_no_scans(name, code, words):
    assert_error_answer(SOURCE, name, code, words)


@pytest.mark.parametrize(
    "name",
    [
        "constructed_webhook_delivered_legacy.json",
        "constructed_api_exception_customs.json",
        "constructed_api_v4_tracking.json",
        "constructed_api_trackings_list.json",
        "constructed_error_tracking_not_found.json",
    ],
)
def test_aftership_payloads_are_recognised(name):
    assert read(SOURCE, name, named=False).source.value == SOURCE


def test_a_resent_history_gives_the_same_ids():
    once = read(SOURCE, "constructed_webhook_delivered_legacy.json").normalized.scans
    # An edd_revise webhook resends the same checkpoints.
    again = _edited(
        "constructed_webhook_delivered_legacy.json",
        lambda document: document.update(event="edd_revise", event_id="another"),
    )
    resent = scans_from_payload(again, SOURCE).normalized.scans
    assert [scan.event_id for scan in once] == [scan.event_id for scan in resent]
    assert len({scan.event_id for scan in once}) == len(once)


def test_a_subtag_added_later_maps_by_its_tag_and_an_unknown_tag_is_unknown_but_kept():
    def new_codes(document):
        checkpoints = document["msg"]["checkpoints"]
        checkpoints[1]["subtag"] = "InTransit_013"  # announced 2026-07, not in the table
        checkpoints[2].update(tag="Teleported", subtag="Teleported_001", message="Beamed up")

    result = scans_from_payload(_edited("constructed_webhook_delivered_legacy.json", new_codes))
    later, beamed = result.normalized.scans[1:3]
    assert later.status is ShipmentStatus.IN_TRANSIT
    assert later.carrier_status_code == "InTransit_013"
    assert beamed.status is ShipmentStatus.UNKNOWN
    assert beamed.carrier_status_code == "Teleported_001"
    assert [(item.code, item.description) for item in result.normalized.unmapped] == [
        ("Teleported_001", "Beamed up")
    ]


def test_a_neighbour_delivery_and_a_missing_location_text():
    def neighbour(document):
        checkpoint = document["msg"]["checkpoints"][-1]
        checkpoint["events"] = [{"code": "delivered_to_neighbor", "reason": {"code": None}}]
        for field in ("city", "state", "zip", "country_iso3", "country_name"):
            checkpoint[field] = None
        checkpoint["location"] = "CHICAGO IL DISTRIBUTION CENTER"

    scan = scans_from_payload(
        _edited("constructed_webhook_delivered_legacy.json", neighbour), SOURCE
    ).normalized.scans[-1]
    assert scan.delivery_location is not None
    assert scan.delivery_location.kind is DeliveryLocationKind.NEIGHBOUR
    assert scan.location is not None and scan.location.city == "CHICAGO IL DISTRIBUTION CENTER"
    # No zone from free text and AfterShip has no home zone: read as UTC, and said so.
    assert scan.time_zone is not None and scan.time_zone.resolved_by is TimeZoneSource.UTC


@pytest.mark.parametrize(
    "document",
    [
        {"msg": {"title": "no tracking number"}, "event": "tracking_update"},
        {"meta": {"code": 200}, "data": {"page": 1}},
        {"meta": {}, "data": {"tracking": {"tracking_number": "1"}}},
        {"tracking_number": "123"},
        ["not", "an", "object"],
    ],
)
def test_a_shape_aftership_does_not_document_is_a_payload_error(document):
    with pytest.raises(PayloadError):
        scans_from_payload(json.dumps(document).encode(), SOURCE)


def test_other_sources_documents_are_not_claimed():
    assert not aftership.recognises(json.loads(payload("easypost", "tracker_retrieve.json")))
    assert not aftership.recognises(json.loads(payload("shippo", "tracks_get_delivered.json")))
    assert not aftership.recognises(
        json.loads(payload("17track", "constructed_gettrackinfo_mixed.json"))
    )


def test_a_last_checkpoint_response_reads_its_one_checkpoint():
    tracking = json.loads(payload(SOURCE, "constructed_api_exception_customs.json"))["data"]
    body = {
        "meta": {"code": 200},
        "data": {
            "id": tracking["id"],
            "tracking_number": tracking["tracking_number"],
            "slug": tracking["slug"],
            "tag": tracking["tag"],
            "subtag": tracking["subtag"],
            "checkpoint": tracking["checkpoints"][-1],
        },
    }
    result = scans_from_payload(json.dumps(body).encode())
    [scan] = result.normalized.scans
    full = read(SOURCE, "constructed_api_exception_customs.json").normalized.scans[-1]
    assert (scan.event_id, scan.status, scan.reason) == (full.event_id, full.status, full.reason)


def test_a_generic_exception_subtag_takes_its_reason_from_the_checkpoint_event():
    def generic(document):
        checkpoint = document["data"]["checkpoints"][-1]
        checkpoint.update(subtag="Exception_001", message="Shipment on hold")

    scan = scans_from_payload(
        _edited("constructed_api_exception_customs.json", generic), SOURCE
    ).normalized.scans[-1]
    # events[].code held_by_customs says what the words do not.
    assert (scan.status, scan.reason) == (ShipmentStatus.EXCEPTION, ExceptionReason.CUSTOMS_DELAY)
    assert scan.carrier_status_code == "CR"
