"""The Faust application: built from Settings by ``create_app``, never at import time."""

from __future__ import annotations

import faust
from prometheus_client import REGISTRY, CollectorRegistry

from streams.agents import register_tracking
from streams.kafka_admin import faust_credentials
from streams.metrics import WorkerMetrics
from streams.settings import Settings
from streams.views import register_views


def create_app(settings: Settings, *, registry: CollectorRegistry = REGISTRY) -> faust.App:
    app = faust.App(
        settings.app_id,
        broker=settings.broker,
        broker_credentials=faust_credentials(settings.security),
        store=settings.store,
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        web_host=settings.web_host,
        web_port=settings.web_port,
        # Faust's built-in /table endpoints serve table *data* (customer ids, time zones) over
        # HTTP, and /router and the statistics pages are debugging aids: none is for production.
        web_tables_enabled=False,
        web_router_enabled=False,
        web_graph_enabled=False,
        web_stats_enabled=False,
        # at_least_once + deterministic ids: faust-streaming 0.15's exactly_once produced nothing
        # with aiokafka 0.14 on Kafka 3.9 in our probe ("Not in the middle of a transaction").
        processing_guarantee="at_least_once",
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        autodiscover=False,
    )
    metrics = WorkerMetrics(registry)
    register_tracking(app, settings, metrics)
    register_views(app, registry)
    return app
