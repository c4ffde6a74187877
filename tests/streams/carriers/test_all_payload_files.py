"""Every payload file of every source, together: each reads as its own source's, and no source's
recognition claims another's file (auto-detection must never guess wrong)."""

from __future__ import annotations

import pytest

from parcelwatch.schemas.types import CarrierSource, ShipmentStatus
from parcelwatch.streams.carriers.documents import read_document
from parcelwatch.streams.carriers.model import PayloadError
from parcelwatch.streams.carriers.registry import available_formats, detect_source, source_format
from tests.streams.carriers.conftest import PAYLOADS, payload, read

# Documented payloads parcelwatch refuses on purpose, each tested in its source's own tests.
REFUSED = {
    # USPS's year-less text lines (TrackRequest Revision 1): a guessed year would be a wrong time.
    ("usps", "webtools_package_track_text_lines.xml"),
}
ABOUT_SOMETHING_ELSE = {
    ("easypost", "webhook_batch_created.json"),  # a batch of labels, not a tracker
    ("shippo", "constructed_webhook_transaction_created.json"),  # a label bought, not a track
}
FILES = sorted(
    (path.parent.name, path.name)
    for path in PAYLOADS.glob("*/*")
    if path.suffix in {".json", ".xml"}
)


def test_every_source_has_a_parser_a_table_and_payload_files():
    assert {found.source for found in available_formats()} == set(CarrierSource)
    assert {source for source, _ in FILES} == {source.value for source in CarrierSource}
    for source in CarrierSource:
        assert (PAYLOADS / source.value / "README.md").exists(), source


@pytest.mark.parametrize(("source", "name"), FILES, ids=[f"{s}/{n}" for s, n in FILES])
def test_a_file_reads_as_its_own_source_and_is_never_taken_for_another(source, name):
    detected = detect_source(read_document(payload(source, name)))
    assert detected in (None, CarrierSource(source))
    if (source, name) in REFUSED:
        with pytest.raises(PayloadError):
            read(source, name)
        return
    result = read(source, name)
    # Every file says something (a parcel's history or an error), or is one of the documented
    # bodies that are about something else, which give nothing and are no error.
    assert result.histories or result.errors or (source, name) in ABOUT_SOMETHING_ELSE
    # Sources resend whole histories: the same body gives the same scans, ids included, and no
    # two events of one body share an id.
    ids = [scan.event_id for scan in result.normalized.scans]
    assert read(source, name).normalized.scans == result.normalized.scans
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("source", list(CarrierSource), ids=str)
def test_each_sources_format_says_where_its_local_times_are(source):
    found = source_format(source)
    assert found.source is source
    assert found.kind in {"carrier", "platform"}
    assert found.home_zone is None or "/" in found.home_zone


@pytest.mark.parametrize("source", [source.value for source in CarrierSource])
def test_each_sources_files_cover_the_journeys_that_matter(source):
    # A delivery, an exception, a failed attempt, a return and an error answer, per source.
    statuses: set[ShipmentStatus] = set()
    errors = 0
    for file_source, name in FILES:
        if file_source != source or (source, name) in REFUSED:
            continue
        result = read(source, name)
        statuses |= {scan.status for scan in result.normalized.scans}
        errors += len(result.errors)
    assert {ShipmentStatus.DELIVERED, ShipmentStatus.EXCEPTION, ShipmentStatus.ATTEMPT_FAILED} <= (
        statuses
    )
    assert statuses & {ShipmentStatus.RETURNING_TO_SENDER, ShipmentStatus.RETURNED_TO_SENDER}
    assert errors > 0
