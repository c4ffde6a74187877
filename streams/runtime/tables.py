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

    def __init__(
        self,
        *,
        deflate: bool = True,
        remember: int = 4096,
        recent: OrderedDict[int, tuple[Any, bytes]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._deflate = deflate
        self._remember = remember
        self._recent: OrderedDict[int, tuple[Any, bytes]] = (
            OrderedDict() if recent is None else recent
        )

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

    def undecoded_reads(self) -> StoredValueCodec:
        """This codec for a RocksDB table's changelog topic: it encodes as this one does, sharing
        its remembered values (the changelog's encoding of a value reuses the store's), and reads
        values as the bytes they are. Faust decodes every changelog record it restores, then a
        RocksDB store writes the record's bytes and never looks at the decoded value: that
        decoding was an eighth of a restore's CPU."""
        return _UndecodedReads(deflate=self._deflate, remember=self._remember, recent=self._recent)


class _UndecodedReads(StoredValueCodec):
    def _loads(self, data: bytes) -> Any:
        return data


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
    # on first use, the topic on first use too (at the latest when the table manager adds it).
    codec = StoredValueCodec(deflate=settings.store_deflated)
    if settings.store.startswith("rocksdb"):
        # The topic made now, with the undecoding codec. An in-memory store keeps the decoded
        # values a restore hands it, so its changelog keeps the decoding one.
        table.value_serializer = codec.undecoded_reads()
        _ = table.changelog_topic
    table.value_serializer = codec
    return app.tables.add(table)
