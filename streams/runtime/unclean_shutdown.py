"""A worker that did not stop cleanly restores its tables from their changelogs, not its disk.

Faust writes a table change to RocksDB at once and to the changelog topic a moment later, from
the producer's buffer. A worker killed in between leaves a disk *ahead* of its changelog: the
restarted worker would trust the local copy, the input ledger would (rightly) call the re-read
inputs duplicates, nothing would rewrite those states, and the changelog would miss them for
good — lost the day the disk is. So a marker file says "running"; a start that finds it (SIGKILL,
OOM, power loss) drops the local tables and restores them from the changelog, as on an empty
disk. A clean stop, which flushes the producer, removes it. Kafka Streams does the same with its
checkpoint file.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

MARKER_NAME = ".parcelwatch-running"


def open_data_dir(data_dir: Path, table_dir: Path) -> bool:
    """Mark ``data_dir`` as in use; returns True when the local tables were dropped because the
    previous run did not stop cleanly."""
    data_dir.mkdir(parents=True, exist_ok=True)
    marker = data_dir / MARKER_NAME
    dropped = False
    if marker.exists() and table_dir.exists():
        log.warning(
            "the previous worker on this data directory did not stop cleanly: its local tables "
            "may hold changes the changelog never received; restoring them from the changelog"
        )
        shutil.rmtree(table_dir)
        dropped = True
    marker.write_text(f"{os.getpid()}\n")
    return dropped


def close_data_dir(data_dir: Path) -> None:
    """After a clean stop (producer flushed, tables closed)."""
    (data_dir / MARKER_NAME).unlink(missing_ok=True)
