"""The one entry point: a parser meeting a shape it did not expect says so as a PayloadError."""

from __future__ import annotations

from dataclasses import replace

import pytest

from parcelwatch.streams.carriers import reading
from parcelwatch.streams.carriers.model import PayloadError
from parcelwatch.streams.carriers.registry import source_format


@pytest.mark.parametrize(
    "error", [KeyError("x"), TypeError("x"), ValueError("x"), OverflowError("out of range")]
)
def test_an_unexpected_shape_is_a_payload_error_naming_the_source(monkeypatch, error):
    def parse(document):
        raise error

    broken = replace(source_format("easypost"), parse=parse)
    monkeypatch.setattr(reading, "source_format", lambda source: broken)
    with pytest.raises(PayloadError, match="not the documented easypost format"):
        reading.scans_from_payload(b'{"object": "Tracker"}', "easypost")


def test_a_payload_no_source_recognises_must_be_named():
    with pytest.raises(PayloadError, match="not recognised"):
        reading.scans_from_payload(b'{"hello": "world"}')
