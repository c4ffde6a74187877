"""Fenced read offsets against the fetch loop's rule, and in the pinned Faust consumer."""

from __future__ import annotations

import pytest
from faust.types import TP
from prometheus_client import CollectorRegistry

from parcelwatch.streams.runtime.app import create_app
from parcelwatch.streams.runtime.read_offsets import FencedReadOffsets, fenced_read_offsets
from parcelwatch.streams.runtime.settings import Settings

SCANS = TP("t.carrier-scans", 0)


def hand_on(read_offsets: dict, offsets: list[int]) -> list[int]:
    """faust-streaming 0.15's fetch loop (``Consumer._drain_messages``): a record below the
    read offset is dropped; one handed on moves the read offset to itself."""
    handed = []
    for offset in offsets:
        read = read_offsets[SCANS]
        if read is None or offset >= read:
            handed.append(offset)
            read_offsets[SCANS] = offset
    return handed


def test_records_fetched_before_a_rewind_no_longer_drop_the_rewound_ones():
    plain: dict = {SCANS: 500}
    fenced = FencedReadOffsets()
    fenced[SCANS] = 500
    # The rewind to 200 lands while records 501..503 (fetched before it) are still ahead.
    plain[SCANS] = 200
    fenced.fence(SCANS, 200)
    stream = [501, 502, 503, 200, 201, 202]
    assert hand_on(plain, stream) == [501, 502, 503]  # 200.. dropped: the rewind is lost
    assert hand_on(fenced, stream) == [501, 502, 503, 200, 201, 202]
    assert fenced[SCANS] == 202 and fenced.fenced() == {}  # lifted by the record at 200


def test_faust_s_own_seeks_and_revocations_lift_a_fence():
    offsets = FencedReadOffsets()
    offsets.fence(SCANS, 7)
    offsets[SCANS] = 3  # Faust's seek
    assert offsets.fenced() == {} and offsets[SCANS] == 3
    offsets.fence(SCANS, 7)
    offsets.update({SCANS: 40})  # the seek to committed offsets after a rebalance
    assert offsets.fenced() == {} and offsets[SCANS] == 40
    offsets.fence(SCANS, 7)
    assert offsets.pop(SCANS, None) == 7 and offsets.fenced() == {}  # revoked
    assert offsets[SCANS] is None  # as Faust's defaultdict(lambda: None) reads


def test_a_fence_at_zero_reads_as_faust_s_none_and_fences_of_finished_rewinds_are_lifted():
    offsets = FencedReadOffsets()
    offsets.fence(SCANS, 0)
    assert offsets[SCANS] is None
    offsets[SCANS] = 12  # fetched before the seek
    assert offsets[SCANS] is None
    other = TP("t.orders", 0)
    offsets.fence(other, 4)
    offsets.lift_fences_except([other])
    assert offsets.fenced() == {other: 4}


def test_the_worker_s_faust_consumer_keeps_fenced_read_offsets(tmp_path):
    app = create_app(Settings(data_dir=tmp_path), registry=CollectorRegistry()).faust
    assert isinstance(app.consumer._read_offset, FencedReadOffsets)
    assert fenced_read_offsets(app.consumer) is app.consumer._read_offset
    assert type(app.consumer._thread).__name__ == "ShortWaitConsumerThread"  # both wrappers hold


def test_a_seek_stands_until_faust_seeks_or_it_is_no_longer_trusted():
    now = [0.0]
    offsets = FencedReadOffsets(clock=lambda: now[0])
    offsets.fence(SCANS, 200)
    now[0] = 29.0
    assert offsets.seeking(SCANS, 200, trusted_for=30)
    assert not offsets.seeking(SCANS, 150, trusted_for=30)  # another rewind: seek
    now[0] = 31.0
    assert not offsets.seeking(SCANS, 200, trusted_for=30)  # its record may have been dropped
    offsets.fence(SCANS, 200)
    assert hand_on(offsets, [201, 200, 201]) == [201, 200, 201]
    assert offsets.seeking(SCANS, 200, trusted_for=30)  # handed on: queued for the agent
    offsets.update({SCANS: 180})  # a rebalance: Faust seeks to the committed offset
    assert not offsets.seeking(SCANS, 200, trusted_for=30)
    offsets.fence(SCANS, 200)
    del offsets[SCANS]  # Faust's seek_wait to 0
    assert not offsets.seeking(SCANS, 200, trusted_for=30) and offsets.fenced() == {}


def test_a_consumer_with_plain_read_offsets_is_refused_not_half_rewound():
    class PlainConsumer:
        def __init__(self) -> None:
            self._read_offset: dict = {}

    with pytest.raises(TypeError, match="not fenced"):
        fenced_read_offsets(PlainConsumer())
