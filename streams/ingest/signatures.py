"""Each tracking platform's webhook signature, checked on the raw body (pure: no I/O, no clock).

The schemes, as the platforms document them:

* EasyPost: ``X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256(NFKD(secret), body)>``, what
  every official EasyPost client checks (easypost-python's ``validate_webhook``;
  https://docs.easypost.com/docs/webhooks). The newer timestamped ``x-hmac-signature-v2`` is not
  checked: its string-to-sign is not published where it could be read.
* AfterShip: ``aftership-hmac-sha256: <base64 HMAC-SHA256(secret, body)>``
  (https://www.aftership.com/docs/tracking/webhook/webhook-signature).
* Shippo: ``Shippo-Auth-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``
  (https://docs.goshippo.com/docs/tracking/webhooksecurity, as Shippo's own verifier in
  github.com/goshippo/ai reads it). Shippo's retries resend the *original* ``t``, so the age
  limit must outlast its retries.
* 17TRACK: ``sign: <hex SHA-256(body + "/" + security key)>`` (a plain hash over the body and the
  API security key, not an HMAC). Only third-party receivers document it; 17TRACK's own webhook
  page (https://api.17track.net/en/doc) could not be read, so this is unconfirmed.

Every comparison is constant-time; hex digests are compared without regard to letter case.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import unicodedata
from collections.abc import Callable, Mapping
from enum import StrEnum

from parcelwatch.schemas.types import CarrierSource

EASYPOST_HEADER = "x-hmac-signature"
EASYPOST_PREFIX = "hmac-sha256-hex="
AFTERSHIP_HEADER = "aftership-hmac-sha256"
SHIPPO_HEADER = "shippo-auth-signature"
SEVENTEEN_TRACK_HEADER = "sign"

# Shippo's retries keep the first attempt's timestamp; their schedule is not published. A replayed
# body only repeats tracking history that the scans' deterministic ids make harmless, while a
# window that is too short loses real updates, so the default is a day rather than 5 minutes.
DEFAULT_SHIPPO_TOLERANCE_SECONDS = 24 * 3600.0
# A timestamp this far ahead of our clock is refused whatever the tolerance (clock skew only).
SHIPPO_MAX_FUTURE_SECONDS = 300.0

_SHA256_BYTES = 32


class Verdict(StrEnum):
    """Why a signature was accepted or not; logged and counted, never the header's value."""

    VALID = "valid"
    MISSING = "missing"  # no signature header
    MALFORMED = "malformed"  # a header, not in the scheme's format
    MISMATCH = "mismatch"  # well-formed, but not what the secret and this body give
    EXPIRED = "expired"  # Shippo: the signed timestamp is older than the tolerance
    FROM_THE_FUTURE = "from_the_future"  # Shippo: the signed timestamp is ahead of our clock


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The first value of header ``name``, whatever its case in ``headers``."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _same(expected: bytes, received: bytes) -> bool:
    return hmac.compare_digest(expected, received)


def _hex_matches(expected_hex: str, received: str) -> bool:
    # aiohttp hands over undecodable header bytes as surrogate escapes: give them back as bytes.
    candidate = received.strip().lower().encode("utf-8", "surrogateescape")
    return _same(expected_hex.encode("ascii"), candidate)


def verify_easypost(headers: Mapping[str, str], body: bytes, secret: str) -> Verdict:
    received = header(headers, EASYPOST_HEADER)
    if received is None:
        return Verdict.MISSING
    if not received.strip().lower().startswith(EASYPOST_PREFIX):
        return Verdict.MALFORMED
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    expected = EASYPOST_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()
    return Verdict.VALID if _hex_matches(expected, received) else Verdict.MISMATCH


def verify_aftership(headers: Mapping[str, str], body: bytes, secret: str) -> Verdict:
    received = header(headers, AFTERSHIP_HEADER)
    if received is None:
        return Verdict.MISSING
    try:
        digest = base64.b64decode(received.strip(), validate=True)
    except (binascii.Error, ValueError):
        return Verdict.MALFORMED
    if len(digest) != _SHA256_BYTES:
        return Verdict.MALFORMED
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return Verdict.VALID if _same(expected, digest) else Verdict.MISMATCH


def verify_shippo(
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    *,
    now: float,
    tolerance_seconds: float = DEFAULT_SHIPPO_TOLERANCE_SECONDS,
) -> Verdict:
    """``now``: Unix seconds. Several ``v1=`` values (a secret being rotated) may be present."""
    received = header(headers, SHIPPO_HEADER)
    if received is None:
        return Verdict.MISSING
    timestamp, signatures = _shippo_parts(received)
    if timestamp is None or not signatures:
        return Verdict.MALFORMED
    signed = timestamp.encode("ascii") + b"." + body
    expected = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    # Every candidate is compared (no early exit), so timing says nothing about which matched.
    matched = [_hex_matches(expected, candidate) for candidate in signatures]
    if not any(matched):
        return Verdict.MISMATCH
    age = now - int(timestamp)
    if age > tolerance_seconds:
        return Verdict.EXPIRED
    if age < -SHIPPO_MAX_FUTURE_SECONDS:
        return Verdict.FROM_THE_FUTURE
    return Verdict.VALID


def _shippo_parts(value: str) -> tuple[str | None, list[str]]:
    """``"t=1700000000,v1=ab12…"`` -> ("1700000000", ["ab12…"])."""
    timestamp: str | None = None
    signatures: list[str] = []
    for part in value.split(","):
        name, separator, content = part.strip().partition("=")
        if not separator:
            return None, []
        if name == "t":
            well_formed = content.isascii() and content.isdigit() and len(content) <= 12
            if timestamp is not None or not well_formed:
                return None, []
            timestamp = content
        elif name == "v1":
            signatures.append(content)
    return timestamp, signatures


def verify_seventeen_track(headers: Mapping[str, str], body: bytes, secret: str) -> Verdict:
    received = header(headers, SEVENTEEN_TRACK_HEADER)
    if received is None:
        return Verdict.MISSING
    expected = hashlib.sha256(body + b"/" + secret.encode("utf-8")).hexdigest()
    return Verdict.VALID if _hex_matches(expected, received) else Verdict.MISMATCH


# headers, body, secret, now (Unix seconds) -> verdict
Verifier = Callable[[Mapping[str, str], bytes, str, float], Verdict]


def verifiers(
    *, shippo_tolerance_seconds: float = DEFAULT_SHIPPO_TOLERANCE_SECONDS
) -> dict[CarrierSource, Verifier]:
    """The webhook platforms parcelwatch accepts, each with its scheme."""
    return {
        CarrierSource.EASYPOST: lambda headers, body, secret, now: verify_easypost(
            headers, body, secret
        ),
        CarrierSource.AFTERSHIP: lambda headers, body, secret, now: verify_aftership(
            headers, body, secret
        ),
        CarrierSource.SHIPPO: lambda headers, body, secret, now: verify_shippo(
            headers, body, secret, now=now, tolerance_seconds=shippo_tolerance_seconds
        ),
        CarrierSource.SEVENTEEN_TRACK: lambda headers, body, secret, now: verify_seventeen_track(
            headers, body, secret
        ),
    }


WEBHOOK_PLATFORMS: tuple[CarrierSource, ...] = tuple(verifiers())
