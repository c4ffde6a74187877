"""Benchmark (not a test): the shipments table at N shipments, before and after retention and the
timer's due index.

A RocksDB store (rocksdict, the library under the worker's ``rocksdb://`` store; values are the
stored JSON bytes, as Faust writes them) is filled with N shipment states of a steady-state worker
that has seen ``--days`` of shipments at an even rate: those settled within the last
``--active-days`` are still moving (their next check is a silence in the next two days), the rest
delivered. Then it reports:

* **before** (everything kept, every tick walks the whole table): table size on disk, compacted
  changelog size (the latest value of every key: what log compaction keeps), RSS, and the time of
  one full sweep (read + decode every row, ``due_check``);
* **after** (retention ran: states settled longer than the retention replaced by the retired
  marker; the timer's due index): the same sizes, the due index's build time (one walk, at
  assignment) and memory, and the time of one tick (the rows due in the next check interval).

    .venv/bin/python -m tests.benchmarks.bench_retention [--shipments 1000000] [--days 120]
        [--retention-days 30] [--interval-seconds 60] [--dir /tmp/...]

The changelog size is computed from the values written, not read back from a broker: writing GBs
to the shared local broker would measure the broker. ``parcelwatch bench`` measures the real
changelog per shipment on a live worker.
"""

from __future__ import annotations

import argparse
import gc
import random
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from rocksdict import Options, Rdict, WriteBatch

from parcelwatch.schemas.retired import RetiredShipment, retired_to_json
from parcelwatch.schemas.state import ShipmentState, state_to_json
from parcelwatch.schemas.timestamps import format_rfc3339, utc_now
from parcelwatch.schemas.types import Customer, Item, NotificationChannel
from parcelwatch.streams.core.follow_up import FollowUpPolicy, follow_up
from parcelwatch.streams.core.notification_text import Templates
from parcelwatch.streams.core.tracking import apply_event
from parcelwatch.streams.message_templates import load_templates
from parcelwatch.streams.runtime.due_index import DueIndex
from parcelwatch.streams.runtime.timers import CheckRequests, due_check
from tests.factories import order_at, scan_at

WRITE_BATCH = 10_000


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def dir_bytes(path: Path) -> int:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def journey(delivered: bool, templates: Templates) -> ShipmentState:
    """A realistic state: an order with items and a customer, the scans of a journey, and what
    the follow-up logged (notifications) after each."""
    now = utc_now()
    tracking = "1ZBENCH000000000"
    order = replace(
        order_at(tracking, now - timedelta(hours=60)),
        items=tuple(Item(f"SKU-{n}", 1, f"item {n}") for n in range(3)),
        customer=Customer("cust-1", "en-GB", "Europe/London", (NotificationChannel.EMAIL,)),
    )
    steps = ["info_received", "picked_up", "in_transit", "in_transit", "out_for_delivery"]
    if delivered:
        steps.append("delivered")
    events: list[Any] = [order]
    events += [
        scan_at(tracking, status, now - timedelta(hours=50 - 8 * n), f"-{n}")
        for n, status in enumerate(steps)
    ]
    state = None
    policy = FollowUpPolicy()
    for event in events:
        state = apply_event(state, event, now).state
        state = follow_up(state, now, policy, templates, check_silences=False).state
    assert state is not None
    return state


@dataclass
class Row:
    settled_at: datetime | None  # None: still moving
    due: datetime | None  # a settled state's timer: None before retention, its end after


def stored_row(template: dict[str, Any], key: str, row: Row) -> bytes:
    value = {**template, "tracking_number": key}
    due = None if row.due is None else format_rfc3339(row.due)
    value["timer"] = {"next_check_at": due, "home_partition": 0}
    if row.settled_at is not None:
        moment = format_rfc3339(row.settled_at)
        value["tracking"] = {
            **template["tracking"], "last_scan_at": moment, "status_at": moment,
            "delivered_at": moment,
        }  # fmt: skip
    return orjson.dumps(value)


def write_rows(db: Rdict, rows: Iterable[tuple[str, bytes]]) -> int:
    """Writes the rows in batches; returns the bytes written (keys and values)."""
    written = 0
    batch = WriteBatch()
    for key, value in rows:
        batch.put(key, value)
        written += len(key) + len(value)
        if len(batch) >= WRITE_BATCH:
            db.write(batch)
            batch = WriteBatch()
    db.write(batch)
    return written


def open_store(path: Path) -> Rdict:
    options = Options()
    options.create_if_missing(True)
    return Rdict(str(path), options)


def settle_on_disk(path: Path, db: Rdict) -> int:
    db.flush()
    db.compact_range(None, None)
    return dir_bytes(path)


def full_sweep(db: Rdict, now: datetime) -> tuple[float, int]:
    """What every tick did before: every row read and decoded, ``due_check`` on each."""
    requests = CheckRequests(retry_after=timedelta(minutes=10))
    started = time.perf_counter()
    due = 0
    for key, value in db.items():
        stored = orjson.loads(value)
        if due_check(key, stored, now, requests) is not None:
            due += 1
    return time.perf_counter() - started, due


def build_index(db: Rdict, horizon: datetime) -> tuple[DueIndex, float]:
    """The sweeper's walk: every row's next check, those due before the next walk kept."""
    index = DueIndex()
    index.horizon = horizon.timestamp()
    started = time.perf_counter()
    for key, value in db.items():
        index.schedule_stored(key, orjson.loads(value))
    return index, time.perf_counter() - started


