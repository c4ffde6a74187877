"""Correios (Brazil) SRO tracking: the REST "SRO Rastro" API (JSON) and the SOAP "Rastro" web
service / older ``sroxml`` answers (XML).

Documentation: Correios' "Web Service de Rastreamento — Padrões Técnicos de Comunicação" manual
(WSDL https://webservice.correios.com.br/service/rastro/Rastro.wsdl) and the API at
https://api.correios.com.br/srorastro/v1 (``/objetos?codigosObjetos=…&resultado=T``).

An event is the pair (event type, status), e.g. ``BDE`` + ``01``: the same type means different
things with different statuses, so the scan keeps ``"BDE/01"``, and the table is tried with the pair
and then the type alone. The names are swapped between the eras: REST ``codigo``/``tipo`` are SOAP
``tipo``/``status``. Times are local, without offset (REST ``dtHrCriado``; SOAP ``data`` dd/mm/aaaa
and ``hora`` hh:mm), read in the unit's zone (state, CEP), else Brasília time.

Errors: a REST object with ``mensagem`` and no events (e.g. "SRO-020: Objeto não encontrado na base
de dados dos Correios."), a REST call error ``{"msgs": [...]}``, a SOAP ``objeto`` with ``erro``, or
a SOAP Fault.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from xml.etree.ElementTree import Element

from parcelwatch.schemas.types import CarrierSource, Location, PickupPoint
from parcelwatch.streams.carriers.countries import country_code
from parcelwatch.streams.carriers.documents import Document, as_list, dig, objects, text, xml_text
from parcelwatch.streams.carriers.model import (
    CarrierError,
    CarrierEvent,
    CarrierResponse,
    PayloadError,
    TrackingHistory,
)
from parcelwatch.streams.carriers.registry import SourceFormat
from parcelwatch.streams.carriers.times import parse_iso, parse_with

CARRIER = "correios"
BRAZIL = "BR"
_LOCAL_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y")
_MESSAGE_CODE = re.compile(r"^\s*([A-Z]{2,5}-\d{2,4})\s*[:\-\u2013]\s*")
# Final delivery rounds ("baixa"): the signer (recebedor) belongs to these events.
_ROUND_CODES = frozenset({"BDE", "BDI", "BDR"})
_DELIVERED_STATUSES = frozenset({"00", "01", "23"})
# Waiting at a unit, PO box or smart locker: the unit is the pickup point.
_PICKUP_PAIRS = frozenset({"BDE/24", "BDI/24", "BDR/24", "BDE/68", "BDI/68", "BDR/68"})
_SOAP_ROOTS = frozenset(
    {
        "Envelope",
        "Body",
        "buscaEventosResponse",
        "buscaEventosListaResponse",
        "return",
        "rastro",
        "sroxml",
    }
)


def parse(document: Document) -> CarrierResponse:
    if isinstance(document, Element):
        return _parse_xml(document)
    if not isinstance(document, dict):
        raise PayloadError("a Correios answer is a JSON object or XML")
    if "objetos" not in document:
        messages = [text(item) for item in as_list(document.get("msgs"))]
        if any(messages):
            return CarrierResponse(errors=(_error("; ".join(filter(None, messages)), None),))
        raise PayloadError("neither Correios 'objetos' nor an error ('msgs')")
    histories: list[TrackingHistory] = []
    errors: list[CarrierError] = []
    for item in objects(document.get("objetos")):
        number = text(item.get("codObjeto"))
        message = text(item.get("mensagem"))
        if message is not None and not item.get("eventos"):
            errors.append(_error(message, number))
            continue
        if number is None:
            raise PayloadError("a Correios object without codObjeto")
        histories.append(
            TrackingHistory(
                tracking_number=number,
                carrier=CARRIER,
                events=tuple(_rest_event(event) for event in objects(item.get("eventos"))),
                estimated_delivery=_estimate(item.get("dtPrevista")),
            )
        )
    return CarrierResponse(histories=tuple(histories), errors=tuple(errors))


def recognises(document: Document) -> bool:
    if isinstance(document, Element):
        if document.tag not in _SOAP_ROOTS:
            return False
        found = next(document.iter("objeto"), None)
        return found is not None and found.find("numero") is not None
    if not isinstance(document, dict):
        return False
    items = document.get("objetos")
    return (
        isinstance(items, list)
        and bool(items)
        and all(isinstance(item, dict) and "codObjeto" in item for item in items)
    )


# --- REST (JSON)


def _rest_event(event: dict[str, Any]) -> CarrierEvent:
    kind = text(event.get("codigo"))
    pair = _pair(kind, text(event.get("tipo")))
    unit = event.get("unidade") if isinstance(event.get("unidade"), dict) else {}
    location = _rest_location(unit)
    signer = _person(event.get("recebedor"))
    return CarrierEvent(
        occurred_at=_rest_time(event.get("dtHrCriado")),
        code=pair,
        description=_words(text(event.get("descricao")), text(event.get("detalhe"))),
        location=location,
        mapping_keys=_keys(pair, kind),
        signer=signer if _is_round(pair) else None,
        pickup_point=_pickup_point(pair, kind, text(unit.get("nome")), location, unit),
    )


def _rest_time(value: Any) -> datetime:
    # The website's variant of the same objects writes a PHP date object {"date": ...}.
    if isinstance(value, dict):
        value = value.get("date")
    moment = text(value)
    if moment is None:
        raise PayloadError("a Correios event without dtHrCriado")
    if "/" in moment:
        return parse_with(moment, *_LOCAL_FORMATS)
    return parse_iso(moment)


def _rest_location(unit: dict[str, Any]) -> Location | None:
    address = unit.get("endereco") if isinstance(unit.get("endereco"), dict) else {}
    abroad = (text(unit.get("tipo")) or "").casefold() in {"país", "pais"}
    country = BRAZIL
    if abroad:
        country = country_code(text(unit.get("nome")))
    elif text(address.get("pais")) or text(address.get("siglaPais")):
        country = country_code(text(address.get("siglaPais")) or text(address.get("pais")))
    location = Location(
        city=text(address.get("cidade")),
        region=text(address.get("uf")),
        postal_code=text(address.get("cep")),
        country=country,
    )
    return None if location == Location(country=BRAZIL) or location == Location() else location


def _person(value: Any) -> str | None:
    if isinstance(value, dict):
        return text(value.get("nome"))
    return text(value)


def _estimate(value: Any) -> datetime | date | None:
    estimate = text(value)
    if estimate is None:
        return None
    if "/" in estimate:
        return parse_with(estimate, *_LOCAL_FORMATS)
    return parse_iso(estimate)


# --- SOAP / sroxml (XML)


def _parse_xml(root: Element) -> CarrierResponse:
    fault = next(root.iter("Fault"), None)
    if fault is not None:
        code = xml_text(fault, "faultcode") or xml_text(fault, "Code/Value")
        words = xml_text(fault, "faultstring") or xml_text(fault, "Reason/Text") or "SOAP Fault"
        return CarrierResponse(errors=(CarrierError(code, words),))
    if root.tag not in _SOAP_ROOTS:
        raise PayloadError(f"not a Correios Rastro answer (root element {root.tag!r})")
    histories: list[TrackingHistory] = []
    errors: list[CarrierError] = []
    for item in root.iter("objeto"):
        number = xml_text(item, "numero")
        message = xml_text(item, "erro")
        events = item.findall("evento")
        if message is not None and not events:
            errors.append(_error(message, number))
            continue
        if number is None:
            raise PayloadError("a Correios objeto without numero")
        histories.append(
            TrackingHistory(number, CARRIER, tuple(_xml_event(event) for event in events))
        )
    return CarrierResponse(histories=tuple(histories), errors=tuple(errors))


def _xml_event(event: Element) -> CarrierEvent:
    kind = xml_text(event, "tipo")
    pair = _pair(kind, xml_text(event, "status"))
    day = xml_text(event, "data")
    if day is None:
        raise PayloadError("a Correios evento without data")
    hour = xml_text(event, "hora")
    location = Location(
        city=xml_text(event, "cidade"),
        region=xml_text(event, "uf"),
        postal_code=xml_text(event, "codigo"),
        country=BRAZIL,
    )
    unit = xml_text(event, "local")
    return CarrierEvent(
        occurred_at=parse_with(f"{day} {hour}" if hour else day, *_LOCAL_FORMATS),
        code=pair,
        description=_words(xml_text(event, "descricao"), xml_text(event, "detalhe")),
        location=None if location == Location(country=BRAZIL) else location,
        mapping_keys=_keys(pair, kind),
        signer=xml_text(event, "recebedor") if _is_round(pair) else None,
        pickup_point=_pickup_point(pair, kind, unit, location, None),
    )


# --- shared


def _pair(kind: str | None, status: str | None) -> str | None:
    if kind is None:
        return None
    if status is None:
        return kind
    return f"{kind}/{status.zfill(2) if status.isdigit() else status}"


def _keys(pair: str | None, kind: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(key for key in (pair, kind) if key))


def _is_round(pair: str | None) -> bool:
    if pair is None or "/" not in pair:
        return False
    kind, status = pair.split("/", 1)
    return kind in _ROUND_CODES and status in _DELIVERED_STATUSES


def _pickup_point(
    pair: str | None,
    kind: str | None,
    name: str | None,
    location: Location | None,
    unit: dict[str, Any] | None,
) -> PickupPoint | None:
    if kind != "LDI" and pair not in _PICKUP_PAIRS:
        return None
    unit_id = text(dig(unit, "codSro")) if unit else None
    if name is None and unit_id is None and location is None:
        return None
    return PickupPoint(id=unit_id, name=name, location=location)


def _words(description: str | None, detail: str | None) -> str | None:
    if description and detail and detail not in description:
        return f"{description} - {detail}"
    return description or detail


def _error(message: str, number: str | None) -> CarrierError:
    found = _MESSAGE_CODE.match(message)
    if found is None:
        return CarrierError(None, message, number)
    return CarrierError(found.group(1), message[found.end() :] or message, number)


FORMAT = SourceFormat(
    source=CarrierSource.CORREIOS,
    kind="carrier",
    home_zone="America/Sao_Paulo",  # Brasília time; a unit's state or CEP is tried first
    parse=parse,
    recognises=recognises,
)
