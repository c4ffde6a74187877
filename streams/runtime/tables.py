"""The worker's tables: keyed by a string, partitioned like their input, in the configured store."""

from __future__ import annotations

from typing import Any

import faust

from parcelwatch.streams.runtime.settings import Settings


def add_keyed_table(app: faust.App, settings: Settings, name: str, *, help_text: str) -> Any:
    """Table ``name`` of ``app`` (values: JSON objects, stored by Faust's json codec), with the
    RocksDB options when the store is RocksDB, and a changelog topic whose segments roll soon
    enough for compaction to bound what a restore reads."""
    return app.Table(
        name,
        key_type=str,
        partitions=settings.partitions,
        help=help_text,
        options=settings.rocksdb_options if settings.store.startswith("rocksdb") else None,
        extra_topic_configs=settings.changelog_topic_configs,
    )
