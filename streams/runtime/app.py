"""The Faust application: built from Settings by ``create_app``, never at import time."""

from __future__ import annotations

from dataclasses import dataclass

import faust
from prometheus_client import REGISTRY, CollectorRegistry

from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.runtime.agents import Tracking, register_tracking
from parcelwatch.streams.runtime.bulk_restore import (
    BulkRestoreOptions,
    bulk_restoring_table_manager,
)
from parcelwatch.streams.runtime.carrier_raw_agent import register_carrier_raw
from parcelwatch.streams.runtime.fetch_wait import with_fetch_wait
from parcelwatch.streams.runtime.kafka_admin import aiokafka_options, faust_credentials
from parcelwatch.streams.runtime.model_monitoring_agent import register_model_monitoring
from parcelwatch.streams.runtime.pain_point_agent import register_pain_points
from parcelwatch.streams.runtime.read_offsets import with_fenced_read_offsets
from parcelwatch.streams.runtime.settings import Settings
from parcelwatch.streams.runtime.table_routing import InputKeyRouter
from parcelwatch.streams.runtime.views import register_views


@dataclass(frozen=True)
class WorkerApp:
    faust: faust.App
    tracking: Tracking


def create_app(settings: Settings, *, registry: CollectorRegistry = REGISTRY) -> WorkerApp:
    metrics = WorkerMetrics(registry)
    app = faust.App(
        settings.app_id,
        broker=settings.broker,
        broker_credentials=faust_credentials(settings.security),
        store=settings.store,
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        web_host=settings.web_host,
        # web_host only names the worker in URLs; web_bind is the address actually listened on
        # (Faust's default is 0.0.0.0, which would expose /metrics beyond the configured host).
        web_bind=settings.web_host,
        web_port=settings.web_port,
        # Faust's built-in /table endpoints serve table *data* (customer ids, time zones) over
        # HTTP, and /router and the statistics pages are debugging aids: none is for production.
        web_tables_enabled=False,
        web_router_enabled=False,
        web_graph_enabled=False,
        web_stats_enabled=False,
        # at_least_once + deterministic ids + sent-state in the table. We measured exactly_once
        # (faust-streaming 0.15, aiokafka 0.14, Kafka 3.9): the timer's checks, sent outside
        # stream processing, sat in transactions that never committed (a read_committed reader saw
        # 0 of 3); sending them with a plain producer instead, a SIGKILL mid-journey still let a
        # read_committed reader see 37 duplicate notifications out of 150. See README.
        processing_guarantee="at_least_once",
        producer_acks=-1,
        producer_linger=settings.producer_linger_ms / 1000,
        producer_max_batch_size=settings.producer_max_batch_bytes,
        consumer_auto_offset_reset="earliest",
        # Recover in seconds, not a minute: a SIGKILLed member is noticed after the session
        # timeout. (Static membership is wired but not recommended: see README, Scaling out.)
        broker_session_timeout=settings.session_timeout_seconds,
        broker_heartbeat_interval=settings.session_timeout_seconds / 3,
        consumer_group_instance_id=settings.instance_id,
        table_standby_replicas=settings.standby_replicas,
        autodiscover=False,
        # The lookup API's @app.table_route finds a key's owner by the input key's bytes.
        Router=InputKeyRouter,
        TableManager=bulk_restoring_table_manager(
            BulkRestoreOptions(
                aiokafka_options(settings), settings.restore_bulk_seconds, metrics.bulk_restored
            )
        ),
    )
    with_fetch_wait(app, settings.fetch_max_wait_ms)
    with_fenced_read_offsets(app)
    tracking = register_tracking(app, settings, metrics)
    register_pain_points(app, settings, metrics)
    register_carrier_raw(app, settings, metrics)
    register_model_monitoring(app, settings, metrics)
    register_views(app, registry, tracking, settings)
    return WorkerApp(app, tracking)
