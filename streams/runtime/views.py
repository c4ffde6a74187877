"""HTTP endpoints of the worker: /metrics for Prometheus, /healthz and /readyz for orchestrators.

None takes input beyond its path, so there is nothing to validate; anything else is a 404.

* ``/healthz`` (liveness): 200 while the worker makes progress — also while it starts or restores
  its tables, within ``PARCELWATCH_RECOVERY_TIMEOUT_SECONDS``; 503 when the agent died, a
  recovery takes too long, or input waits while nothing is applied (restart the worker).
* ``/readyz`` (readiness): 200 only while it processes its partitions (assigned, tables restored,
  no skipped offsets being re-read) and is alive.

Both answer a small JSON document: phase, problems in plain words, input lag. Never any data.

The lookup API (``GET /v1/shipments/{tracking_number}``, ``GET /v1/orders/{order_id}``) needs a
bearer token from ``PARCELWATCH_API_TOKENS`` and is off (404) without one; its decisions live in
``lookup_api.py``. A request reaching a worker that does not own the key's partition is forwarded
to the owner by Faust's table routing (headers included), which answers it.

The customer tracking page (``GET /track/{tracking_number}?sig=...``) is on only with
``PARCELWATCH_TRACKING_PAGE_KEY``: ``tracking_page_views.py``.
"""

from __future__ import annotations

import faust
from faust import web
from faust.sensors.prometheus import setup_prometheus_sensors
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from parcelwatch.streams.runtime.agents import Tracking
from parcelwatch.streams.runtime.lookup_api import ApiGate
from parcelwatch.streams.runtime.lookup_views import answer_lookups, register_lookup_views
from parcelwatch.streams.runtime.settings import Settings
from parcelwatch.streams.runtime.tracking_page_views import register_tracking_page


def register_views(
    app: faust.App, registry: CollectorRegistry, tracking: Tracking, settings: Settings
) -> None:
    if settings.faust_metrics:
        # Faust's own sensors (consumer, producer, tables) under parcelwatch_faust_*, next to
        # ours. Off by default: they update labelled metrics several times per event.
        setup_prometheus_sensors(
            app, pattern="/metrics", registry=registry, name_prefix="parcelwatch_faust"
        )
    else:

        @app.page("/metrics")
        async def metrics(self: web.View, request: web.Request) -> web.Response:
            return self.bytes(
                generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
            )

    @app.page("/healthz")
    async def healthz(self: web.View, request: web.Request) -> web.Response:
        report = await tracking.report()
        return self.json(report.as_json(), status=200 if report.alive else 503)

    @app.page("/readyz")
    async def readyz(self: web.View, request: web.Request) -> web.Response:
        report = await tracking.report()
        return self.json(report.as_json(), status=200 if report.ready else 503)

    lookups = answer_lookups(tracking.shipments, tracking.answer_templates, settings.return_policy)
    gate = ApiGate(settings.api_tokens)
    register_lookup_views(app, tracking.shipments, lookups, gate)
    register_tracking_page(app, tracking.shipments, lookups, gate, settings)
