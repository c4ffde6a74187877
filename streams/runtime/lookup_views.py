"""The lookup API on the worker's web server: thin Faust views over ``lookup_api``.

Each request is checked (token, then id) before it is routed, so a refused request costs no hop.
``@app.table_route`` then sends it to the worker that owns the key's partition of the shipments
table (Faust's partitioner: murmur2 of the key, as the Java client and aiokafka write; see the
README on other partitioners), or answers here when that is this worker; a forwarded request is
never forwarded again (``table_routing``).

Keys live on the partition of the input that wrote them: a shipment's on its tracking number's,
an order's index (``~order~``) and return (``~return~``) on the order id's. So a shipment's answer
asks the order's owner for the return (``/v1/orders/{order_id}/return``), and an order's answer
asks each shipment's owner for its answer; neither of those asks further than one more hop.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import faust
from faust import web
from yarl import URL

from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.streams.core.answers import AnswerTemplates, order_id_of
from parcelwatch.streams.core.returns import ReturnPolicy
from parcelwatch.streams.runtime.lookup_api import (
    NOT_FOUND,
    ORDER_RETIRED,
    RETIRED,
    ApiGate,
    Lookups,
    Reply,
    answer_locale,
    customer_locale,
    error,
    locale_hint,
    order_id_problem,
    order_reply,
    tracking_number_problem,
)
from parcelwatch.streams.runtime.table_routing import FORWARDED_HEADER, same_worker

log = logging.getLogger(__name__)
# The ids in the routes' paths; a tracking page's query (its link's signature) goes too.
_ID_PATHS = re.compile(r"(/v1/(?:shipments|orders)/)[^\s?\"]*|(/track/)[^\s\"]*")


class _IdsOutOfAccessLog(logging.Filter):
    """aiohttp's access log writes each request's path: the lookup routes' ids become ``<id>``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/v1/" in message or "/track/" in message:
            record.msg, record.args = _ID_PATHS.sub(_without_id, message), ()
        return True


def _without_id(match: re.Match[str]) -> str:
    return f"{match.group(1) or match.group(2)}<id>"


_ACCESS_LOG_FILTER = _IdsOutOfAccessLog()
# Retry-After: a rebalance usually settles within seconds.
UNAVAILABLE = error(
    503, "unavailable", "The worker holding this id cannot answer now; retry.", {"Retry-After": "2"}
)


def answer_lookups(
    shipments: Any, templates: AnswerTemplates, return_policy: ReturnPolicy
) -> Lookups:
    """The lookups both the API and the tracking page answer from (``templates``: the answer
    templates, loaded once by the tracking side, whose support cases attach the same answers);
    keeps ids out of the access log from now on."""
    logging.getLogger("aiohttp.access").addFilter(_ACCESS_LOG_FILTER)  # once: a filter is a set
    return Lookups(
        read=shipments.get, templates=templates, clock=utc_now, return_policy=return_policy
    )


async def answered_at_owner(
    handler: Any,
    view: web.View,
    request: web.Request,
    unavailable: Callable[[], web.Response],
) -> web.Response:
    """``handler`` (a ``@app.table_route`` view) run here or at the key's owner; any failure on
    the way is ``unavailable()``: never a stack trace, never the id, the kind of failure only."""
    try:
        return await handler(view, request)
    except Exception as problem:
        log.warning("lookup: a request could not be answered (%s)", type(problem).__name__)
        return unavailable()


