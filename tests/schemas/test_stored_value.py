"""The stored form of table values (schemas/stored_value.py): JSON text or deflated JSON."""

from __future__ import annotations

import hashlib
import zlib

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parcelwatch.schemas.stored_value import (
    COMPRESS_FROM,
    DICTIONARY_1,
    FORMAT_DEFLATE_1,
    StoredValueError,
    dump_stored,
    load_stored,
)
from tests.benchmarks.bench_state import stored_states

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=40)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=8)
    | st.dictionaries(st.text(max_size=12), inner, max_size=8),
    max_leaves=60,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_value_survives_being_stored_and_is_never_longer_than_its_json(value):
    stored = dump_stored(value)
    assert load_stored(stored) == value
    assert len(stored) <= len(orjson.dumps(value))


def test_a_shipment_state_is_stored_deflated_in_well_under_half_its_json():
    states = list(stored_states(200).values())
    texts = [orjson.dumps(value) for value in states]
    stored = [dump_stored(value) for value in states]
    assert all(blob[0] == FORMAT_DEFLATE_1 for blob in stored)
    assert [load_stored(blob) for blob in stored] == states
    assert sum(map(len, stored)) < 0.5 * sum(map(len, texts))


def test_short_values_stay_json_text():
    short = {"next_offsets": {"orders": 12}}
    assert len(orjson.dumps(short)) < COMPRESS_FROM
    assert dump_stored(short) == orjson.dumps(short)


def test_json_text_stored_before_this_format_is_still_read():
    state = next(iter(stored_states(5).values()))
    assert load_stored(orjson.dumps(state)) == state
    assert load_stored(b' \n{"v": 4}') == {"v": 4}  # JSON may begin with white space


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x01" + b"\xff" * 20, "damaged deflated value"),
        (dump_stored({"key": "value " * 40})[:-3], "cut short"),
        (b"\x02" + b"{}", "unknown stored value format 0x02"),
        (b'{"unfinished": ', "not JSON"),
        (b"", "not JSON"),
    ],
)
def test_a_damaged_value_is_a_clear_error(data, reason):
    with pytest.raises(StoredValueError, match=reason):
        load_stored(data)


def test_deflated_json_that_is_not_json_is_a_clear_error():
    compressor = zlib.compressobj(2, zlib.DEFLATED, -12, 8, zlib.Z_DEFAULT_STRATEGY, DICTIONARY_1)
    data = bytes((FORMAT_DEFLATE_1,)) + compressor.compress(b"not json") + compressor.flush()
    with pytest.raises(StoredValueError, match="not JSON"):
        load_stored(data)


def test_the_dictionary_of_format_1_never_changes():
    # Values written with it are read with it: a new dictionary is a new format byte.
    digest = hashlib.sha256(DICTIONARY_1).hexdigest()
    assert digest == "ea8e1652fd98343fff87d9dd6796db7109b2548634f00135fb47700e3528d3fb"
