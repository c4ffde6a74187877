"""The worker's tables: keyed by a string, partitioned like their input, in the configured store."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import faust
from faust.serializers import codecs

from parcelwatch.schemas.stored_value import dump_stored, load_stored
from parcelwatch.streams.runtime.settings import Settings


class StoredValueCodec(codecs.Codec):
    """Faust's codec for table values: ``schemas.stored_value``'s format.

    Faust encodes a value it stores twice: at once for the store, and again when the producer's
    buffer sends it to the changelog. The second time reuses the bytes of the first: the codec
    keeps the last ``remember`` values it encoded, by id, and holds them, so that no other object
    can take an id while it is kept. Table values are never mutated once set: every write is a
    new object.
    """

    def __init__(self, *, deflate: bool = True, remember: int = 4096, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._deflate = deflate
        self._remember = remember
        self._recent: OrderedDict[int, tuple[Any, bytes]] = OrderedDict()

    def _dumps(self, value: Any) -> bytes:
        kept = self._recent.pop(id(value), None)
        if kept is not None:  # this very object (held, so its id is its own)
            return kept[1]  # the second encoding of a value: used once more at most
        data = dump_stored(value, deflate=self._deflate)
        self._recent[id(value)] = (value, data)
        if len(self._recent) > self._remember:
            self._recent.popitem(last=False)
        return data

    def _loads(self, data: bytes) -> Any:
        return load_stored(data)


def add_keyed_table(app: faust.App, settings: Settings, name: str, *, help_text: str) -> Any:
    """Table ``name`` of ``app`` (values: JSON objects, stored as ``schemas.stored_value`` says),
    with the RocksDB options when the store is RocksDB, and a changelog topic whose segments roll
    soon enough for compaction to bound what a restore reads."""
    table = app.conf.Table(  # what app.Table does, with the value codec set before it is added
        app,
        name=name,
        key_type=str,
        beacon=app.tables.beacon,
        partitions=settings.partitions,
        help=help_text,
        options=settings.rocksdb_options if settings.store.startswith("rocksdb") else None,
        extra_topic_configs=settings.changelog_topic_configs,
    )
    # Faust's Table takes its value codec from ``value_type`` only (a Record's serializer, else
    # json). Its store and changelog topic take it from the table when they are made: the store
    # on first use, the topic when the table manager adds the table.
    table.value_serializer = StoredValueCodec(deflate=settings.store_deflated)
    return app.tables.add(table)
