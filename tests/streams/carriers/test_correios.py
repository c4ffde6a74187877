"""Correios SRO answers (REST JSON; SOAP and sroxml XML) → scans (tests/data/carriers/correios)."""

from __future__ import annotations

from datetime import datetime

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

SOURCE = "correios"
BRASILIA = "America/Sao_Paulo"


def test_a_delivered_journey_keeps_the_pairs_the_signer_and_brasilia_time():
    result = read(SOURCE, "constructed_rest_delivered.json")
    scans = result.normalized.scans
    assert [scan.status for scan in scans] == [
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    ]
    assert [scan.carrier_status_code for scan in scans] == ["PO/01", "RO/01", "OEC/01", "BDE/01"]
    delivered = scans[-1]
    assert delivered.signer == "MARIA SILVA"
    assert all(scan.signer is None for scan in scans[:-1])
    assert delivered.delivery_location is not None
    assert delivered.delivery_location.kind is DeliveryLocationKind.RECIPIENT
    assert delivered.location is not None
    assert (delivered.location.city, delivered.location.region) == ("RIO DE JANEIRO", "RJ")
    assert (delivered.location.postal_code, delivered.location.country) == ("20040970", "BR")
    # A local time without offset; Rio and São Paulo are on Brasília time (UTC-3).
    assert delivered.time_zone is not None and delivered.time_zone.zone == BRASILIA
    assert delivered.occurred_at.isoformat() == "2026-11-11T14:32:10-03:00"
    assert delivered.estimated_delivery is not None
    assert delivered.estimated_delivery.isoformat() == "2026-11-12T23:59:59-03:00"
    assert result.normalized.unmapped == []


def test_a_failed_attempt_then_a_pickup_point_and_the_not_found_answer():
    result = read(SOURCE, "constructed_rest_failed_attempt_and_not_found.json")
    failed, waiting = result.normalized.scans
    assert (failed.status, failed.reason) == (
        ShipmentStatus.ATTEMPT_FAILED,
        ExceptionReason.RECIPIENT_UNAVAILABLE,
    )
    assert failed.description == (
        "A entrega não pode ser efetuada - Carteiro não atendido - "
        "Será realizada nova tentativa de entrega"
    )
    assert waiting.status is ShipmentStatus.AVAILABLE_FOR_PICKUP
    assert waiting.pickup_point is not None
    assert (waiting.pickup_point.id, waiting.pickup_point.name) == ("13010970", "AC CAMPINAS")
    assert waiting.pickup_point.location is not None
    assert waiting.pickup_point.location.city == "CAMPINAS"
    [error] = result.errors
    assert (error.code, error.tracking_number) == ("SRO-020", "QB000000000BR")
    assert error.message == "Objeto não encontrado na base de dados dos Correios."


def test_a_refused_parcel_goes_back_to_the_sender():
    scans = read(SOURCE, "constructed_rest_return.json").normalized.scans
    refused, out_to_sender, returned = scans
    assert (refused.status, refused.reason) == (
        ShipmentStatus.RETURNING_TO_SENDER,
        ExceptionReason.REFUSED,
    )
    assert out_to_sender.status is ShipmentStatus.RETURNING_TO_SENDER
    assert returned.status is ShipmentStatus.RETURNED_TO_SENDER
    assert all(scan.return_to_sender for scan in scans)


def test_import_tax_is_an_exception_abroad_is_read_in_its_zone_and_unknown_pairs_are_kept():
    result = read(SOURCE, "constructed_rest_customs_payment.json")
    posted, arrived, tax, unknown = result.normalized.scans
    assert posted.location is not None and posted.location.country == "CN"
    assert posted.time_zone is not None
    assert posted.time_zone.resolved_by is TimeZoneSource.LOCATION
    assert posted.time_zone.zone == "Asia/Shanghai"
    assert arrived.status is ShipmentStatus.IN_TRANSIT
    assert (tax.status, tax.reason) == (ShipmentStatus.EXCEPTION, ExceptionReason.HELD_FOR_PAYMENT)
    assert (unknown.status, unknown.carrier_status_code) == (ShipmentStatus.UNKNOWN, "BDE/77")
    assert [item.code for item in result.normalized.unmapped] == ["BDE/77"]


def test_the_soap_answer_reads_events_signer_and_the_per_object_error():
    result = read(SOURCE, "constructed_soap_busca_eventos.xml")
    damaged, forwarded, delivered = result.normalized.scans
    assert (damaged.status, damaged.reason) == (ShipmentStatus.EXCEPTION, ExceptionReason.DAMAGED)
    assert forwarded.status is ShipmentStatus.IN_TRANSIT
    assert delivered.status is ShipmentStatus.DELIVERED
    assert delivered.signer == "JOAO SOUZA"
    assert delivered.location is not None and delivered.location.postal_code == "04117970"
    assert delivered.occurred_at.replace(tzinfo=None) == datetime(2016, 5, 17, 11, 20)
    assert delivered.time_zone is not None and delivered.time_zone.zone == BRASILIA
    [error] = result.errors
    assert (error.code, error.tracking_number) == (None, "DU000000000BR")
    assert "não encontrado" in error.message


def test_the_old_sroxml_answer_in_latin_1_with_a_single_event():
    [scan] = read(SOURCE, "constructed_sroxml_single_event.xml").normalized.scans
    assert (scan.status, scan.reason) == (
        ShipmentStatus.ATTEMPT_FAILED,
        ExceptionReason.RECIPIENT_UNAVAILABLE,
    )
    assert scan.carrier_status_code == "BDI/02"
    assert scan.description == "A entrega não pode ser efetuada - Carteiro não atendido"
    assert scan.location is not None and scan.location.region == "AM"


def test_a_call_error_gives_the_words_and_no_scans():
    result = read(SOURCE, "constructed_rest_auth_error.json")
    assert result.normalized.scans == []
    [error] = result.errors
    assert error.message == "Token inválido ou expirado."


@pytest.mark.parametrize(
    "name",
    [
        "constructed_rest_delivered.json",
        "constructed_rest_failed_attempt_and_not_found.json",
        "constructed_soap_busca_eventos.xml",
        "constructed_sroxml_single_event.xml",
    ],
)
def test_correios_payloads_are_recognised(name):
    assert read(SOURCE, name, named=False).source.value == SOURCE


def test_a_status_written_as_a_number_is_the_same_pair():
    body = payload(SOURCE, "constructed_rest_return.json").replace(b'"tipo": "04"', b'"tipo": 4')
    refused = scans_from_payload(body, SOURCE).normalized.scans[0]
    assert refused.carrier_status_code == "BDE/04"
    original = read(SOURCE, "constructed_rest_return.json").normalized.scans[0]
    assert refused.event_id == original.event_id


def test_a_soap_fault_is_the_carriers_error():
    body = (
        b"<Envelope><Body><Fault><faultcode>soap:Server</faultcode>"
        b"<faultstring>Usuario ou senha invalidos</faultstring></Fault></Body></Envelope>"
    )
    [error] = scans_from_payload(body, SOURCE).errors
    assert (error.code, error.message) == ("soap:Server", "Usuario ou senha invalidos")


@pytest.mark.parametrize(
    "body",
    [
        b'{"objects": []}',
        b"<rastreio><item/></rastreio>",
        payload(SOURCE, "constructed_rest_return.json").replace(b'"dtHrCriado"', b'"quando"'),
    ],
)
def test_other_shapes_are_payload_errors(body):
    with pytest.raises(PayloadError):
        scans_from_payload(body, SOURCE)
