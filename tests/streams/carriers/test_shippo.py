"""Shippo Tracks and track_updated webhooks → scans (payloads: tests/data/carriers/shippo)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from parcelwatch.schemas.types import (
    DeliveryLocationKind,
    ExceptionReason,
    ShipmentStatus,
    TimeZoneSource,
)
from parcelwatch.streams.carriers.model import PayloadError
from parcelwatch.streams.carriers.payloads import shippo
from parcelwatch.streams.carriers.reading import scans_from_payload
from tests.streams.carriers.conftest import payload, read

SOURCE = "shippo"


def _edited(name: str, edit) -> bytes:
    document = json.loads(payload(SOURCE, name))
    edit(document)
    return json.dumps(document).encode()


def test_the_published_delivered_track_reads_in_utc_with_the_mailbox_and_eta_day():
    result = read(SOURCE, "tracks_get_delivered.json")
    scans = result.normalized.scans
    # tracking_status is the history's last entry: two scans, not three.
    assert [scan.status for scan in scans] == [ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED]
    delivered = scans[-1]
    assert delivered.occurred_at == datetime(2016, 7, 23, 13, 3, tzinfo=UTC)
    assert delivered.time_zone is not None
    assert delivered.time_zone.resolved_by is TimeZoneSource.OFFSET
    assert delivered.carrier == "usps"
    assert delivered.location is not None and delivered.location.postal_code == "22551"
    assert delivered.delivery_location is not None
    assert delivered.delivery_location.kind is DeliveryLocationKind.MAILBOX
    # eta "2016-07-23T00:00:00Z" is a day: its end at the destination (Virginia).
    assert delivered.estimated_delivery == datetime(
        2016, 7, 23, 23, 59, 59, tzinfo=ZoneInfo("America/New_York")
    )
    assert result.normalized.unmapped == []


def test_the_published_test_mode_track_reads_naive_times_as_utc():
    scans = read(SOURCE, "tracks_get_test_transit.json").normalized.scans
    assert [scan.status for scan in scans] == [ShipmentStatus.UNKNOWN, ShipmentStatus.IN_TRANSIT]
    assert scans[-1].occurred_at == datetime(2018, 7, 29, 16, 44, 42, 589000, tzinfo=UTC)
    assert scans[-1].carrier_status_code == "TRANSIT"  # substatus null: the status alone


def test_a_failed_attempt_webhook_maps_the_substatus_pair():
    scans = read(SOURCE, "constructed_webhook_failed_attempt.json").normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.INFO_RECEIVED,
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.ATTEMPT_FAILED,
    ]
    attempt = scans[-1]
    assert attempt.reason is ExceptionReason.RECIPIENT_UNAVAILABLE
    assert attempt.carrier_status_code == "TRANSIT/notice_left"
    assert attempt.carrier == "ups"
    assert scans[0].location is None  # Shippo sends null locations for pre-transit


def test_a_held_parcel_is_an_exception_with_the_reason_from_the_carriers_words():
    held = read(SOURCE, "constructed_webhook_exception.json").normalized.scans[-1]
    assert (held.status, held.reason) == (ShipmentStatus.EXCEPTION, ExceptionReason.CUSTOMS_DELAY)
    assert held.carrier == "fedex"
    assert held.location is not None and held.location.country == "CA"


def test_a_return_is_flagged():
    scans = read(SOURCE, "constructed_webhook_return.json").normalized.scans
    assert (scans[0].status, scans[0].reason) == (
        ShipmentStatus.EXCEPTION,
        ExceptionReason.ADDRESS_ISSUE,
    )
    assert scans[-1].status is ShipmentStatus.RETURNING_TO_SENDER
    assert scans[-1].return_to_sender is True
    assert not scans[0].return_to_sender


def test_available_for_pickup_carries_the_pickup_place_and_an_eta_with_offset():
    [scan] = read(SOURCE, "constructed_webhook_pickup_available.json").normalized.scans
    assert scan.status is ShipmentStatus.AVAILABLE_FOR_PICKUP
    assert scan.carrier == "canadapost"
    assert scan.pickup_point is not None and scan.pickup_point.location == scan.location
    assert scan.estimated_delivery is not None
    assert scan.estimated_delivery.isoformat() == "2026-11-24T17:00:00-07:00"


def test_an_unknown_number_is_an_error_with_shippos_words():
    result = read(SOURCE, "constructed_tracks_unknown_number.json")
    assert result.normalized.scans == []
    [error] = result.errors
    assert error.code == "UNKNOWN"
    assert error.tracking_number == "9400111111111111111111"
    assert error.message == "The carrier has not yet received or scanned your package."


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("error_not_found.json", "Not found."),
        ("error_permission_denied.json", "You do not have permission to perform this action."),
    ],
)
def test_an_error_body_gives_the_words_and_no_scans(name, words):
    result = read(SOURCE, name)
    assert result.normalized.scans == []
    [error] = result.errors
    assert (error.code, error.message) == (None, words)  # Shippo's error bodies carry no code


def test_a_webhook_about_something_else_gives_nothing():
    result = read(SOURCE, "constructed_webhook_transaction_created.json")
    assert (result.normalized.scans, result.errors, result.histories) == ([], (), 0)


@pytest.mark.parametrize(
    "name",
    [
        "tracks_get_delivered.json",
        "tracks_get_test_transit.json",
        "constructed_webhook_failed_attempt.json",
        "constructed_webhook_return.json",
        "constructed_webhook_transaction_created.json",
    ],
)
def test_shippo_payloads_are_recognised(name):
    assert read(SOURCE, name, named=False).source.value == SOURCE


def test_a_resent_history_gives_the_same_ids():
    once = read(SOURCE, "constructed_webhook_failed_attempt.json").normalized.scans
    # The next webhook resends the history with new Shippo bookkeeping times.
    again = scans_from_payload(
        _edited(
            "constructed_webhook_failed_attempt.json",
            lambda document: [
                status.update(object_updated="2026-11-20T00:00:00Z")
                for status in document["data"]["tracking_history"]
            ],
        ),
        SOURCE,
    ).normalized.scans
    assert [scan.event_id for scan in once] == [scan.event_id for scan in again]
    assert len({scan.event_id for scan in once}) == len(once)


def test_an_unlisted_substatus_needing_action_is_a_failed_attempt_a_new_status_unknown():
    def new_codes(document):
        history = document["data"]["tracking_history"]
        history[1]["substatus"] = {"code": "driver_lost_keys", "text": "?", "action_required": True}
        history[2].update(status="TELEPORTED", substatus=None, status_details="Beamed up")

    result = scans_from_payload(_edited("constructed_webhook_failed_attempt.json", new_codes))
    needs_action, beamed = result.normalized.scans[1:3]
    assert needs_action.status is ShipmentStatus.ATTEMPT_FAILED
    assert needs_action.carrier_status_code == "TRANSIT/driver_lost_keys"
    assert beamed.status is ShipmentStatus.UNKNOWN
    assert beamed.carrier_status_code == "TELEPORTED"
    assert [(item.code, item.description) for item in result.normalized.unmapped] == [
        ("TELEPORTED", "Beamed up")
    ]


def test_an_empty_history_with_a_latest_status_reads_that_status():
    def only_latest(document):
        document["data"]["tracking_history"] = []

    [scan] = scans_from_payload(
        _edited("constructed_webhook_failed_attempt.json", only_latest), SOURCE
    ).normalized.scans
    assert scan.status is ShipmentStatus.ATTEMPT_FAILED


@pytest.mark.parametrize(
    "document",
    [
        {"event": "track_updated", "data": "not a track"},
        {"event": "track_updated", "data": {"carrier": "usps", "tracking_number": None}},
        {"carrier": "usps", "tracking_history": []},
        [1, 2],
    ],
)
def test_a_shape_shippo_does_not_document_is_a_payload_error(document):
    with pytest.raises(PayloadError):
        scans_from_payload(json.dumps(document).encode(), SOURCE)


def test_other_sources_documents_are_not_claimed():
    assert not shippo.recognises(json.loads(payload("easypost", "tracker_retrieve.json")))
    assert not shippo.recognises(
        json.loads(payload("aftership", "constructed_webhook_delivered_legacy.json"))
    )
    assert not shippo.recognises(json.loads(payload("17track", "constructed_push_delivered.json")))


def test_a_transaction_object_is_not_taken_for_a_track():
    webhook = json.loads(payload(SOURCE, "constructed_webhook_transaction_created.json"))
    assert not shippo.recognises(webhook["data"])  # tracking_status is a plain string there
