"""The customer tracking page on the worker's web server: ``GET /track/{tracking_number}?sig=``.

Off unless ``PARCELWATCH_TRACKING_PAGE_KEY`` is set: then the route does not exist (404 like any
unknown path). A request needs the link's signature (``page_links``) or a lookup API bearer token
(support staff), then a well-formed id; it is answered by the partition's owner, like the API,
from the same answer (``core/tracking_page.py`` renders it). Refusals and errors are small HTML
pages with a fixed sentence, in the browser's language: never a stack trace, never the id.
"""

from __future__ import annotations

from typing import Any

import faust
from faust import web

from parcelwatch.streams.core.answers import order_id_of
from parcelwatch.streams.core.tracking_page import render_notice_page, render_tracking_page
from parcelwatch.streams.message_templates.answer_files import answers_folder
from parcelwatch.streams.message_templates.page_labels import load_page_labels
from parcelwatch.streams.runtime.lookup_api import (
    ApiGate,
    Lookups,
    customer_locale,
    tracking_number_problem,
)
from parcelwatch.streams.runtime.lookup_views import answered_at_owner, return_of_order
from parcelwatch.streams.runtime.page_links import signature_matches
from parcelwatch.streams.runtime.settings import Settings

# Nothing but the page's own inline styles may load or run; the page is per customer and
# carries the link's signature in its address: never cached, never sent on as a referrer.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def register_tracking_page(
    app: faust.App, shipments: Any, lookups: Lookups, gate: ApiGate, settings: Settings
) -> None:
    key = settings.tracking_page_key
    if key is None:
        return
    words = load_page_labels(answers_folder(settings.template_dir))  # checked at start-up

    def page(view: web.View, status: int, text: str) -> web.Response:
        return view.html(text, status=status, headers=dict(PAGE_HEADERS))

    def notice(view: web.View, request: web.Request, status: int, name: str) -> web.Response:
        labels = words.for_locale(first_language(request.headers.get("Accept-Language")))
        return page(view, status, render_notice_page(labels, name))

    @app.table_route(table=shipments, match_info="tracking_number")
    async def page_here(view: web.View, request: web.Request) -> web.Response:
        state = lookups.shipment_state(request.match_info["tracking_number"])
        if state is None:
            return notice(view, request, 404, "not_found")
        # The order's return may live on another worker (the order id's partition): asked there
        # with the API's own token, as a support person's lookup would be.
        returns = await return_of_order(
            app, shipments, lookups, order_id_of(state), customer_locale(state),
            gate.own_authorization(),
        )  # fmt: skip
        answer, zone = lookups.shipment_view(state, returns)
        return page(
            view, 200, render_tracking_page(answer, words.for_locale(answer["locale"]), zone)
        )

    @app.page("/track/{tracking_number}")
    async def track(self: web.View, request: web.Request, tracking_number: str) -> web.Response:
        signed = signature_matches(key, tracking_number, request.query.get("sig"))
        if not (signed or gate.authorized(request.headers.get("Authorization"))):
            return notice(self, request, 401, "unauthorized")
        if tracking_number_problem(tracking_number) is not None:
            return notice(self, request, 400, "malformed")
        response = await answered_at_owner(
            page_here, self, request, lambda: notice(self, request, 503, "unavailable")
        )
        # A page forwarded by the owner comes back with its body and status only.
        response.headers.update(PAGE_HEADERS)
        return response


def first_language(accept_language: str | None) -> str | None:
    """The browser's first choice in ``Accept-Language`` (``de-DE,de;q=0.9`` -> ``de-DE``)."""
    if not accept_language:
        return None
    first = accept_language.split(",", 1)[0].split(";", 1)[0].strip()
    return first if first and first != "*" else None
