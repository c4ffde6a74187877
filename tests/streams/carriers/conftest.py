"""Shared helpers of the carrier tests: payload files live in tests/data/carriers/<source>/."""

from __future__ import annotations

from pathlib import Path

from parcelwatch.streams.carriers.reading import PayloadScans, scans_from_payload

PAYLOADS = Path(__file__).resolve().parents[2] / "data" / "carriers"


def payload(source: str, name: str) -> bytes:
    return (PAYLOADS / source / name).read_bytes()


def read(source: str, name: str, *, named: bool = True) -> PayloadScans:
    """The scans of a payload file; its source is named, or recognised when ``named`` is False."""
    return scans_from_payload(payload(source, name), source if named else None)


def assert_error_answer(source: str, name: str, code: str | None, words: str) -> None:
    """The file is the carrier's error answer: its own code and words, and no scans."""
    result = read(source, name)
    assert result.normalized.scans == []
    [error] = result.errors
    assert error.code == code
    assert words in error.message
