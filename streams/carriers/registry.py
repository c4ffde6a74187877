"""Source names → their parsers, and recognising a payload's source when nobody said it.

Each ``payloads/<module>.py`` defines ``FORMAT``, a ``SourceFormat``. Modules are imported on first
use, so a worker pays only for the sources it sees.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from parcelwatch.schemas.types import CarrierSource
from parcelwatch.streams.carriers.documents import Document
from parcelwatch.streams.carriers.model import CarrierResponse

# The module of each source under payloads/ ("17track" is not a Python name).
MODULES: dict[CarrierSource, str] = {
    source: "seventeentrack" if source is CarrierSource.SEVENTEEN_TRACK else source.value
    for source in CarrierSource
}


@dataclass(frozen=True)
class SourceFormat:
    """How to read one source's payloads."""

    source: CarrierSource
    kind: Literal["carrier", "platform"]
    # The zone a local time without offset is read in when its location names none (platforms
    # pass on the carrier's local times too; None: UTC).
    home_zone: str | None
    # document → histories and errors; raises PayloadError when the shape is not the documented
    # one. Missing optional fields are not errors.
    parse: Callable[[Document], CarrierResponse]
    # Cheap and specific: True only for documents of this source's documented shape.
    recognises: Callable[[Document], bool]


def source_format(source: CarrierSource | str) -> SourceFormat:
    module = importlib.import_module(
        f"parcelwatch.streams.carriers.payloads.{MODULES[CarrierSource(source)]}"
    )
    found: SourceFormat = module.FORMAT
    return found


def available_formats() -> list[SourceFormat]:
    """Every source's format, in contract order."""
    return [source_format(source) for source in CarrierSource]


class AmbiguousPayload(ValueError):
    """More than one source recognises the payload: the caller must name it."""


def detect_source(document: Document) -> CarrierSource | None:
    """The one source whose documented shape ``document`` has; None when no source's has."""
    matches = [found.source for found in available_formats() if found.recognises(document)]
    if len(matches) > 1:
        names = ", ".join(match.value for match in matches)
        raise AmbiguousPayload(f"the payload could be any of: {names}; name its source")
    return matches[0] if matches else None
