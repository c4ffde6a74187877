"""The tables' value codec: the stored form, each value encoded once however often Faust asks."""

from __future__ import annotations

import orjson
import pytest
from prometheus_client import CollectorRegistry

from parcelwatch.schemas.stored_value import FORMAT_DEFLATE_1, load_stored
from parcelwatch.streams.runtime import tables
from parcelwatch.streams.runtime.app import create_app
from parcelwatch.streams.runtime.settings import Settings
from parcelwatch.streams.runtime.tables import StoredValueCodec

STATE_LIKE = {"v": 4, "t": {"sc": [["~-s1", "it", 1_795_000_000 + n, 0] for n in range(20)]}}


def counting_dumps(monkeypatch) -> list[object]:
    encoded: list[object] = []
    real = tables.dump_stored

    def dump(value, **options):
        encoded.append(value)
        return real(value, **options)

    monkeypatch.setattr(tables, "dump_stored", dump)
    return encoded


def test_the_codec_writes_and_reads_the_stored_form():
    codec = StoredValueCodec()
    data = codec.dumps(STATE_LIKE)
    assert data[0] == FORMAT_DEFLATE_1
    assert load_stored(data) == STATE_LIKE
    assert codec.loads(data) == STATE_LIKE
    assert codec.loads(b'{"v": 4}') == {"v": 4}  # JSON text, as tables stored it before


def test_a_value_is_encoded_once_for_the_store_and_its_changelog(monkeypatch):
    encoded = counting_dumps(monkeypatch)
    codec = StoredValueCodec()
    first = codec.dumps(STATE_LIKE)
    again = codec.dumps(STATE_LIKE)  # the changelog's turn: the same object
    assert again is first
    assert encoded == [STATE_LIKE]
    # An equal but new object (the next write of the key) is encoded anew, and so is the same
    # object a third time: each value is remembered for one more encoding only.
    equal = {**STATE_LIKE}
    assert codec.dumps(equal) == first
    assert codec.dumps(STATE_LIKE) == first
    assert len(encoded) == 3


def test_the_codec_remembers_a_bounded_number_of_values(monkeypatch):
    encoded = counting_dumps(monkeypatch)
    codec = StoredValueCodec(remember=2)
    values = [{"n": n} for n in range(3)]
    for value in values:
        codec.dumps(value)
    codec.dumps(values[0])  # forgotten: the oldest of three with room for two
    codec.dumps(values[2])  # remembered
    assert encoded == [values[0], values[1], values[2], values[0]]


def test_with_deflating_off_the_codec_writes_json_text_and_still_reads_both():
    codec = StoredValueCodec(deflate=False)
    data = codec.dumps(STATE_LIKE)
    assert data == orjson.dumps(STATE_LIKE)
    assert codec.loads(StoredValueCodec().dumps(dict(STATE_LIKE))) == STATE_LIKE


@pytest.mark.parametrize("deflated", [True, False])
def test_every_table_stores_its_values_in_the_stored_form(tmp_path, deflated):
    settings = Settings(data_dir=tmp_path, store_deflated=deflated)
    app = create_app(settings, registry=CollectorRegistry()).faust
    assert len(app.tables) >= 3
    for name, table in app.tables.items():
        assert isinstance(table.value_serializer, StoredValueCodec), name
        first = table.value_serializer.dumps(STATE_LIKE)
        assert (first[0] == FORMAT_DEFLATE_1) is deflated, name
        assert table.data.value_serializer is table.value_serializer, name
        # The changelog encodes like the store, reusing the store's encoding of a value, and a
        # restore hands RocksDB the records' bytes undecoded.
        changelog_codec = table.changelog_topic.schema.value_serializer
        assert changelog_codec.dumps(STATE_LIKE) is first, name
        assert changelog_codec.loads(first) == first, name


def test_an_in_memory_table_restores_decoded_values(tmp_path):
    settings = Settings(data_dir=tmp_path, store="memory://")
    app = create_app(settings, registry=CollectorRegistry()).faust
    for name, table in app.tables.items():
        data = table.value_serializer.dumps(STATE_LIKE)
        assert table.changelog_topic.schema.value_serializer.loads(data) == STATE_LIKE, name
