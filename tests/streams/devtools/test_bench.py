"""The benchmark's pure parts: backlog, /proc readings, percentiles, options and the report."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import orjson
import pytest

from parcelwatch.schemas.retired import is_retired
from parcelwatch.schemas.stored_value import load_stored
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.streams.devtools.bench.backlog import Backlog
from parcelwatch.streams.devtools.bench.latency import OFFERED_SEED_OFFSET, Latency
from parcelwatch.streams.devtools.bench.measurements import (
    CLOCK_TICKS,
    POLL_SECONDS,
    Throughput,
    cpu_seconds,
    dir_bytes,
    peak_rss_bytes,
    percentile,
)
from parcelwatch.streams.devtools.bench.options import add_arguments, options_from_args
from parcelwatch.streams.devtools.bench.report import BenchResult, markdown, to_json
from parcelwatch.streams.devtools.bench.scaled_recovery import (
    ScaledRecovery,
    is_retired_copy,
    marker_value,
    seeded_rows,
)
from parcelwatch.streams.devtools.bench.state import StateSize


def test_backlog_has_exactly_the_events_asked_for_in_publish_order() -> None:
    backlog = Backlog.simulate(500, seed=3)
    assert len(backlog.events) == 500
    topics = TopicNames.with_prefix("b.")
    messages = backlog.messages(topics)
    assert {message.topic for message in messages} == {topics.orders, topics.carrier_scans}
    # Each shipment's order is published before its scans (the simulator's emit order).
    first_kind: dict[bytes, bool] = {}
    for is_order, key, _ in backlog.events:
        first_kind.setdefault(key, is_order)
    assert all(first_kind.values())
    assert backlog.shipments == len(first_kind)
    decoded = orjson.loads(messages[0].value)
    assert decoded["tracking_number"].encode() == messages[0].key


def test_backlog_is_the_same_for_the_same_seed() -> None:
    assert Backlog.simulate(200, seed=9).events[:50] != Backlog.simulate(200, seed=10).events[:50]
    first, second = Backlog.simulate(200, seed=9), Backlog.simulate(200, seed=9)
    assert [key for _, key, _ in first.events] == [key for _, key, _ in second.events]


def test_proc_readings_of_this_process() -> None:
    before = cpu_seconds(os.getpid())
    sum(i * i for i in range(2_000_000))  # burn a little CPU
    assert cpu_seconds(os.getpid()) > before
    assert peak_rss_bytes(os.getpid()) > 1024 * 1024


def test_dir_bytes_sums_files_recursively(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x").write_bytes(b"12345")
    (tmp_path / "y").write_bytes(b"123")
    assert dir_bytes(tmp_path) == 8


def test_percentile_is_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert percentile(samples, 0.50) == 50.0
    assert percentile(samples, 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_the_offered_traffic_is_other_shipments_than_the_backlog() -> None:
    backlog = Backlog.simulate(300, seed=14)
    offered = Backlog.simulate(300, seed=14 + OFFERED_SEED_OFFSET)
    assert len(offered.events) == 300
    assert not {key for _, key, _ in backlog.events} & {key for _, key, _ in offered.events}
    assert any(is_order for is_order, _, _ in offered.events)  # orders and scans, as live
    assert not all(is_order for is_order, _, _ in offered.events)


def _options(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_options_tiny_and_explicit_events() -> None:
    tiny = options_from_args(_options("--tiny"))
    assert tiny.tiny and tiny.events < options_from_args(_options()).events
    assert options_from_args(_options("--tiny", "--events", "5000")).events == 5000
    assert options_from_args(_options("--out", "x")).out == Path("x").resolve()
    with pytest.raises(ValueError):
        options_from_args(_options("--events", "0"))
    assert options_from_args(_options()).workers == 1
    assert options_from_args(_options("--workers", "2", "--partitions", "8")).workers == 2
    with pytest.raises(ValueError):
        options_from_args(_options("--workers", "0"))


def test_options_restore_the_targets_scale_unless_told() -> None:
    assert options_from_args(_options()).restore_shipments == 1_000_000
    assert options_from_args(_options("--tiny")).restore_shipments == 2_000
    assert options_from_args(_options("--restore-shipments", "0")).restore_shipments == 0
    with pytest.raises(ValueError):
        options_from_args(_options("--restore-shipments", "-1"))


def test_seeded_rows_copy_the_runs_rows_under_keys_of_their_own() -> None:
    source = {"TN1": b"state-1", "TN2": b"state-2", "~order~o1": b"order-1"}
    marker = marker_value(deflate=True)
    rows = list(seeded_rows(source, 10, marker))
    assert len(rows) == 10
    keys = [orjson.loads(key) for key, _ in rows]
    assert len(set(keys)) == 10  # every key written once: compaction removes nothing
    assert keys[:4] == ["TN1#0", "TN2#0", "~order~o1#0", "TN1#1"]
    values = [value for _, value in rows]
    # Three in four are retired markers, the rest the source row the key was copied from.
    assert [value == marker for value in values] == [is_retired_copy(i) for i in range(10)]
    assert sum(value == marker for value in values) == 7
    assert values[0] == b"state-1" and values[4] == b"state-2" and values[8] == b"order-1"
    assert is_retired(load_stored(marker))
    assert load_stored(marker_value(deflate=False)) == load_stored(marker)


def _run(events_per_second: float, cpu_share: float) -> Throughput:
    seconds = 1000 / events_per_second
    return Throughput(1000, seconds, seconds * cpu_share, 2.5, 300 * 1024 * 1024)


def test_a_run_done_within_one_poll_reports_lower_bounds() -> None:
    instant = Throughput(2000, 0.0, 0.0, 0.1, 50 * 1024 * 1024)  # first and last poll the same
    assert instant.too_fast_to_time and not _run(2_000, 1.0).too_fast_to_time
    assert instant.events_per_second == pytest.approx(2000 / POLL_SECONDS)
    assert instant.events_per_cpu_second == pytest.approx(2000 * CLOCK_TICKS)
    result = _result({"ceiling": instant, "floor": _run(5_000, 0.9), "rules": _run(2_000, 1.0)})
    assert to_json(result)["contenders"]["ceiling"]["rates_are_lower_bounds"] is True
    assert f"| plain aiokafka + orjson (ceiling) | ≥ {2000 / POLL_SECONDS:,.0f} |" in markdown(
        result
    )


def _result(runs: dict[str, Throughput]) -> BenchResult:
    return BenchResult(
        setup={
            "events": 1000,
            "shipments": 107,
            "partitions": 4,
            "latency_state_recovery_of": "model",
        },
        throughput=runs,
        latency=Latency(50.0, 150, 149, 30.0, 50.0, 70.0, 18.0, 40.0, 12.0, 31.0),
        state=StateSize(1500.0, 4000.0),
        recovery_seconds=6.5,
        machine={"CPUs": "2"},
    )


def test_report_ratios_and_rows() -> None:
    runs = {
        "ceiling": _run(50_000, 0.8),
        "floor": _run(20_000, 0.9),
        "rules": _run(2_000, 1.0),
        "model": _run(1_500, 1.0),
        "rules-x2": _run(2_400, 1.6),
    }
    result = _result(runs)
    figures = to_json(result)["contenders"]
    for name, run in runs.items():
        row = figures[name]
        assert row["ratio_to_ceiling"] == pytest.approx(
            run.events_per_second / runs["ceiling"].events_per_second, rel=1e-3
        )
        assert row["ratio_to_floor"] == pytest.approx(
            run.events_per_second / runs["floor"].events_per_second, rel=1e-3
        )
        assert row["events_per_cpu_second"] == pytest.approx(run.events_per_cpu_second, rel=1e-3)
    table = markdown(result)
    for title in ("ceiling", "floor", "rules only", "with a model", "p99", "recovery"):
        assert title in table
    assert "| parcelwatch, rules only, 2 workers (peak RSS summed) | 2,400 | 1,500 |" in table
    assert table.count("\n| ") >= 5 + 6  # five contender rows, six pipeline rows
    assert "| of which: that batch → alert read | p50 12.0 ms · p99 31.0 ms |" in table
    assert "| parcelwatch, with a model | |" in table  # whose latency, state and recovery
    assert (
        "seeded changelog" not in table and to_json(result)["pipeline"]["scaled_recovery"] is None
    )


def test_report_the_scaled_recovery() -> None:
    result = _result({"ceiling": _run(50_000, 0.8), "floor": _run(20_000, 0.9)})
    scaled = ScaledRecovery(1_000_000, 2_000_000, 1_500_000, 300 * 1024 * 1024, 412.34)
    result = BenchResult(**{**result.__dict__, "scaled_recovery": scaled})
    assert to_json(result)["pipeline"]["scaled_recovery"] == {
        "shipments": 1_000_000,
        "rows": 2_000_000,
        "retired_rows": 1_500_000,
        "changelog_bytes": 300 * 1024 * 1024,
        "seconds": 412.34,
    }
    assert (
        "| table recovery of 1,000,000 shipments, seeded changelog (2,000,000 rows, 1,500,000 of "
        "them retired markers, 300.0 MiB; start → ready) | 412.3 s |"
    ) in markdown(result)
