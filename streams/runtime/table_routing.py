"""Web requests routed to the worker that owns a table key, by the key as the inputs carry it.

Faust's router finds a key's partition from the table's changelog key, which its json codec
writes quoted (``"1Z999"``); but the tables are partitioned like their input topics, whose keys
are the raw UTF-8 bytes (``1Z999``). Routed by the quoted bytes, most requests would reach a
worker that does not hold the key. This router partitions the raw bytes instead, with the same
partitioner (murmur2, as the Java client and aiokafka write; see the README for other producers).
"""

from __future__ import annotations

from typing import Any

from faust.app.router import Router


class InputKeyRouter(Router):
    @classmethod
    def _get_serialized_key(cls, table: Any, key: Any) -> bytes:
        if isinstance(key, str):
            return key.encode("utf-8")
        return super()._get_serialized_key(table, key)