def register_lookup_views(app: faust.App, shipments: Any, lookups: Lookups, gate: ApiGate) -> None:
    def send(view: web.View, reply: Reply) -> web.Response:
        status, body, headers = reply
        return view.json(body, status=status, headers=headers or None)

    async def routed(handler: Any, view: web.View, request: web.Request) -> web.Response:
        return await answered_at_owner(handler, view, request, lambda: send(view, UNAVAILABLE))

    @app.table_route(table=shipments, match_info="tracking_number")
    async def shipment_here(view: web.View, request: web.Request) -> web.Response:
        tracking_number = request.match_info["tracking_number"]
        state = lookups.shipment_state(tracking_number)
        if state is None:
            return send(view, RETIRED if lookups.retired(tracking_number) else NOT_FOUND)
        returns = await return_of_order(
            app, shipments, lookups, order_id_of(state), customer_locale(state),
            request.headers.get("Authorization"),
        )  # fmt: skip
        return send(view, (200, lookups.shipment_answer(state, returns), {}))

    @app.table_route(table=shipments, match_info="order_id")
    async def order_here(view: web.View, request: web.Request) -> web.Response:
        order_id = request.match_info["order_id"]
        if lookups.order_retired(order_id):
            return send(view, ORDER_RETIRED)
        tracking_numbers = lookups.order_shipments(order_id)
        if tracking_numbers is None:
            return send(view, NOT_FOUND)
        answers, unavailable = [], []
        for tracking_number in tracking_numbers:
            status, answer, _ = lookups.shipment(tracking_number)  # the order's return is here
            if status != 200:
                path = f"/v1/shipments/{tracking_number}"
                authorization = request.headers.get("Authorization")
                asked = await _ask_owner(app, shipments, tracking_number, path, authorization)
                answer = asked if isinstance(asked, dict) else None
            (answers if answer is not None else unavailable).append(answer or tracking_number)
        returns = lookups.return_answer(order_id, answer_locale(answers))
        return send(view, order_reply(order_id, answers, unavailable, returns))

    @app.table_route(table=shipments, match_info="order_id")
    async def return_here(view: web.View, request: web.Request) -> web.Response:
        locale = locale_hint(request.query.get("locale"))
        return send(view, lookups.return_reply(request.match_info["order_id"], locale))

    async def checked(
        view: web.View, request: web.Request, problem: Reply | None, handler: Any
    ) -> web.Response:
        """Token, then id, then routed: a refused request costs no hop."""
        refusal = gate.refusal(request.headers) or problem
        if refusal is not None:
            return send(view, refusal)
        return await routed(handler, view, request)

    @app.page("/v1/shipments/{tracking_number}")
    async def shipment(self: web.View, request: web.Request, tracking_number: str) -> web.Response:
        return await checked(self, request, tracking_number_problem(tracking_number), shipment_here)

    @app.page("/v1/orders/{order_id}")
    async def order(self: web.View, request: web.Request, order_id: str) -> web.Response:
        return await checked(self, request, order_id_problem(order_id), order_here)

    @app.page("/v1/orders/{order_id}/return")
    async def order_return(self: web.View, request: web.Request, order_id: str) -> web.Response:
        return await checked(self, request, order_id_problem(order_id), return_here)


_HERE = object()  # the key's owner is this worker: read the local table


async def return_of_order(
    app: faust.App,
    shipments: Any,
    lookups: Lookups,
    order_id: str | None,
    locale: str | None,
    authorization: str | None,
) -> dict[str, Any] | None:
    """The order's return (encoded ``ReturnAnswer``), from this worker or from the order's owner,
    asked with ``authorization`` (a bearer token's header); None: no return, or its owner could
    not answer (or could not be asked: no token)."""
    if order_id is None:
        return None
    path = f"/v1/orders/{quote(order_id, safe='')}/return"
    params = {"locale": locale or ""}
    asked = await _ask_owner(app, shipments, order_id, path, authorization, params)
    if asked is _HERE:
        return lookups.return_answer(order_id, locale)
    return asked["returns"] if isinstance(asked, dict) else None


async def _ask_owner(
    app: faust.App,
    shipments: Any,
    key: str,
    path: str,
    authorization: str | None,
    params: dict[str, str] | None = None,
) -> Any:
    """The JSON answer of ``path`` from the worker owning ``key``; ``_HERE`` when that is this
    worker; None when it could not answer. Marked as forwarded: the owner answers from what it
    holds, and never passes the request on."""
    try:
        owner: URL = app.router.key_store(shipments.name, key)
        if same_worker(owner, URL(str(app.conf.canonical_url))):
            return _HERE
        if authorization is None:
            return None  # the owner would refuse: no hop
        url = owner.with_path(path, encoded=True).with_query(params or {})
        headers = {"Authorization": authorization, FORWARDED_HEADER: "1"}
        async with app.http_client.get(url, headers=headers) as response:
            if response.status != 200:
                return None
            return await response.json()
    except Exception as problem:  # no assignment yet, connection errors, timeouts, bad JSON
        log.warning("lookup: a key's owner could not answer (%s)", type(problem).__name__)
        return None
