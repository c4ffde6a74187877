"""La Poste Suivi v2 responses → scans (payloads: tests/data/carriers/laposte)."""

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
from tests.streams.carriers.conftest import payload, read

SOURCE = "laposte"


def test_a_delivered_journey_in_order_with_offsets_and_estimate():
    result = read(SOURCE, "constructed_delivered_colissimo.json")
    scans = result.normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.INFO_RECEIVED,
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    ]
    assert [scan.carrier_status_code for scan in scans] == ["DR1", "PC1", "ET1", "MD2", "DI1"]
    assert {scan.carrier for scan in scans} == {"laposte"}
    delivered = scans[-1]
    # La Poste writes the offset: it is taken as written.
    assert delivered.time_zone is not None
    assert delivered.time_zone.resolved_by is TimeZoneSource.OFFSET
    assert delivered.occurred_at.astimezone(UTC) == datetime(2026, 11, 18, 11, 41, tzinfo=UTC)
    assert delivered.delivery_location is not None
    assert delivered.delivery_location.kind is DeliveryLocationKind.MAILBOX
    assert delivered.estimated_delivery is not None
    assert delivered.estimated_delivery.date().isoformat() == "2026-11-18"
    assert result.normalized.unmapped == []


def test_several_ids_give_an_exception_and_the_carriers_error_for_the_other():
    result = read(SOURCE, "constructed_multi_customs_and_unknown.json")
    held = result.normalized.scans[-1]
    assert (held.status, held.reason) == (ShipmentStatus.EXCEPTION, ExceptionReason.CUSTOMS_DELAY)
    assert held.tracking_number == "CB123456789FR"
    [error] = result.errors
    assert (error.code, error.tracking_number) == ("104", "6S00993561113")
    assert error.message.startswith("Votre suivi n'est pas encore disponible")
    assert result.histories == 1


def test_a_failed_attempt_then_the_parcel_waits_at_the_pickup_point():
    scans = read(SOURCE, "constructed_failed_attempt_pickup.json").normalized.scans
    out, failed, waiting = scans
    assert out.status is ShipmentStatus.OUT_FOR_DELIVERY
    assert failed.status is ShipmentStatus.ATTEMPT_FAILED
    assert failed.reason is ExceptionReason.RECIPIENT_UNAVAILABLE
    assert waiting.status is ShipmentStatus.AVAILABLE_FOR_PICKUP
    assert waiting.pickup_point is not None
    assert waiting.pickup_point.name == "BUREAU DE POSTE LYON GERLAND"
    assert failed.pickup_point is None


def test_a_return_goes_back_and_is_delivered_to_the_sender():
    scans = read(SOURCE, "constructed_return.json").normalized.scans
    returning, returned = scans[-2:]
    assert returning.status is ShipmentStatus.RETURNING_TO_SENDER
    assert returning.reason is ExceptionReason.ADDRESS_ISSUE  # from the label
    assert returned.status is ShipmentStatus.RETURNED_TO_SENDER
    assert returning.return_to_sender is returned.return_to_sender is True


def test_the_spec_error_gives_its_code_and_words_and_no_scans():
    result = read(SOURCE, "spec_error_invalid_number.json")
    assert result.normalized.scans == []
    [error] = result.errors
    assert (error.code, error.tracking_number) == ("400", "6S00993561113")
    assert "pas valide" in error.message


def test_the_web_back_end_group_code_is_tried_first_and_kept():
    result = read(SOURCE, "constructed_web_backend_redelivery.json")
    unknown, out, failed = result.normalized.scans
    assert failed.carrier_status_code == "ND1/RENARV"
    assert (failed.status, failed.reason) == (
        ShipmentStatus.ATTEMPT_FAILED,
        ExceptionReason.RECIPIENT_UNAVAILABLE,
    )
    assert out.status is ShipmentStatus.OUT_FOR_DELIVERY  # EDRCOU is not listed: MD2 decides
    assert failed.location is not None and failed.location.country == "FR"
    # Codes nobody documents: unknown, kept, counted.
    assert unknown.status is ShipmentStatus.UNKNOWN
    assert unknown.carrier_status_code == "ZZ9/XYZABC"
    assert [item.code for item in result.normalized.unmapped] == ["ZZ9/XYZABC"]


@pytest.mark.parametrize(
    "name",
    [
        "constructed_delivered_colissimo.json",
        "constructed_multi_customs_and_unknown.json",
        "constructed_failed_attempt_pickup.json",
        "spec_error_invalid_number.json",
        "constructed_web_backend_redelivery.json",
    ],
)
def test_la_poste_payloads_are_recognised(name):
    assert read(SOURCE, name, named=False).source.value == SOURCE


def test_a_shipment_without_events_gives_a_history_and_no_scans():
    body = b'{"returnCode": 200, "shipment": {"idShip": "6A1", "timeline": []}}'
    result = scans_from_payload(body, SOURCE)
    assert (result.histories, result.normalized.scans, result.errors) == (1, [], ())


@pytest.mark.parametrize(
    "body",
    [
        b'{"shipments": []}',
        b"[]",
        payload(SOURCE, "constructed_return.json").replace(b'"date"', b'"when"'),
    ],
)
def test_other_shapes_are_payload_errors(body):
    with pytest.raises(PayloadError):
        scans_from_payload(body, SOURCE)


def test_the_gateways_own_refusal_is_an_error_when_the_source_is_named():
    body = b'{"code": "UNAUTHORIZED", "message": "The API key is not valid"}'
    result = scans_from_payload(body, SOURCE)
    [error] = result.errors
    assert (error.code, error.message) == ("UNAUTHORIZED", "The API key is not valid")
    assert result.normalized.scans == []
