"""The bytes of a table value: what RocksDB and the tables' changelog topics hold.

Every keyed table (shipments and their order index, pain points, model monitoring) stores JSON
objects. Until this format they were stored as JSON text, and JSON text is still read: a value
whose first byte is not a format byte below is JSON (JSON never begins with a control character).

* ``0x01`` then the JSON text deflated (raw deflate, RFC 1951, no header) against the preset
  dictionary ``DICTIONARY_1`` below. A value is stored so only when that is shorter; short values
  (the input ledger's, a retirement marker) stay JSON text.

Deflate finds repeats within one value (a shipment's scans share keys, statuses and places), and
the dictionary gives it what every value of these tables says once: the key names and the
vocabulary of the contracts (statuses, kinds, channels). On the simulator's mix the stored bytes
of a shipment went from ~1,400 to ~500 (the order index's entry included; see the README's
benchmark and ``tests/benchmarks/bench_state.py``).

``DICTIONARY_1`` is part of the format: a value written with it can only be read with it, so it
never changes (a test pins its digest). A better dictionary is format byte ``0x02``, read beside
this one.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson

FORMAT_DEFLATE_1 = 0x01
_DEFLATE_1_PREFIX = bytes((FORMAT_DEFLATE_1,))
COMPRESS_FROM = 96  # bytes of JSON below which deflate's few bytes of framing never pay
WINDOW_BITS = 12  # a 4 KiB window: holds the dictionary and a typical value

# Written once from the contracts' names (state version 4, order state version 1, the enums of
# schemas.types), not from any data set: the latest strings sit at the end, where deflate reaches
# them with the shortest distances.
DICTIONARY_1 = b"".join(
    (
        b'{"retired_version":1,"tracking_number":"","retired_at":"","settled_at":"",',
        b'"pain_point","window","counts","model_version","moment","outcomes","roc_auc","brier",',
        b'"weather_delay","carrier_delay","customs_delay","address_issue","recipient_unavailable",',
        b'"refused","damaged","lost","held_for_payment","missorted","other",',
        b'"carrier_exception","missed_promise","delay_risk","forgotten","stalled","expired",',
        b'"refund_failed","refund_overdue","return_stalled","returned","available_for_pickup",',
        b'"delayed","review_request","return_label_ready","return_in_transit","return_received",',
        b'"refund_issued","refund_delayed","attempt_failed","exception",',
        b'{"order_id":"","shipments":[{"tracking_number":"","partition":0,"carrier":""}],',
        b'"waiting":[],"forwarded":[],"seen_feedback_ids":[],',
        b'"timer":{"next_check_at":"T00:00:00.000000+00:00","home_partition":0},',
        b'"customer":{"id":"","locale":"en-US","timezone":"America/","channels":["email"]},',
        b'"changed_at":"","state_version":1}',
        b'{"v":4,"tn":"","c":"ups","z":0,"d":"return","ret":["",0,],',
        b'"o":{"id":"","sl":"standard","at":[,0],"by":,"from":["","",""],"to":["","",""],',
        b'"cu":["","en-US","Europe/",["email","sms","push"]],"it":[["",1,""]]},',
        b'"r":{"s":0.,"mv":"","pd":[,,],"ap":[0.,"",],"bp":[0.,"",]},',
        b'"t":{"st":"it","sr":"","sa":,"fs":,"ls":,"da":,"ed":,"n":,"xn":,"x":[],',
        b'"sc":[["","ir",,["","",null,""]],["","pu",,0],["","it",,0],["","od",,0],["","dl",,0]]},',
        b'"out":{"ep":[],"rk":[],"es":[],"fb":[],"oc":1,"al":[["","",,]],',
        b'"nf":["order_confirmed","shipped","out_for_delivery","delivered"],',
        b'"nl":[["order_confirmed",[,0,]],["shipped",[,0,]],["out_for_delivery",[,0,]],',
        b'["delivered",[,0,]]]},"ck":,"hp":0,"seen":["","","",""]}',
    )
)


class StoredValueError(ValueError):
    """A stored value that is neither JSON text nor a known format."""


def dump_stored(value: Any, *, deflate: bool = True) -> bytes:
    """``value`` (JSON-able) as stored: deflated when that is shorter (and ``deflate``), else JSON
    text."""
    text = orjson.dumps(value)
    if not deflate or len(text) < COMPRESS_FROM:
        return text
    # Level 2 and a 4 KiB window: a 1 KB state in ~20 µs; level 6 saves 7% more bytes for 40%
    # more time (tests/benchmarks/bench_state.py).
    compressor = zlib.compressobj(
        2, zlib.DEFLATED, -WINDOW_BITS, 8, zlib.Z_DEFAULT_STRATEGY, DICTIONARY_1
    )
    packed = compressor.compress(text) + compressor.flush()
    if len(packed) + 1 >= len(text):
        return text
    return _DEFLATE_1_PREFIX + packed


def load_stored(data: bytes) -> Any:
    """A stored value back as JSON values; ``StoredValueError`` when it is damaged."""
    if data[:1] == _DEFLATE_1_PREFIX:
        decompressor = zlib.decompressobj(-WINDOW_BITS, DICTIONARY_1)
        try:
            text = decompressor.decompress(data[1:])
        except zlib.error as error:
            raise StoredValueError(f"damaged deflated value: {error}") from error
        if not decompressor.eof:
            raise StoredValueError("deflated value cut short")
    elif data[:1] and data[0] < 0x20 and data[:1] not in b"\t\n\r":
        raise StoredValueError(f"unknown stored value format 0x{data[0]:02x}")
    else:
        text = data
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise StoredValueError(f"stored value is not JSON: {error}") from error
