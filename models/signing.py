"""HMAC-SHA256 signatures: who may promote a model, and which registry versions are genuine.

A SHA-256 next to an artifact proves the file was not damaged, not who wrote it: anyone who can
write the model directory or the model-updates topic can also write a matching checksum. A
signature needs the deployment's secret key (PARCELWATCH_MODEL_SIGNING_KEY), which the trainer,
the promoter and the workers share. Verification compares in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from parcelwatch.schemas.model_update import SIGNATURE_PREFIX, ModelUpdate, signing_input

MIN_KEY_BYTES = 32  # HMAC-SHA256's own output size: a shorter key is weaker than the MAC
METADATA_SIGNATURE_KEY = "signature"
_METADATA_DOMAIN = b"parcelwatch.model-metadata.v1\n"


def sign(key: bytes, message: bytes) -> str:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"a signing key needs at least {MIN_KEY_BYTES} bytes")
    return SIGNATURE_PREFIX + hmac.new(key, message, hashlib.sha256).hexdigest()


def is_valid(key: bytes, message: bytes, signature: str | None) -> bool:
    if signature is None:
        return False
    return hmac.compare_digest(sign(key, message).encode(), signature.encode())


def sign_update(key: bytes, update: ModelUpdate) -> ModelUpdate:
    return replace(update, signature=sign(key, signing_input(update)))


def update_is_authentic(key: bytes, update: ModelUpdate) -> bool:
    return is_valid(key, signing_input(update), update.signature)


def metadata_signing_input(metadata: Mapping[str, Any]) -> bytes:
    """Canonical JSON of a version's metadata without its signature (sorted keys, no spaces).

    The metadata carries the artifact's SHA-256, so signing it vouches for the artifact too.
    JSON numbers round-trip exactly through Python's json, so the bytes signed at save time are
    the bytes recomputed from metadata.json at load time.
    """
    unsigned = {k: v for k, v in metadata.items() if k != METADATA_SIGNATURE_KEY}
    text = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return _METADATA_DOMAIN + text.encode("utf-8")
