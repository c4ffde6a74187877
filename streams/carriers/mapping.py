"""The sources' code tables (``mapping/<source>.json``): carrier codes → status and reason.

A table is data, written from the source's public documentation; every code names the document it
was taken from. The format (checked on load, so a bad table fails at start-up and in tests)::

    {
      "source": "ups",
      "key": "what a code is in this source's payloads (which fields, how they are joined)",
      "documents": {"<doc id>": {"title": "...", "url": "https://..."}},
      "codes": {
        "<code>": {"description": "the source's own words", "status": "<ShipmentStatus>",
                   "reason": "<ExceptionReason>"?, "return_to_sender": true?,
                   "delivery_location": "<DeliveryLocationKind>"?, "document": "<doc id>",
                   "note": "..."?}
      },
      "texts": [{"pattern": "regex", "status": "...", "reason": "..."?, "document": "..."}],
      "reasons": [{"pattern": "regex", "reason": "..."}],
      "not_mapped": [{"what": "...", "why": "..."}]
    }

Lookup: the event's mapping keys in order (its code; or a platform's detailed status, then its
coarse status), else the first ``texts`` pattern that matches the description (for sources that
publish words but no codes, and for codes not in the table), else the event's fallback keys
(coarse codes its words may refine, such as a carrier's status type). What nothing maps is
``unknown`` and counted by the caller; the scan keeps the carrier's code and words either way. A
status that needs a reason and got none takes one from the description: the source's ``reasons``
first, then the shared ones in ``mapping/common.json``.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parcelwatch.schemas.types import DeliveryLocationKind, ExceptionReason, ShipmentStatus

MAPPING_DIR = Path(__file__).resolve().parent / "mapping"
COMMON = "common"
# Statuses whose scan says why: without a reason from the code, one is read from the words.
REASONED = frozenset(
    {
        ShipmentStatus.EXCEPTION,
        ShipmentStatus.ATTEMPT_FAILED,
        ShipmentStatus.RETURNING_TO_SENDER,
        ShipmentStatus.RETURNED_TO_SENDER,
    }
)


Reasons = tuple[tuple[re.Pattern[str], ExceptionReason], ...]


class MappingTableError(ValueError):
    """A mapping file that breaks the format: a bug in the repository, found at load time."""


@dataclass(frozen=True, slots=True)
class CodeMapping:
    status: ShipmentStatus
    reason: ExceptionReason | None = None
    return_to_sender: bool | None = None
    delivery_location: DeliveryLocationKind | None = None


@dataclass(frozen=True, slots=True)
class Mapped:
    """A lookup's answer; ``mapped`` is False when nothing in the table knew the event."""

    mapping: CodeMapping
    mapped: bool
    by: str  # "code" (the key that matched), "text" or "none"


_UNKNOWN = Mapped(CodeMapping(ShipmentStatus.UNKNOWN), mapped=False, by="none")


@dataclass(frozen=True)
class MappingTable:
    source: str
    codes: dict[str, CodeMapping]
    texts: tuple[tuple[re.Pattern[str], CodeMapping], ...]
    reasons: Reasons
    common_reasons: Reasons

    def lookup(
        self, keys: tuple[str, ...], description: str | None, fallback: tuple[str, ...] = ()
    ) -> Mapped:
        found = next(filter(None, (self._by_code(key) for key in keys)), None)
        if found is None and description:
            found = next(
                (
                    Mapped(mapping, mapped=True, by="text")
                    for pattern, mapping in self.texts
                    if pattern.search(description)
                ),
                None,
            )
        if found is None:
            found = next(filter(None, (self._by_code(key) for key in fallback)), None)
        if found is None:
            return _UNKNOWN
        if found.mapping.reason is None and found.mapping.status in REASONED and description:
            reason = self.reason_from_text(description)
            if reason is not None:
                mapping = found.mapping
                found = Mapped(
                    CodeMapping(
                        mapping.status, reason, mapping.return_to_sender, mapping.delivery_location
                    ),
                    mapped=True,
                    by=found.by,
                )
        return found

    def reason_from_text(self, description: str) -> ExceptionReason | None:
        for pattern, reason in (*self.reasons, *self.common_reasons):
            if pattern.search(description):
                return reason
        return None

    def _by_code(self, code: str) -> Mapped | None:
        mapping = self.codes.get(code)
        if mapping is None:
            mapping = self.codes.get(code.strip().upper())
        return None if mapping is None else Mapped(mapping, mapped=True, by="code")


@functools.cache
def mapping_table(source: str) -> MappingTable:
    """The table of ``source`` (a ``CarrierSource`` value), read and checked once."""
    data = read_table_file(MAPPING_DIR / f"{_file_stem(source)}.json")
    common = read_table_file(MAPPING_DIR / f"{COMMON}.json")
    return MappingTable(
        source=source,
        codes={
            code: _code_mapping(entry, f"{source}: code {code!r}", data["documents"])
            for code, entry in data.get("codes", {}).items()
        },
        texts=tuple(
            (_pattern(entry, source), _code_mapping(entry, f"{source}: text", data["documents"]))
            for entry in data.get("texts", [])
        ),
        reasons=_reasons(data, source),
        common_reasons=_reasons(common, COMMON),
    )


def _file_stem(source: str) -> str:
    return "seventeentrack" if source == "17track" else source


def read_table_file(path: Path) -> dict[str, Any]:
    """A table file as JSON, refusing repeated keys (a code listed twice is a mistake)."""

    def no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise MappingTableError(f"{path.name}: keys listed twice: {repeated}")
        return dict(pairs)

    try:
        data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=no_repeats)
    except FileNotFoundError:
        raise MappingTableError(f"no mapping table {path.name}") from None
    if not isinstance(data, dict):
        raise MappingTableError(f"{path.name}: expected a JSON object")
    documents = data.setdefault("documents", {})
    for name, document in documents.items():
        url = document.get("url") if isinstance(document, dict) else None
        if not isinstance(url, str) or not url.startswith("https://") or not document.get("title"):
            raise MappingTableError(f"{path.name}: document {name!r} needs a title and https url")
    return data


def _code_mapping(entry: Any, where: str, documents: dict[str, Any]) -> CodeMapping:
    if not isinstance(entry, dict):
        raise MappingTableError(f"{where}: expected an object")
    if entry.get("document") not in documents:
        raise MappingTableError(f"{where}: 'document' must name one of {sorted(documents)}")
    if "pattern" not in entry and not entry.get("description"):
        raise MappingTableError(f"{where}: the source's own 'description' is required")
    try:
        return CodeMapping(
            status=ShipmentStatus(entry["status"]),
            reason=ExceptionReason(entry["reason"]) if entry.get("reason") else None,
            return_to_sender=entry.get("return_to_sender"),
            delivery_location=(
                DeliveryLocationKind(entry["delivery_location"])
                if entry.get("delivery_location")
                else None
            ),
        )
    except (KeyError, ValueError) as error:
        raise MappingTableError(f"{where}: {error}") from None


def _pattern(entry: dict[str, Any], where: str) -> re.Pattern[str]:
    try:
        return re.compile(entry["pattern"], re.IGNORECASE)
    except (KeyError, re.error) as error:
        raise MappingTableError(f"{where}: bad pattern: {error}") from None


def _reasons(data: dict[str, Any], where: str) -> Reasons:
    try:
        return tuple(
            (_pattern(entry, where), ExceptionReason(entry["reason"]))
            for entry in data.get("reasons", [])
        )
    except (KeyError, ValueError) as error:
        raise MappingTableError(f"{where}: reasons: {error}") from None
