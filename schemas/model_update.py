"""The ``model-updates`` announcement (model-update.v1): type, encoder, decoder, signing input.

``parcelwatch promote`` publishes one per promotion; every worker reads them all. The signature
(optional in the contract, required by a worker that has a signing key) is an HMAC-SHA256 over
:func:`signing_input`, a canonical encoding that other-language producers can reproduce exactly:
four lines joined by ``\\n`` — a domain tag, the version, the artifact's SHA-256 and ``promoted_at``
in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``.

One topic carries the announcements of every model: ``model`` names it (``delay-risk`` when absent,
as in announcements written before there was a second model) and is the message key, so
compaction keeps each model's latest announcement. For any model but ``delay-risk`` the model name
is a fifth line of the signing input, right after the domain tag, so a delay-risk signature cannot
be replayed as another model's (and the delay-risk input stays what it always was).

``forced`` marks a promotion made with ``--force`` of a version ``train`` registered as not
promotable (it lost to its baseline on held-out data); without it, a worker refuses such a version.
A forced announcement's signing input ends with a last line ``forced``, so the flag cannot be
added to a signed announcement by anyone without the key (unforced inputs are unchanged).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from parcelwatch.schemas.timestamps import parse_rfc3339
from parcelwatch.schemas.types import SCHEMA_VERSION

DELAY_RISK_MODEL = "delay-risk"  # the default: announcements without ``model`` are for it
FEEDBACK_MODEL = "feedback"  # the feedback text analyzer's learned polarity component
MODEL_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,63}$"
VERSION_PATTERN = r"^v[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
SIGNATURE_PATTERN = r"^hmac-sha256:[0-9a-f]{64}$"
SIGNATURE_PREFIX = "hmac-sha256:"
SIGNING_DOMAIN = b"parcelwatch.model-update.v1"

_VERSION = re.compile(VERSION_PATTERN[1:-1])
_SHA256 = re.compile(SHA256_PATTERN[1:-1])
_SIGNATURE = re.compile(SIGNATURE_PATTERN[1:-1])
_MODEL_NAME = re.compile(MODEL_NAME_PATTERN[1:-1])
_MAX_BYTES = 4096  # an announcement is ~250 bytes; anything far larger is not one


class InvalidModelUpdate(ValueError):
    """Not a model-update.v1 announcement. The message names the problem, never the content."""


@dataclass(frozen=True)
class ModelUpdate:
    version: str
    artifact_sha256: str
    promoted_at: datetime
    signature: str | None = None  # "hmac-sha256:<hex>", see signing_input
    schema_version: int = SCHEMA_VERSION
    model: str = DELAY_RISK_MODEL  # which model the version belongs to; also the message key
    forced: bool = False  # promoted although registered as not promotable


def model_update_key(update: ModelUpdate) -> bytes:
    """The message key on ``model-updates``: the model name (compaction keeps one per model)."""
    return update.model.encode("ascii")


def utc_instant(moment: datetime) -> str:
    """``promoted_at`` as signed and written: UTC, microseconds, ``Z``."""
    if moment.tzinfo is None:
        raise ValueError("promoted_at must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def signing_input(update: ModelUpdate) -> bytes:
    """The exact bytes an announcement's signature covers (everything but the signature)."""
    parts = (update.version, update.artifact_sha256, utc_instant(update.promoted_at))
    if update.model != DELAY_RISK_MODEL:
        parts = (update.model, *parts)
    if update.forced:
        parts = (*parts, "forced")
    return b"\n".join([SIGNING_DOMAIN, *(part.encode("ascii") for part in parts)])


def encode_model_update(update: ModelUpdate) -> bytes:
    document: dict[str, Any] = {
        "schema_version": update.schema_version,
        "model": update.model,
        "version": update.version,
        "artifact_sha256": update.artifact_sha256,
        "promoted_at": utc_instant(update.promoted_at),
    }
    if update.forced:
        document["forced"] = True
    if update.signature is not None:
        document["signature"] = update.signature
    return orjson.dumps(document)


def decode_model_update(payload: bytes) -> ModelUpdate:
    """Parse and validate an announcement; unknown fields are ignored, as for every contract.

    ``schema_version`` may be absent: announcements written before the contract had one are v1;
    ``model`` may be absent: such announcements are for the delay-risk model.
    """
    if len(payload) > _MAX_BYTES:
        raise InvalidModelUpdate(f"larger than {_MAX_BYTES} bytes")
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise InvalidModelUpdate("not JSON") from None
    if not isinstance(document, dict):
        raise InvalidModelUpdate("not a JSON object")
    schema_version = document.get("schema_version", SCHEMA_VERSION)
    if type(schema_version) is not int or schema_version != SCHEMA_VERSION:
        raise InvalidModelUpdate("unsupported schema_version")
    version = _matching(document, "version", _VERSION)
    sha256 = _matching(document, "artifact_sha256", _SHA256)
    promoted_text = document.get("promoted_at")
    if not isinstance(promoted_text, str):
        raise InvalidModelUpdate("promoted_at is missing or not a string")
    try:
        promoted_at = parse_rfc3339(promoted_text)
    except ValueError:
        raise InvalidModelUpdate("promoted_at is not an RFC 3339 timestamp") from None
    signature = _matching(document, "signature", _SIGNATURE) if "signature" in document else None
    model = _matching(document, "model", _MODEL_NAME) if "model" in document else DELAY_RISK_MODEL
    forced = document.get("forced", False)
    if not isinstance(forced, bool):
        raise InvalidModelUpdate("forced is not a boolean")
    return ModelUpdate(version, sha256, promoted_at, signature, schema_version, model, forced)


def _matching(document: dict[str, Any], name: str, pattern: re.Pattern[str]) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidModelUpdate(f"{name} is missing or malformed")
    return value
