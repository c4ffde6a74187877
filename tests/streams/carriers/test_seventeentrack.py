"""17TRACK pushes and gettrackinfo responses → scans (payloads: tests/data/carriers/17track)."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from parcelwatch.schemas.types import (
    DeliveryLocationKind,
    ExceptionReason,
    ShipmentStatus,
    TimeZoneSource,
)
from parcelwatch.streams.carriers.model import PayloadError
from parcelwatch.streams.carriers.payloads import seventeentrack
from parcelwatch.streams.carriers.reading import scans_from_payload
from tests.streams.carriers.conftest import assert_error_answer, payload, read

SOURCE = "17track"


def _edited(name: str, edit) -> bytes:
    document = json.loads(payload(SOURCE, name))
    edit(document)
    return json.dumps(document).encode()


def test_a_delivered_push_reads_every_carrier_leg_in_order_with_local_offsets():
    result = read(SOURCE, "constructed_push_delivered.json")
    scans = result.normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.INFO_RECEIVED,
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    ]
    # Origin post (China Post) and last mile (USPS) events, each in its own offset.
    assert scans[1].occurred_at.isoformat() == "2026-11-01T18:20:00+08:00"
    assert scans[1].location is not None and scans[1].location.country == "CN"
    delivered = scans[-1]
    assert delivered.occurred_at.isoformat() == "2026-11-12T14:34:00-08:00"
    assert delivered.time_zone is not None
    assert delivered.time_zone.resolved_by is TimeZoneSource.OFFSET
    assert delivered.carrier_status_code == "Delivered_Other"
    assert delivered.carrier == "china_post"  # the registered carrier, by its provider name
    assert delivered.delivery_location is not None
    assert delivered.delivery_location.kind is DeliveryLocationKind.MAILBOX
    # The end of 17TRACK's estimated window.
    assert delivered.estimated_delivery is not None
    assert delivered.estimated_delivery.isoformat() == "2026-11-13T20:00:00-08:00"
    assert result.normalized.unmapped == []


def test_a_mixed_response_gives_scans_and_each_numbers_own_error():
    result = read(SOURCE, "constructed_gettrackinfo_mixed.json")
    assert result.histories == 1
    scans = result.normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.ATTEMPT_FAILED,
    ]
    attempt = scans[-1]
    assert attempt.reason is ExceptionReason.RECIPIENT_UNAVAILABLE
    assert attempt.carrier == "ups"  # 17TRACK carrier key 100002
    assert attempt.occurred_at.isoformat() == "2026-11-18T16:12:00-07:00"
    # A date-only estimate: the end of that day in Denver.
    assert attempt.estimated_delivery == datetime(
        2026, 11, 19, 23, 59, 59, tzinfo=ZoneInfo("America/Denver")
    )
    errors = {error.tracking_number: error for error in result.errors}
    assert errors["9400111899999999999999"].code == "NotFound_InvalidCode"
    assert errors["9400111899999999999999"].message == "The tracking number is invalid."
    rejected = errors["LX000000000CN"]
    assert rejected.code == "-18019902"
    assert "register first" in rejected.message


def test_an_older_schema_push_classifies_the_latest_event_and_reads_the_rest_from_words():
    scans = read(SOURCE, "constructed_push_exception_v22.json").normalized.scans
    picked_up, processed, damaged = scans
    assert (damaged.status, damaged.reason) == (ShipmentStatus.EXCEPTION, ExceptionReason.DAMAGED)
    assert damaged.carrier_status_code == "Exception_Damage"  # from latest_status
    assert damaged.carrier == "dhl_parcel_de"  # provider "DHL Paket"
    assert processed.status is ShipmentStatus.IN_TRANSIT
    assert processed.carrier_status_code is None
    # time_iso without offset and no time_utc: the parcel centre's zone.
    assert processed.time_zone is not None and processed.time_zone.zone == "Europe/Berlin"
    assert processed.occurred_at == datetime(2026, 11, 18, 21, 40, tzinfo=ZoneInfo("Europe/Berlin"))
    # Only time_raw, with its offset.
    assert picked_up.status is ShipmentStatus.PICKED_UP
    assert picked_up.occurred_at.isoformat() == "2026-11-17T16:02:00+01:00"
    assert picked_up.location is None


def test_a_return_is_returning_then_returned_and_flagged():
    scans = read(SOURCE, "constructed_push_return.json").normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.RETURNING_TO_SENDER,
        ShipmentStatus.RETURNED_TO_SENDER,
    ]
    assert all(scan.return_to_sender for scan in scans)
    assert {scan.carrier for scan in scans} == {"royalmail"}
    assert scans[0].reason is ExceptionReason.ADDRESS_ISSUE  # "the address was incomplete"


def test_a_refused_call_gives_17tracks_code_and_words_and_no_scans():
    assert_error_answer(
        SOURCE, "constructed_error_invalid_key.json", "-18010002", "Invalid security key."
    )


@pytest.mark.parametrize(
    "name",
    [
        "constructed_push_delivered.json",
        "constructed_gettrackinfo_mixed.json",
        "constructed_push_exception_v22.json",
        "constructed_error_invalid_key.json",
    ],
)
def test_17track_payloads_are_recognised(name):
    assert read(SOURCE, name, named=False).source.value == SOURCE


def test_a_resent_history_gives_the_same_ids():
    once = read(SOURCE, "constructed_push_delivered.json").normalized.scans
    # TRACKING_STOPPED resends the whole history, with new 17TRACK bookkeeping.
    again = scans_from_payload(
        _edited(
            "constructed_push_delivered.json",
            lambda document: document.update(event="TRACKING_STOPPED"),
        ),
        SOURCE,
    ).normalized.scans
    assert [scan.event_id for scan in once] == [scan.event_id for scan in again]
    assert len({scan.event_id for scan in once}) == len(once)


def test_an_unknown_sub_status_falls_back_to_the_stage_and_an_unknown_code_is_kept():
    def new_codes(document):
        events = document["data"]["track_info"]["tracking"]["providers"][0]["events"]
        events[2]["sub_status"] = "InTransit_TransportArrived"  # third-party only
        events[1].update(sub_status="Teleported_Other", stage=None, description="Beamed up")

    result = scans_from_payload(_edited("constructed_push_delivered.json", new_codes))
    by_code = {scan.carrier_status_code: scan for scan in result.normalized.scans}
    assert by_code["InTransit_TransportArrived"].status is ShipmentStatus.IN_TRANSIT  # "Arrival"
    assert by_code["Teleported_Other"].status is ShipmentStatus.UNKNOWN
    assert [(item.code, item.description) for item in result.normalized.unmapped] == [
        ("Teleported_Other", "Beamed up")
    ]


def test_a_number_without_track_info_yet_is_a_parcel_without_scans():
    def registered_only(document):
        document["data"]["track_info"] = None

    result = scans_from_payload(_edited("constructed_push_delivered.json", registered_only))
    assert (result.histories, result.normalized.scans, result.errors) == (1, [], ())


@pytest.mark.parametrize(
    "document",
    [
        {"event": "TRACKING_UPDATED", "data": {"carrier": 3011}},
        {"code": 0, "data": {"accepted": [{"number": "X", "track_info": {"tracking": {
            "providers": [{"events": [{"description": "no time at all"}]}]}}}]}},
        {"data": {"accepted": []}},
        "RR123456785CN",
    ],
)  # fmt: skip
def test_a_shape_17track_does_not_document_is_a_payload_error(document):
    with pytest.raises(PayloadError):
        scans_from_payload(json.dumps(document).encode(), SOURCE)


def test_other_sources_documents_are_not_claimed():
    assert not seventeentrack.recognises(json.loads(payload("easypost", "tracker_retrieve.json")))
    assert not seventeentrack.recognises(
        json.loads(payload("shippo", "constructed_webhook_failed_attempt.json"))
    )
    assert not seventeentrack.recognises(
        json.loads(payload("aftership", "constructed_error_tracking_not_found.json"))
    )


def test_a_register_response_accepts_parcels_without_scans_yet():
    body = {
        "code": 0,
        "data": {
            "accepted": [{"origin": 1, "number": "RR123456785CN", "carrier": 3011}],
            "rejected": [],
        },
    }
    result = scans_from_payload(json.dumps(body).encode())
    assert (result.source.value, result.histories, result.normalized.scans) == (SOURCE, 1, [])
