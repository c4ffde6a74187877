"""Deterministic ids: the same facts always give the same id, so consumers can de-duplicate."""

from __future__ import annotations

import uuid

# Fixed forever: changing it would change every id parcelwatch has ever emitted.
PARCELWATCH_NAMESPACE = uuid.UUID("5b0f8a52-3c1e-4d6a-9a57-0c9e4f2d7b11")


def deterministic_id(*parts: str) -> str:
    """A UUIDv5 of the parts joined by '/'."""
    return str(uuid.uuid5(PARCELWATCH_NAMESPACE, "/".join(parts)))
