"""The unmapped-code log: once per (source, code) an interval, bounded memory, no words."""

from __future__ import annotations

from parcelwatch.schemas.types import CarrierSource
from parcelwatch.streams.pipeline.unmapped_codes import UnmappedCodeLog


def test_each_code_is_logged_once_an_interval_per_source(caplog) -> None:
    now = [0.0]
    codes = UnmappedCodeLog(interval=10, clock=lambda: now[0])
    assert codes.seen(CarrierSource.UPS, "X1")
    assert not codes.seen(CarrierSource.UPS, "X1")
    assert codes.seen(CarrierSource.FEDEX, "X1")  # another source's code is another code
    assert codes.seen(CarrierSource.UPS, None)  # codeless events are one entry per source
    now[0] = 10.0
    assert codes.seen(CarrierSource.UPS, "X1")
    assert [record.getMessage() for record in caplog.records][:2] == [
        "unmapped ups code 'X1': scans carry it as status unknown",
        "unmapped fedex code 'X1': scans carry it as status unknown",
    ]


def test_memory_stays_bounded_and_long_codes_are_cut(caplog) -> None:
    codes = UnmappedCodeLog(clock=lambda: 0.0, max_remembered=3)
    assert all(codes.seen(CarrierSource.DPD, f"C{n}") for n in range(5))
    assert len(codes._logged_at) <= 3
    codes.seen(CarrierSource.DPD, "Z" * 500)
    assert "Z" * 64 in caplog.text and "Z" * 65 not in caplog.text