def indexed_tick(db: Rdict, index: DueIndex, now: datetime) -> tuple[float, int]:
    """A tick with the index: the due rows only, each read again."""
    requests = CheckRequests(retry_after=timedelta(minutes=10))
    started = time.perf_counter()
    due = 0
    for key in index.pop_due(now):
        value = db.get(key)
        if value is not None and due_check(key, orjson.loads(value), now, requests) is not None:
            due += 1
    return time.perf_counter() - started, due


def run(args: argparse.Namespace) -> None:
    templates = load_templates()
    moving = state_to_json(journey(False, templates))
    delivered = state_to_json(journey(True, templates))
    now = utc_now()
    retention = timedelta(days=args.retention_days)
    rng = random.Random(7)
    root = Path(args.dir or tempfile.mkdtemp(prefix="bench-retention-"))
    path = root / "shipments"
    shutil.rmtree(path, ignore_errors=True)
    db = open_store(path)
    rss_start = rss_bytes()

    started = time.perf_counter()
    keys_settled: list[tuple[str, datetime]] = []

    def filled() -> Iterator[tuple[str, bytes]]:
        for n in range(args.shipments):
            key = f"1ZB{n:013d}"
            age = timedelta(days=rng.uniform(0, args.days))
            if age < timedelta(days=args.active_days):
                row = Row(None, now + timedelta(seconds=rng.uniform(0, 48 * 3600)))
                yield key, stored_row(moving, key, row)
            else:
                keys_settled.append((key, now - age))
                yield key, stored_row(delivered, key, Row(now - age, None))  # kept for ever

    changelog = write_rows(db, filled())
    fill_seconds = time.perf_counter() - started
    disk_before = settle_on_disk(path, db)
    sweep_before, due_before = full_sweep(db, now + timedelta(seconds=args.interval_seconds))
    gc.collect()
    rss_before = rss_bytes()

    # Retention: what the checks do over time, all at once (the rule's outcome, not its pace).
    started = time.perf_counter()
    retired = 0

    def retained() -> Iterator[tuple[str, bytes]]:
        nonlocal retired
        for key, settled in keys_settled:
            if settled + retention > now:  # kept, its timer asking for the end of retention
                yield key, stored_row(delivered, key, Row(settled, settled + retention))
            else:
                marker = RetiredShipment(settled, now, now + timedelta(days=180), 0)
                retired += 1
                yield key, orjson.dumps(retired_to_json(marker))

    replaced = sum(len(key) + len(db.get(key)) for key, _ in keys_settled)
    changelog_after = changelog - replaced + write_rows(db, retained())
    retention_seconds = time.perf_counter() - started
    disk_after = settle_on_disk(path, db)
    sweep_after_full, _ = full_sweep(db, now + timedelta(seconds=args.interval_seconds))

    gc.collect()
    rss_before_index = rss_bytes()
    index, build_seconds = build_index(db, now + timedelta(seconds=args.full_walk_seconds))
    gc.collect()
    index_rss = rss_bytes() - rss_before_index
    tick_seconds, due_after = indexed_tick(
        db, index, now + timedelta(seconds=args.interval_seconds)
    )
    rss_after = rss_bytes()
    db.close()
    mib = 2**20
    print(f"shipments: {args.shipments:,} over {args.days} days; moving: last {args.active_days} d")
    print(f"fill: {fill_seconds:.1f} s ({args.shipments / fill_seconds:,.0f} rows/s)")
    print("| | before (all kept, full walk) | after (retention + due index) |")
    print("|---|---|---|")
    print(f"| rows: states / retired markers | {args.shipments:,} / 0 | "
          f"{args.shipments - retired:,} / {retired:,} |")  # fmt: skip
    print(f"| table on disk (RocksDB, compacted) | {disk_before / mib:,.0f} MiB | "
          f"{disk_after / mib:,.0f} MiB |")  # fmt: skip
    print(f"| changelog (compacted: latest per key) | {changelog / mib:,.0f} MiB | "
          f"{changelog_after / mib:,.0f} MiB |")  # fmt: skip
    print(f"| process RSS | {rss_before / mib:,.0f} MiB | {rss_after / mib:,.0f} MiB "
          f"(index: {index_rss / mib:,.1f} MiB, {len(index):,} rows) |")  # fmt: skip
    print(f"| sweep per tick | {sweep_before:.2f} s (full walk, {due_before:,} due) | "
          f"{tick_seconds * 1000:.1f} ms ({due_after:,} due) |")  # fmt: skip
    print(f"| full walk (after: once per assignment + safety net) | {sweep_before:.2f} s | "
          f"{sweep_after_full:.2f} s; index build {build_seconds:.2f} s |")  # fmt: skip
    print(f"retention pass (timers and markers written): {retention_seconds:.1f} s; RSS at start "
          f"{rss_start / mib:,.0f} MiB")  # fmt: skip
    if not args.dir:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=1_000_000)
    parser.add_argument("--days", type=float, default=120.0)
    parser.add_argument("--active-days", type=float, default=4.0)
    parser.add_argument("--retention-days", type=float, default=30.0)
    parser.add_argument("--interval-seconds", type=float, default=60.0)
    parser.add_argument("--full-walk-seconds", type=float, default=3600.0)
    parser.add_argument("--dir", default=None)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
