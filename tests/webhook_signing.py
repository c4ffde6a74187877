"""Signing webhook bodies as each platform does: the test side of streams/ingest/signatures.py,
written from the platforms' documentation rather than from the verifiers' code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata

from parcelwatch.schemas.types import CarrierSource


def easypost_headers(body: bytes, secret: str) -> dict[str, str]:
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    digest = hmac.new(key, body, hashlib.sha256).hexdigest()
    return {"X-Hmac-Signature": f"hmac-sha256-hex={digest}"}


def aftership_headers(body: bytes, secret: str) -> dict[str, str]:
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return {"aftership-hmac-sha256": base64.b64encode(digest).decode("ascii")}


def shippo_headers(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return {"Shippo-Auth-Signature": f"t={timestamp},v1={digest}"}


def seventeen_track_headers(body: bytes, secret: str) -> dict[str, str]:
    return {"sign": hashlib.sha256(body + b"/" + secret.encode("utf-8")).hexdigest()}


def signed_headers(
    platform: CarrierSource | str, body: bytes, secret: str, *, timestamp: int
) -> dict[str, str]:
    """The signature headers ``platform`` sends with ``body`` (``timestamp``: Shippo's ``t``)."""
    platform = CarrierSource(platform)
    if platform is CarrierSource.EASYPOST:
        return easypost_headers(body, secret)
    if platform is CarrierSource.AFTERSHIP:
        return aftership_headers(body, secret)
    if platform is CarrierSource.SHIPPO:
        return shippo_headers(body, secret, timestamp)
    if platform is CarrierSource.SEVENTEEN_TRACK:
        return seventeen_track_headers(body, secret)
    raise ValueError(f"{platform} sends no webhooks")
