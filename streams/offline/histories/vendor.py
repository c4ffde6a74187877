"""Rebuild the vendored history tables from their transcribed parts.

    python -m parcelwatch.streams.offline.histories.vendor PARTS_DIR [--out tests/data/histories]

``PARTS_DIR`` holds ``scms_part0.tsv``, ``scms_part1.tsv``, … and ``dataco_part0.tsv``, …: TAB-
separated rows without a header, transcribed from the source CSVs. Each vendored table is the
parts concatenated in order with a header line of the original column names; lines starting with
``#SKIPPED`` (rows the transcriber could not place) are dropped, and so are lines whose field
count is wrong and repeats (SCMS: of an ``ID``; DataCo: of a whole line). The parts are not
changed.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from parcelwatch.streams.offline.histories import dataco, scms

SKIPPED_MARK = "#SKIPPED"


@dataclass(frozen=True)
class VendoredTable:
    dataset: str
    columns: Sequence[str]
    target: str  # path under the output folder
    key: Callable[[list[str]], str]  # rows with the same key are one (the first is kept)


TABLES = (
    VendoredTable("scms", scms.COLUMNS, "scms/scms_delivery_history.tsv", lambda f: f[0]),
    VendoredTable("dataco", dataco.COLUMNS, "dataco/dataco_sample.tsv", "\t".join),
)


def part_files(folder: Path, dataset: str) -> list[Path]:
    """``{dataset}_part{n}.tsv`` in the order of n."""
    pattern = re.compile(rf"{re.escape(dataset)}_part(\d+)\.tsv")
    numbered = [(int(m[1]), p) for p in folder.iterdir() if (m := pattern.fullmatch(p.name))]
    return [path for _, path in sorted(numbered)]


def vendored_lines(table: VendoredTable, lines: Iterable[str], counts: Counter[str]) -> list[str]:
    """The header and the kept rows of ``lines`` (the parts' lines, in order)."""
    kept = ["\t".join(table.columns)]
    seen: set[str] = set()
    for line in lines:
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        counts["lines"] += 1
        if line.startswith(SKIPPED_MARK):
            counts["#SKIPPED"] += 1
            continue
        fields = line.split("\t")
        if len(fields) != len(table.columns):
            counts["wrong field count"] += 1
            continue
        key = table.key(fields)
        if key in seen:
            counts["duplicates"] += 1
            continue
        seen.add(key)
        kept.append(line)
    counts["rows kept"] = len(kept) - 1
    return kept


def vendor(parts: Path, out: Path) -> dict[str, Counter[str]]:
    summary = {}
    for table in TABLES:
        files = part_files(parts, table.dataset)
        if not files:
            raise SystemExit(f"no {table.dataset}_part*.tsv in {parts}")
        counts: Counter[str] = Counter(parts=len(files))
        lines = (line for path in files for line in path.read_text(encoding="utf-8").splitlines())
        target = out / table.target
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(vendored_lines(table, lines, counts)) + "\n", encoding="utf-8")
        summary[table.target] = counts
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m parcelwatch.streams.offline.histories.vendor")
    parser.add_argument("parts", type=Path, help="the folder of the transcribed *_partN.tsv")
    parser.add_argument("--out", type=Path, default=Path("tests/data/histories"))
    args = parser.parse_args(argv)
    for target, counts in vendor(args.parts, args.out).items():
        said = ", ".join(f"{what} {count}" for what, count in counts.items())
        print(f"{args.out / target}: {said}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
