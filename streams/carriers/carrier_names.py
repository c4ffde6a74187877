"""A platform's name for a carrier → parcelwatch's carrier id (``data/carrier_names.json``)."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

NAMES_FILE = Path(__file__).resolve().parent / "data" / "carrier_names.json"
UNKNOWN_CARRIER = "unknown"
_MAX_ID_CHARS = 32  # scan.v1 carrier: ^[a-z0-9][a-z0-9_-]{0,31}$


def _key(name: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", name.upper())


@functools.cache
def _aliases() -> dict[str, str]:
    data = json.loads(NAMES_FILE.read_text(encoding="utf-8"))
    aliases: dict[str, str] = {}
    for carrier, names in data["carriers"].items():
        for name in (carrier, *names):
            aliases[_key(name)] = carrier
    return aliases


@functools.cache
def known_carrier_ids() -> frozenset[str]:
    """The carriers ``data/carrier_names.json`` knows by name."""
    return frozenset(json.loads(NAMES_FILE.read_text(encoding="utf-8"))["carriers"])


def carrier_id(name: str | None) -> str:
    """The carrier id for a platform's carrier name: a known carrier's id, else a slug of the name
    (``"Purolator"`` → ``"purolator"``), else ``unknown``."""
    if not name:
        return UNKNOWN_CARRIER
    known = _aliases().get(_key(name))
    if known is not None:
        return known
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:_MAX_ID_CHARS].rstrip("_-")
    return slug or UNKNOWN_CARRIER
