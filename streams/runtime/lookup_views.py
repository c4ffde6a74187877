"""The lookup API on the worker's web server: thin Faust views over ``lookup_api``.

Each request is checked (token, then id) before it is routed, so a refused request costs no hop.
``@app.table_route`` then sends it to the worker that owns the key's partition of the shipments
table (Faust's partitioner: murmur2 of the key, as the Java client and aiokafka write; see the
README on other partitioners), or answers here when that is this worker.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import faust
from faust import web
from yarl import URL

from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.streams.core.answers import AnswerTemplates
from parcelwatch.streams.runtime.lookup_api import (
    NOT_FOUND,
    ApiGate,
    Lookups,
    Reply,
    error,
    order_id_problem,
    order_reply,
    tracking_number_problem,
)

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
UNAVAILABLE = error(503, "unavailable", "The worker holding this id cannot answer now; retry.")


def answer_lookups(shipments: Any, templates: AnswerTemplates) -> Lookups:
    """The lookups both the API and the tracking page answer from (``templates``: the answer
    templates, loaded once by the tracking side, whose support cases attach the same answers);
    keeps ids out of the access log from now on."""
    logging.getLogger("aiohttp.access").addFilter(_ACCESS_LOG_FILTER)  # once: a filter is a set
    return Lookups(read=shipments.get, templates=templates, clock=utc_now)


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
        return send(view, lookups.shipment(request.match_info["tracking_number"]))

    @app.table_route(table=shipments, match_info="order_id")
    async def order_here(view: web.View, request: web.Request) -> web.Response:
        order_id = request.match_info["order_id"]
        tracking_numbers = lookups.order_shipments(order_id)
        if tracking_numbers is None:
            return send(view, NOT_FOUND)
        answers, unavailable = [], []
        for tracking_number in tracking_numbers:
            answer = lookups.shipment_answer(tracking_number)
            if answer is None:
                answer = await _ask_owner(app, shipments, tracking_number, request)
            (answers if answer is not None else unavailable).append(answer or tracking_number)
        return send(view, order_reply(order_id, answers, unavailable))

    @app.page("/v1/shipments/{tracking_number}")
    async def shipment(self: web.View, request: web.Request, tracking_number: str) -> web.Response:
        refusal = gate.refusal(request.headers) or tracking_number_problem(tracking_number)
        if refusal is not None:
            return send(self, refusal)
        return await routed(shipment_here, self, request)

    @app.page("/v1/orders/{order_id}")
    async def order(self: web.View, request: web.Request, order_id: str) -> web.Response:
        refusal = gate.refusal(request.headers) or order_id_problem(order_id)
        if refusal is not None:
            return send(self, refusal)
        return await routed(order_here, self, request)


async def _ask_owner(
    app: faust.App, shipments: Any, tracking_number: str, request: web.Request
) -> dict[str, Any] | None:
    """A linked shipment held by another worker: its answer from that worker, or None."""
    try:
        owner: URL = app.router.key_store(shipments.name, tracking_number)
        if _same(owner, URL(str(app.conf.canonical_url))):
            return None
        url = owner.with_path(f"/v1/shipments/{tracking_number}")
        headers = {"Authorization": request.headers.get("Authorization", "")}
        async with app.http_client.get(url, headers=headers) as response:
            if response.status != 200:
                return None
            return await response.json()
    except Exception as problem:  # no assignment yet, connection errors, timeouts, bad JSON
        log.warning("lookup: a shipment's owner could not answer (%s)", type(problem).__name__)
        return None


def _same(a: URL, b: URL) -> bool:
    return (a.host, a.port) == (b.host, b.port)
