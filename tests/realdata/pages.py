"""What every answer document and its rendered tracking page must be, whatever data they show."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import orjson

from parcelwatch.schemas.codec import to_jsonable
from parcelwatch.schemas.lookup import ShipmentAnswer
from tests.streams.core.page_reading import PageReading

SCHEMA = json.loads(
    (
        Path(__file__).resolve().parents[2] / "schemas" / "json" / "shipment-answer.v1.schema.json"
    ).read_text()
)
# Built once: ``jsonschema.validate`` checks the schema itself on every call (slow).
VALIDATOR = jsonschema.validators.validator_for(SCHEMA)(
    SCHEMA, format_checker=jsonschema.FormatChecker()
)

# An ``&`` that does not start a character reference: data left unescaped.
BARE_AMPERSAND = re.compile(r"&(?!(?:#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)")


def served(answer: ShipmentAnswer) -> dict[str, Any]:
    """The answer as the lookup API sends it (JSON), checked against shipment-answer.v1."""
    document = orjson.loads(orjson.dumps(to_jsonable(answer)))
    VALIDATOR.validate(document)
    return document


def assert_sound_page(page: str, answer: Mapping[str, Any]) -> PageReading:
    """Well formed (every tag closed, in order), one heading that is the answer's text, in the
    answer's language, one row per timeline entry, and no bare ``&``."""
    reading = PageReading(page)
    assert reading.unclosed == []
    assert reading.tags.count("h1") == 1 and reading.tags.count("html") == 1
    assert reading.lang == answer["locale"]
    assert reading.by_id["status"] == " ".join(answer["answer"].split())
    assert len(reading.scans) == len(answer["timeline"])
    assert BARE_AMPERSAND.search(page) is None
    return reading
