"""Deterministic ids: the same facts always give the same id, so consumers can de-duplicate."""

from __future__ import annotations

import hashlib
import uuid

# Fixed forever: changing it would change every id parcelwatch has ever emitted.
PARCELWATCH_NAMESPACE = uuid.UUID("5b0f8a52-3c1e-4d6a-9a57-0c9e4f2d7b11")
_NAMESPACE_BYTES = PARCELWATCH_NAMESPACE.bytes


def deterministic_id(*parts: str) -> str:
    """A UUIDv5 of the parts joined by '/' (RFC 4122 section 4.3), i.e. ``str(uuid.uuid5(
    PARCELWATCH_NAMESPACE, "/".join(parts)))``, built without the ``UUID`` object: the state
    codec derives a notification id on every read and write."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + "/".join(parts).encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
