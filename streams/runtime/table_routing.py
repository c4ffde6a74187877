"""Web requests routed to the worker that owns a table key, by the key as the inputs carry it.

Faust's router finds a key's partition from the table's changelog key, which its json codec
writes quoted (``"1Z999"``); but the tables are partitioned like their input topics, whose keys
are the raw UTF-8 bytes (``1Z999``). Routed by the quoted bytes, most requests would reach a
worker that does not hold the key. This router partitions the raw bytes instead, with the same
partitioner (murmur2, as the Java client and aiokafka write; see the README for other producers).

It also forwards a request at most once. During a rebalance two workers can each believe the
other owns a key; without a limit they would pass the request back and forth until a client or a
socket gave up. A forwarded request carries ``FORWARDED_HEADER``, and its receiver answers it from
what it holds or, when it does not own the key either, refuses it (``KeyNotHere``: a 503 with
``Retry-After``, the client asks again once the assignment has settled).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from faust.app.router import Router
from faust.exceptions import SameNode
from faust.web.exceptions import ServiceUnavailable
from yarl import URL

FORWARDED_HEADER = "X-Parcelwatch-Forwarded"
# Headers that describe the first hop's connection, not the request: aiohttp sets its own.
_HOP_HEADERS = frozenset({"host", "content-length", "connection", "transfer-encoding"})


class Hop(StrEnum):
    HERE = "here"  # this worker owns the key: answer from the local table
    FORWARD = "forward"  # another worker owns it: pass the request on, once
    REFUSE = "refuse"  # forwarded already, and not ours either: 503, retry later


class KeyNotHere(ServiceUnavailable):
    """A forwarded request reached a worker that does not own its key."""


def next_hop(owner_is_here: bool, forwarded: bool) -> Hop:
    if owner_is_here:
        return Hop.HERE
    return Hop.REFUSE if forwarded else Hop.FORWARD


def forwarded_headers(headers: Any) -> dict[str, str]:
    """The request's headers for the owner, marked as forwarded."""
    kept = {name: value for name, value in headers.items() if name.lower() not in _HOP_HEADERS}
    return {**kept, FORWARDED_HEADER: "1"}


def same_worker(a: URL, b: URL) -> bool:
    return (a.host, a.port) == (b.host, b.port)


class InputKeyRouter(Router):
    @classmethod
    def _get_serialized_key(cls, table: Any, key: Any) -> bytes:
        if isinstance(key, str):
            return key.encode("utf-8")
        return super()._get_serialized_key(table, key)

    async def route_req(self, table_name: str, key: Any, web: Any, request: Any) -> Any:
        """The owner's response, or SameNode when this worker answers (Faust's table_route then
        calls the view)."""
        try:
            owner: URL = self.key_store(table_name, key)
        except KeyError:  # no assignment yet
            raise ServiceUnavailable() from None
        here = same_worker(owner, URL(str(self.app.conf.canonical_url)))
        hop = next_hop(here, FORWARDED_HEADER in request.headers)
        if hop is Hop.HERE:
            raise SameNode()
        if hop is Hop.REFUSE:
            raise KeyNotHere()
        url = request.url.with_host(owner.host).with_port(owner.port)
        async with self.app.http_client.request(
            method=request.method, headers=forwarded_headers(request.headers), url=url
        ) as response:
            retry = response.headers.get("Retry-After")
            return web.text(
                await response.text(),
                content_type=response.content_type,
                status=response.status,
                headers={"Retry-After": retry} if retry else None,
            )
