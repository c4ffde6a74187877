"""Benchmark (not a test): what normalising a carrier payload costs per event, on one core.

    .venv/bin/python -m tests.benchmarks.bench_carriers [--passes N]

For every source's payload files in tests/data/carriers/<source>/ that hold events, it times, in
the same run and per carrier event:

* read: bytes → JSON values or XML tree (``documents.read_document``), the baseline that any
  consumer of these payloads pays;
* parse: read + the source's parser (``CarrierResponse``);
* normalise: ``scans_from_payload`` (read, parse, map codes, resolve time zones, ids);
* + encode: normalise and encode every scan as the agent publishes it.

CPU time of this one process, pinned to one CPU, best of three passes.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from collections.abc import Callable
from pathlib import Path

from parcelwatch.schemas.codec import encode
from parcelwatch.streams.carriers.documents import read_document
from parcelwatch.streams.carriers.reading import scans_from_payload
from parcelwatch.streams.carriers.registry import source_format

PAYLOADS = Path(__file__).resolve().parents[1] / "data" / "carriers"


def _payloads(source: str) -> list[bytes]:
    """The source's payload files that give at least one scan."""
    found = []
    for path in sorted((PAYLOADS / source).iterdir()):
        if path.suffix not in {".json", ".xml"}:
            continue
        body = path.read_bytes()
        try:
            if scans_from_payload(body, source).normalized.scans:
                found.append(body)
        except ValueError:
            continue
    return found


def _cpu_seconds(run: Callable[[bytes], object], bodies: list[bytes], passes: int) -> float:
    """Best of three passes; the garbage collector waits, as in ``timeit``, so that its pauses
    do not land on whichever column happens to be timed."""
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            started = time.process_time()
            for _ in range(passes):
                for body in bodies:
                    run(body)
            best = min(best, time.process_time() - started)
    finally:
        gc.enable()
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passes", type=int, default=200, help="passes over each source's files")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    print("CPU µs per carrier event, best of 3, one core\n")
    print(f"{'source':<15}{'files':>6}{'events':>8}{'read':>9}{'parse':>9}{'normalise':>11}"
          f"{'+ encode':>10}")  # fmt: skip
    totals = [0.0, 0.0, 0.0, 0.0]
    all_events = 0
    for source in sorted(path.name for path in PAYLOADS.iterdir() if path.is_dir()):
        bodies = _payloads(source)
        if not bodies:
            continue
        chosen = source_format(source)
        events = sum(len(scans_from_payload(body, source).normalized.scans) for body in bodies)

        def full(body: bytes, source: str = source) -> object:
            return [encode(scan) for scan in scans_from_payload(body, source).normalized.scans]

        runs = (
            read_document,
            lambda body, chosen=chosen: chosen.parse(read_document(body)),
            lambda body, source=source: scans_from_payload(body, source),
            full,
        )
        seconds = [_cpu_seconds(run, bodies, args.passes) for run in runs]
        per_event = [value / (events * args.passes) * 1e6 for value in seconds]
        for index, value in enumerate(seconds):
            totals[index] += value
        all_events += events * args.passes
        print(f"{source:<15}{len(bodies):>6}{events:>8}" + "".join(
            f"{value:>{width}.1f}" for value, width in zip(per_event, (9, 9, 11, 10), strict=True)
        ))  # fmt: skip
    overall = [value / all_events * 1e6 for value in totals]
    print(f"\n{'all':<29}" + "".join(
        f"{value:>{width}.1f}" for value, width in zip(overall, (9, 9, 11, 10), strict=True)
    ))  # fmt: skip
    print(f"\n→ {1e6 / overall[3]:,.0f} events per second per core, normalised and encoded")


if __name__ == "__main__":
    main()
