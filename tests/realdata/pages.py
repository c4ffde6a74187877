"""What every rendered tracking page must be, whatever data it shows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tests.streams.core.page_reading import PageReading

# An ``&`` that does not start a character reference: data left unescaped.
BARE_AMPERSAND = re.compile(r"&(?!(?:#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)")


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
