"""``parcelwatch normalize [--source SOURCE] FILE...``: saved carrier payloads → canonical scans.

Each file (``-``: standard input) holds one response body or webhook body, read as the
``normalize_carrier_raw`` agent reads ``carrier-raw``. Scans go to standard output as JSONL
(scan.v1); everything else goes to standard error: a carrier's error answer with its own code and
text, a payload that cannot be read, and a warning per code nothing mapped. Exit 2 if any file
was unreadable or held an error answer, after every file was read.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.types import CarrierSource
from parcelwatch.streams.carriers.model import PayloadError
from parcelwatch.streams.carriers.reading import PayloadScans, scans_from_payload
from parcelwatch.streams.carriers.registry import AmbiguousPayload

STDIN = "-"
EXIT_PROBLEM = 2


def add_arguments(normalize: argparse.ArgumentParser) -> None:
    normalize.add_argument(
        "--source", choices=[source.value for source in CarrierSource],
        help="the payloads' source (default: recognised from each payload where it can be)",
    )  # fmt: skip
    normalize.add_argument(
        "files", metavar="FILE", nargs="+",
        help="a carrier API response body or a webhook body per file; - for standard input",
    )  # fmt: skip
    normalize.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return normalize_files(args.files, args.source)


@dataclass
class _Streams:
    out: TextIO
    err: TextIO
    stdin: BinaryIO


def normalize_files(
    names: list[str],
    source: str | None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stdin: BinaryIO | None = None,
) -> int:
    """Print every file's scans; 0, or ``EXIT_PROBLEM`` when any file had a problem."""
    streams = _Streams(out or sys.stdout, err or sys.stderr, stdin or sys.stdin.buffer)
    problems = [_normalize_file(name, source, streams) for name in names]
    return EXIT_PROBLEM if any(problems) else 0


def _normalize_file(name: str, source: str | None, streams: _Streams) -> bool:
    """True when the file was a problem (unreadable, or a carrier error answer)."""
    shown = "<stdin>" if name == STDIN else name
    try:
        payload = streams.stdin.read() if name == STDIN else Path(name).read_bytes()
        read = scans_from_payload(payload, source)
    except OSError as error:
        return _problem(streams, f"{shown}: cannot read the file ({error.strerror or error})")
    except (PayloadError, AmbiguousPayload) as error:
        return _problem(streams, f"{shown}: {error}")
    for scan in read.normalized.scans:
        streams.out.write(encode(scan).decode() + "\n")
    _warn_unmapped(shown, read, streams)
    for carrier_error in read.errors:
        number = f" for {carrier_error.tracking_number}" if carrier_error.tracking_number else ""
        code = carrier_error.code or "(no code)"
        _problem(
            streams,
            f"{shown}: {read.source.value} error {code}{number}: {carrier_error.message}",
        )
    return bool(read.errors)


def _warn_unmapped(shown: str, read: PayloadScans, streams: _Streams) -> None:
    said: set[tuple[str | None, str | None]] = set()
    for unmapped in read.normalized.unmapped:
        # Codeless sources are mapped by their words: then the words are what to add.
        key = (unmapped.code, None if unmapped.code else unmapped.description)
        if key in said:
            continue
        said.add(key)
        what = f"code {unmapped.code!r}" if unmapped.code else f"words {unmapped.description!r}"
        print(
            f"{shown}: warning: unmapped {read.source.value} {what}: scans say status unknown",
            file=streams.err,
        )


def _problem(streams: _Streams, words: str) -> bool:
    print(f"parcelwatch normalize: {words}", file=streams.err)
    return True
