"""Every source's mapping table is well formed: the format is checked on load."""

from __future__ import annotations

import json

import pytest

from parcelwatch.schemas.types import CarrierSource, ExceptionReason, ShipmentStatus
from parcelwatch.streams.carriers.mapping import (
    MAPPING_DIR,
    MappingTableError,
    mapping_table,
    read_table_file,
)
from parcelwatch.streams.carriers.registry import MODULES

TABLES = sorted(path.stem for path in MAPPING_DIR.glob("*.json") if path.stem != "common")
SOURCE_OF_FILE = {module: source.value for source, module in MODULES.items()}


@pytest.mark.parametrize("stem", TABLES)
def test_every_table_is_for_a_contract_source_and_loads(stem):
    source = SOURCE_OF_FILE[stem]
    table = mapping_table(source)
    assert table.codes or table.texts, "a table maps something"
    data = read_table_file(MAPPING_DIR / f"{stem}.json")
    assert data["source"] == source
    assert data["key"], "the table says what its codes are"


@pytest.mark.parametrize("stem", TABLES)
def test_every_code_names_its_document_and_the_carriers_words(stem):
    data = read_table_file(MAPPING_DIR / f"{stem}.json")
    for code, entry in data.get("codes", {}).items():
        assert entry["document"] in data["documents"], code
        assert entry["description"].strip(), code
    for entry in data.get("texts", []):
        assert entry["document"] in data["documents"]


def test_a_code_listed_twice_is_refused(tmp_path):
    path = tmp_path / "twice.json"
    path.write_text('{"codes": {"X": {}, "X": {}}}')
    with pytest.raises(MappingTableError, match="listed twice"):
        read_table_file(path)


def test_a_document_without_an_https_url_is_refused(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"documents": {"d": {"title": "t", "url": "http://x"}}}))
    with pytest.raises(MappingTableError, match="https"):
        read_table_file(path)


def test_lookup_prefers_the_most_specific_key_then_words():
    table = mapping_table("easypost")
    failure = table.lookup(("failure/delayed", "delayed", "failure"), "Customer not available")
    assert failure.mapping.status is ShipmentStatus.ATTEMPT_FAILED
    assert failure.mapping.reason is ExceptionReason.RECIPIENT_UNAVAILABLE  # from the words
    transit = table.lookup(("in_transit/delayed", "delayed", "in_transit"), None)
    assert (transit.mapping.status, transit.mapping.reason) == (
        ShipmentStatus.EXCEPTION,
        ExceptionReason.CARRIER_DELAY,
    )
    generic = table.lookup(("in_transit/status_update", "status_update", "in_transit"), None)
    assert generic.mapping.status is ShipmentStatus.IN_TRANSIT


def test_what_nothing_maps_is_unknown_and_says_so():
    found = mapping_table("easypost").lookup(("teleported",), "Beamed up")
    assert (found.mapped, found.mapping.status) == (False, ShipmentStatus.UNKNOWN)


@pytest.mark.parametrize(
    ("words", "reason"),
    [
        ("Severe weather conditions", ExceptionReason.WEATHER_DELAY),
        ("Held by customs: clearance pending", ExceptionReason.CUSTOMS_DELAY),
        ("Empfänger nicht angetroffen", ExceptionReason.RECIPIENT_UNAVAILABLE),
        ("Adresse incomplète", ExceptionReason.ADDRESS_ISSUE),
        ("Objeto recusado pelo destinatário", ExceptionReason.REFUSED),
        ("Package damaged in transit", ExceptionReason.DAMAGED),
        ("Scanned at the wrong facility", ExceptionReason.MISSORTED),
        # An address problem that "may delay delivery" is about the address.
        ("The street number is incorrect. This may delay delivery.", ExceptionReason.ADDRESS_ISSUE),
    ],
)
def test_shared_reasons_read_the_carriers_words_in_several_languages(words, reason):
    assert mapping_table("easypost").reason_from_text(words) is reason


def test_the_module_table_covers_every_contract_source():
    assert set(MODULES) == set(CarrierSource)


def test_fallback_keys_are_tried_only_after_the_words():
    table = mapping_table("dhl_express")
    refined = table.lookup(
        (), "The shipment has been loaded onto the delivery vehicle", ("transit",)
    )
    assert refined.mapping.status is ShipmentStatus.OUT_FOR_DELIVERY
    assert refined.by == "text"
    plain = table.lookup((), "Arrived at the sort facility LEIPZIG", ("transit",))
    assert (plain.mapping.status, plain.by) == (ShipmentStatus.IN_TRANSIT, "code")
