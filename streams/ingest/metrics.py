"""Prometheus metrics of the webhook receiver (served on its own ``/metrics``)."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.webhooks = Counter(
            "parcelwatch_webhooks",
            "Webhook requests by platform (unknown: a path naming no platform) and outcome "
            "(accepted, unknown_platform, too_large, not_configured, bad_signature, malformed, "
            "publish_failed).",
            ["platform", "outcome"],
            registry=registry,
        )
        self.seconds = Histogram(
            "parcelwatch_webhook_seconds",
            "Seconds from a webhook request's start to its answer (including Kafka's ack), by "
            "platform.",
            ["platform"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
