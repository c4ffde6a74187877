"""Hand-written history tables in both forms the adapters read: the original CSV (every column,
comma-separated, quoted where needed, other columns around the ones used) and the vendored TSV
(the kept columns, TAB-separated)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

# Columns of the originals that the adapters do not read, so reading by name is tested.
EXTRA_COLUMNS = ("Project Code", "Vendor", "Weight (Kilograms)")


def write_csv(
    path: Path, columns: Sequence[str], rows: Sequence[dict[str, str]], encoding: str = "utf-8"
) -> Path:
    header = [EXTRA_COLUMNS[0], *columns[:3], EXTRA_COLUMNS[1], *columns[3:], EXTRA_COLUMNS[2]]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "x, y") for name in header])
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def write_tsv(path: Path, columns: Sequence[str], rows: Sequence[dict[str, str]]) -> Path:
    lines = ["\t".join(columns), *("\t".join(row.get(n, "") for n in columns) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_both(
    folder: Path, columns: Sequence[str], rows: Sequence[dict[str, str]], encoding: str = "utf-8"
) -> dict[str, Path]:
    """The same rows as ``{"csv": path, "tsv": path}``."""
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "csv": write_csv(folder / "history.csv", columns, rows, encoding),
        "tsv": write_tsv(folder / "history.tsv", columns, rows),
    }
