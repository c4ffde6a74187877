"""Rows of a history table by column name: the original CSV (comma-separated, quoted, every
column) or the vendored TSV (TAB-separated, unquoted, the kept columns), told apart by the header.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path


class TableError(ValueError):
    """A history file that cannot be read as the dataset's table."""


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without a BOM); the DataCo original is Latin-1, which any byte string is."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_rows(path: Path, required: Sequence[str]) -> Iterator[dict[str, str]]:
    """Each data row as {column name: text}; fails when a ``required`` column is missing."""
    text = decode_text(path.read_bytes())
    header_line = text.split("\n", 1)[0]
    if "\t" in header_line:
        reader = csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(io.StringIO(text))
    header = [name.strip() for name in next(reader, [])]
    missing = [name for name in required if name not in header]
    if missing:
        raise TableError(f"{path}: no column {', '.join(map(repr, missing))} in its header")
    positions = {name: header.index(name) for name in required}
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, and the all-empty ",,," rows some copies end with
        if len(cells) < len(header):
            raise TableError(f"{path}:{number}: {len(cells)} fields, the header has {len(header)}")
        yield {name: cells[index].strip() for name, index in positions.items()}
