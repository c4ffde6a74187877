"""The ``carrier-raw`` contract: a carrier's or tracking platform's payload exactly as received.

Shops publish what their carrier polling jobs fetch, and ``parcelwatch ingest`` publishes what
tracking platforms post to it. The ``normalize_carrier_raw`` agent turns each message into
canonical scans on ``carrier-scans`` (see ``streams/carriers``).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from parcelwatch.schemas import patterns
from parcelwatch.schemas.codec import (
    _TRACKING_NUMBER,
    InvalidEvent,
    _check_event_time,
    _Fields,
    _load_object,
    _required,
)
from parcelwatch.schemas.types import SCHEMA_VERSION, CarrierSource, DeadLetterReason, Limits

# The text of a payload: what a carrier's API answers for a few parcels fits many times over, and
# the message as a whole stays under Kafka's default 1 MB limit after JSON escaping.
_BASE64 = patterns.compile_full(patterns.BASE64)
MAX_RAW_PAYLOAD_CHARS = 512 * 1024
MAX_RAW_MESSAGE_BYTES = 1_000_000
CONTENT_TYPE_MAX_CHARS = 100


class PayloadEncoding(StrEnum):
    UTF8 = "utf-8"  # the payload's text as is
    BASE64 = "base64"  # bytes that are not UTF-8 (a Latin-1 XML answer), kept byte for byte


@dataclass(frozen=True, slots=True)
class RawCarrierPayload:
    """One response body or webhook body, on ``carrier-raw`` keyed by tracking number (else by
    source)."""

    source: CarrierSource
    received_at: datetime
    payload: str
    tracking_number: str | None = None
    payload_encoding: PayloadEncoding = PayloadEncoding.UTF8
    content_type: str | None = None  # as received, e.g. "application/json"; informational
    schema_version: int = SCHEMA_VERSION

    def payload_bytes(self) -> bytes:
        if self.payload_encoding is PayloadEncoding.BASE64:
            return base64.b64decode(self.payload, validate=True)
        return self.payload.encode("utf-8")


def raw_payload_for(
    source: CarrierSource | str,
    body: bytes,
    *,
    received_at: datetime,
    tracking_number: str | None = None,
    content_type: str | None = None,
) -> RawCarrierPayload:
    """The contract message for ``body``: UTF-8 text as is, other bytes in base64."""
    try:
        text, encoding = body.decode("utf-8"), PayloadEncoding.UTF8
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(body).decode("ascii"), PayloadEncoding.BASE64
    return RawCarrierPayload(
        source=CarrierSource(source),
        received_at=received_at,
        payload=text,
        tracking_number=tracking_number,
        payload_encoding=encoding,
        content_type=content_type[:CONTENT_TYPE_MAX_CHARS] if content_type else None,
    )


def decode_carrier_raw(payload: bytes, *, now: datetime, limits: Limits) -> RawCarrierPayload:
    """A ``carrier-raw`` message. The key is not checked: it only spreads the load."""
    fields: _Fields = _load_object(
        payload, replace(limits, max_payload_bytes=MAX_RAW_MESSAGE_BYTES)
    )
    message = RawCarrierPayload(
        source=_required(
            fields.choice("source", CarrierSource, DeadLetterReason.INVALID_VALUE, required=True)
        ),
        received_at=fields.required_timestamp("received_at"),
        payload=fields.required_text("payload", max_length=MAX_RAW_PAYLOAD_CHARS),
        tracking_number=fields.text("tracking_number", pattern=_TRACKING_NUMBER),
        payload_encoding=fields.choice(
            "payload_encoding", PayloadEncoding, DeadLetterReason.INVALID_VALUE
        )
        or PayloadEncoding.UTF8,
        content_type=fields.text("content_type", max_length=CONTENT_TYPE_MAX_CHARS),
    )
    _check_event_time("received_at", message.received_at, now, limits)
    if message.payload_encoding is PayloadEncoding.BASE64 and not _BASE64.fullmatch(
        message.payload
    ):
        raise InvalidEvent(DeadLetterReason.INVALID_VALUE, "field 'payload' is not valid base64")
    return message
