"""HTTP endpoints of the worker: /metrics for Prometheus and /healthz for orchestrators.

Neither takes input beyond its path, so there is nothing to validate; anything else is a 404.
"""

from __future__ import annotations

import faust
from faust import web
from faust.sensors.prometheus import setup_prometheus_sensors
from prometheus_client import CollectorRegistry


def register_views(app: faust.App, registry: CollectorRegistry) -> None:
    # Faust's own sensors (consumer, producer, tables) under parcelwatch_faust_*, next to ours.
    setup_prometheus_sensors(
        app, pattern="/metrics", registry=registry, name_prefix="parcelwatch_faust"
    )

    @app.page("/healthz")
    async def healthz(self: web.View, request: web.Request) -> web.Response:
        # Ready once this worker owns partitions and has restored their state.
        assigned = bool(app.consumer.assignment()) if app.consumer is not None else False
        ready = assigned and not app.rebalancing and not app.in_recovery
        return self.json({"status": "ok" if ready else "starting"}, status=200 if ready else 503)
