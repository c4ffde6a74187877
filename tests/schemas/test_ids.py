"""Deterministic ids are UUIDv5s: the fast construction must give exactly ``uuid.uuid5``'s."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from parcelwatch.schemas.ids import PARCELWATCH_NAMESPACE, deterministic_id


@given(st.lists(st.text(), min_size=1, max_size=4))
def test_a_deterministic_id_is_the_uuid5_of_its_parts(parts):
    expected = str(uuid.uuid5(PARCELWATCH_NAMESPACE, "/".join(parts)))
    assert deterministic_id(*parts) == expected
    assert uuid.UUID(expected).version == 5
