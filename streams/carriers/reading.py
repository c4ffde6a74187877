"""Payload bytes of a named (or recognised) source → scans: the one entry point for the CLI, the
stream and the webhook receiver."""

from __future__ import annotations

from dataclasses import dataclass

from parcelwatch.schemas.types import CarrierSource
from parcelwatch.streams.carriers.documents import read_document
from parcelwatch.streams.carriers.mapping import mapping_table
from parcelwatch.streams.carriers.model import CarrierError, PayloadError
from parcelwatch.streams.carriers.normalize import Normalized, normalize
from parcelwatch.streams.carriers.registry import detect_source, source_format

# A parser walks untrusted documents; a shape it did not expect surfaces as one of these.
_SHAPE_ERRORS = (KeyError, IndexError, TypeError, AttributeError, ValueError, OverflowError)


@dataclass
class PayloadScans:
    source: CarrierSource
    normalized: Normalized
    errors: tuple[CarrierError, ...]
    histories: int  # parcels the payload described (a parcel may have no events yet)


def scans_from_payload(payload: bytes, source: CarrierSource | str | None = None) -> PayloadScans:
    """The scans of ``payload``; its source is recognised when not given.

    Raises PayloadError when the payload cannot be read as the source's documented format (or its
    source cannot be recognised). A carrier's error answer is not an exception: it comes back in
    ``errors``, with no scans for those parcels.
    """
    document = read_document(payload)
    if source is None:
        found = detect_source(document)
        if found is None:
            raise PayloadError("the payload's source is not recognised; name it")
        source = found
    chosen = source_format(source)
    try:
        response = chosen.parse(document)
    except PayloadError:
        raise
    except _SHAPE_ERRORS as error:
        raise PayloadError(
            f"not the documented {chosen.source.value} format ({type(error).__name__})"
        ) from None
    normalized = normalize(
        chosen.source, response, mapping_table(chosen.source.value), chosen.home_zone
    )
    return PayloadScans(chosen.source, normalized, response.errors, len(response.histories))
