"""Carriers named to people: real carriers' own names, never an id slug like ``DHL_PARCEL_DE``."""

from __future__ import annotations

import json

import pytest

from parcelwatch.schemas.types import CarrierSource
from parcelwatch.streams.carriers.carrier_names import NAMES_FILE
from parcelwatch.streams.core.answers import build_answer
from parcelwatch.streams.core.carrier_display import carrier_display_name
from parcelwatch.streams.core.tracking import apply_event
from parcelwatch.streams.message_templates.answer_files import load_answer_templates
from tests.factories import at, order, scan


def test_every_known_carrier_has_its_first_listed_name():
    # carrier_names.json lists each carrier's own name first (the core may not read it).
    listed = json.loads(NAMES_FILE.read_text(encoding="utf-8"))["carriers"]
    assert {carrier: carrier_display_name(carrier) for carrier in listed} == {
        carrier: names[0] for carrier, names in listed.items()
    }


@pytest.mark.parametrize("carrier", [source.value for source in CarrierSource])
def test_no_source_is_named_by_its_id(carrier):
    name = carrier_display_name(carrier)
    assert "_" not in name and name.strip() == name and name


def test_an_unknown_carrier_id_reads_as_words():
    assert carrier_display_name("purolator") == "PUROLATOR"
    assert carrier_display_name("dhl_ecommerce-asia") == "DHL ECOMMERCE ASIA"


def test_the_answer_names_the_carrier():
    state = apply_event(None, order(72, carrier="dhl_parcel_de"), at(0)).state
    state = apply_event(state, scan("in_transit", 2, carrier="dhl_parcel_de"), at(2)).state
    text = build_answer(state, at(3), load_answer_templates()).answer
    assert "DHL Paket" in text and "DHL_PARCEL_DE" not in text
