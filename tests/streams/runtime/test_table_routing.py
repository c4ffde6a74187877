"""The raw-key router forwards a request to the key's owner at most once: a forwarded request is
answered where it lands, or refused with a retry when the key is not there either."""

from __future__ import annotations

from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from faust.exceptions import SameNode
from faust.web.exceptions import ServiceUnavailable
from multidict import CIMultiDict
from yarl import URL

from parcelwatch.streams.runtime.table_routing import (
    FORWARDED_HEADER,
    Hop,
    InputKeyRouter,
    KeyNotHere,
    forwarded_headers,
    next_hop,
)

HERE = URL("http://worker-a:6066")
THERE = URL("http://worker-b:6067")


@pytest.mark.parametrize(
    ("owner_is_here", "forwarded", "hop"),
    [
        (True, False, Hop.HERE),
        (True, True, Hop.HERE),
        (False, False, Hop.FORWARD),
        (False, True, Hop.REFUSE),  # never a second hop: two workers cannot ping-pong
    ],
)
def test_a_request_is_forwarded_at_most_once(owner_is_here, forwarded, hop):
    assert next_hop(owner_is_here, forwarded) is hop


def test_forwarded_headers_keep_the_token_and_drop_the_first_hops_connection():
    headers = CIMultiDict({"Authorization": "Bearer t", "Host": "worker-a", "Content-Length": "0"})
    assert forwarded_headers(headers) == {"Authorization": "Bearer t", FORWARDED_HEADER: "1"}


class FakeResponse:
    status = 200
    content_type = "application/json"
    headers: ClassVar[dict[str, str]] = {"Retry-After": "2"}

    async def text(self) -> str:
        return '{"ok": true}'


def router_owned_by(owner: URL | None) -> tuple[InputKeyRouter, list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []

    @asynccontextmanager
    async def request(**kwargs: Any):
        sent.append(kwargs)
        yield FakeResponse()

    app = SimpleNamespace(
        assignor=None,
        conf=SimpleNamespace(canonical_url=HERE),
        http_client=SimpleNamespace(request=request),
    )
    router = InputKeyRouter(app)

    def key_store(table_name: str, key: Any) -> URL:
        if owner is None:
            raise KeyError("no assignment yet")
        return owner

    router.key_store = key_store  # type: ignore[method-assign]
    return router, sent


def request(*, forwarded: bool) -> SimpleNamespace:
    headers = CIMultiDict({"Authorization": "Bearer t"})
    if forwarded:
        headers[FORWARDED_HEADER] = "1"
    return SimpleNamespace(
        method="GET", headers=headers, url=URL("http://worker-a:6066/v1/shipments/1Z")
    )


WEB = SimpleNamespace(text=lambda body, **kwargs: (body, kwargs))


async def test_the_owner_answers_itself_forwarded_or_not():
    router, sent = router_owned_by(HERE)
    for forwarded in (False, True):
        with pytest.raises(SameNode):
            await router.route_req("shipments", "1Z", WEB, request(forwarded=forwarded))
    assert sent == []


async def test_a_first_request_goes_to_the_owner_marked_as_forwarded():
    router, sent = router_owned_by(THERE)
    body, reply = await router.route_req("shipments", "1Z", WEB, request(forwarded=False))
    (call,) = sent
    assert call["url"] == URL("http://worker-b:6067/v1/shipments/1Z")
    assert call["headers"][FORWARDED_HEADER] == "1"
    assert body == '{"ok": true}' and reply["status"] == 200
    assert reply["headers"] == {"Retry-After": "2"}  # the owner's retry advice passes through


async def test_a_forwarded_request_for_a_key_owned_elsewhere_is_refused_not_passed_on():
    router, sent = router_owned_by(THERE)
    with pytest.raises(KeyNotHere):
        await router.route_req("shipments", "1Z", WEB, request(forwarded=True))
    assert sent == []


async def test_without_an_assignment_the_request_is_unavailable():
    router, _ = router_owned_by(None)
    with pytest.raises(ServiceUnavailable):
        await router.route_req("shipments", "1Z", WEB, request(forwarded=False))
