"""``parcelwatch ingest``: tracking platforms' webhooks in, ``carrier-raw`` messages out.

``POST /webhooks/{platform}`` checks, in this order, and answers:

* 404: a platform parcelwatch does not know;
* 413: a body over ``PARCELWATCH_INGEST_MAX_BODY_BYTES`` (by ``Content-Length``, then by what
  really arrives), or one too large for a ``carrier-raw`` message once wrapped;
* 503: no secret is set for the platform and its unsigned webhooks are not allowed (the
  operator's to fix, so the platform keeps retrying meanwhile);
* 401: the platform's signature is missing or wrong;
* 400: the body is not a JSON object;
* 503: Kafka did not acknowledge the message in time (the platform retries);
* 200: Kafka acknowledged it (acks=all).

Nothing is written on a refusal. Logs name the platform, the size and the outcome, never a body,
a header or a secret; the access log is off because a URL may carry a token (Shippo's option).
``GET /healthz`` answers 200 while the server runs; ``GET /metrics`` is Prometheus.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from parcelwatch.schemas.carrier_raw import MAX_RAW_MESSAGE_BYTES, raw_payload_for
from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.types import CarrierSource
from parcelwatch.streams.ingest.metrics import IngestMetrics
from parcelwatch.streams.ingest.publisher import KafkaPublisher, Publisher
from parcelwatch.streams.ingest.settings import IngestSettings, secret_variable
from parcelwatch.streams.ingest.signatures import Verdict, Verifier, verifiers
from parcelwatch.streams.ingest.tracking_numbers import tracking_number_in
from parcelwatch.streams.pipeline.error_text import describe

log = logging.getLogger(__name__)

_READ_CHUNK_BYTES = 64 * 1024


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    UNKNOWN_PLATFORM = "unknown_platform"
    TOO_LARGE = "too_large"
    NOT_CONFIGURED = "not_configured"
    BAD_SIGNATURE = "bad_signature"
    MALFORMED = "malformed"
    PUBLISH_FAILED = "publish_failed"


_STATUS = {
    Outcome.ACCEPTED: 200,
    Outcome.UNKNOWN_PLATFORM: 404,
    Outcome.TOO_LARGE: 413,
    Outcome.NOT_CONFIGURED: 503,
    Outcome.BAD_SIGNATURE: 401,
    Outcome.MALFORMED: 400,
    Outcome.PUBLISH_FAILED: 503,
}
_ANSWER = {
    Outcome.ACCEPTED: "accepted",
    Outcome.UNKNOWN_PLATFORM: "no such platform",
    Outcome.TOO_LARGE: "body too large",
    Outcome.NOT_CONFIGURED: "webhooks from this platform are not configured here",
    Outcome.BAD_SIGNATURE: "signature missing or invalid",
    Outcome.MALFORMED: "body is not a JSON object",
    Outcome.PUBLISH_FAILED: "not stored, please retry",
}


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Result:
    outcome: Outcome
    size: int = 0
    detail: str = ""  # for the log: a signature verdict, an error's class; never data


class WebhookReceiver:
    """The request handler: size, signature, JSON, publish; counted and logged."""

    def __init__(
        self,
        settings: IngestSettings,
        publisher: Publisher,
        metrics: IngestMetrics,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._settings = settings
        self._publisher = publisher
        self._metrics = metrics
        self._clock = clock
        self._verifiers: dict[str, tuple[CarrierSource, Verifier]] = {
            platform.value: (platform, verify)
            for platform, verify in verifiers(
                shippo_tolerance_seconds=settings.shippo_tolerance_seconds
            ).items()
        }

    async def handle(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        name = request.match_info["platform"]
        known = self._verifiers.get(name)
        if known is None:
            result = _Result(Outcome.UNKNOWN_PLATFORM, detail=f"path names {name[:40]!r}")
            label = "unknown"
        else:
            result = await self._receive(request, *known)
            label = name
        elapsed = time.perf_counter() - started
        self._metrics.webhooks.labels(label, result.outcome.value).inc()
        self._metrics.seconds.labels(label).observe(elapsed)
        level = logging.INFO if result.outcome is Outcome.ACCEPTED else logging.WARNING
        log.log(
            level, "webhook %s: %s%s (%d bytes, %.0f ms)",
            label, result.outcome, f", {result.detail}" if result.detail else "",
            result.size, elapsed * 1000,
        )  # fmt: skip
        return web.json_response(
            {"status": _ANSWER[result.outcome]}, status=_STATUS[result.outcome]
        )

    async def _receive(
        self, request: web.Request, platform: CarrierSource, verify: Verifier
    ) -> _Result:
        limit = self._settings.max_body_bytes
        declared = request.content_length
        if declared is not None and declared > limit:
            return _Result(Outcome.TOO_LARGE, declared, "by Content-Length")
        body = await _read_at_most(request, limit + 1)
        if len(body) > limit:
            return _Result(Outcome.TOO_LARGE, len(body), "by the body read")

        secret = self._settings.secrets.get(platform)
        if secret is not None:
            verdict = verify(request.headers, body, secret, self._clock().timestamp())
            if verdict is not Verdict.VALID:
                return _Result(Outcome.BAD_SIGNATURE, len(body), f"signature {verdict.value}")
        elif platform not in self._settings.allow_unsigned:
            return _Result(Outcome.NOT_CONFIGURED, len(body), f"{secret_variable(platform)} unset")

        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _Result(Outcome.MALFORMED, len(body), "not JSON")
        if not isinstance(document, dict):
            return _Result(Outcome.MALFORMED, len(body), "not an object")

        tracking_number = tracking_number_in(platform, document)
        message = raw_payload_for(
            platform, body, received_at=self._clock(), tracking_number=tracking_number,
            content_type=request.headers.get("Content-Type"),
        )  # fmt: skip
        value = encode(message)
        if len(value) > MAX_RAW_MESSAGE_BYTES:
            return _Result(Outcome.TOO_LARGE, len(body), "once wrapped for carrier-raw")
        key = (tracking_number or platform.value).encode("utf-8")
        try:
            await asyncio.wait_for(
                self._publisher.publish(key, value), self._settings.publish_timeout_seconds
            )
        except Exception as error:  # any failure: the platform must send it again
            return _Result(Outcome.PUBLISH_FAILED, len(body), describe(error))
        return _Result(Outcome.ACCEPTED, len(body))


async def _read_at_most(request: web.Request, count: int) -> bytes:
    """The body, or its first ``count`` bytes when it is longer (the rest is never buffered)."""
    chunks: list[bytes] = []
    size = 0
    while size < count:
        chunk = await request.content.read(min(_READ_CHUNK_BYTES, count - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def create_app(
    settings: IngestSettings,
    publisher: Publisher,
    *,
    registry: CollectorRegistry | None = None,
    clock: Callable[[], datetime] = _now,
) -> web.Application:
    """The web application; ``registry``: where metrics go (default: a registry of its own)."""
    registry = CollectorRegistry() if registry is None else registry
    receiver = WebhookReceiver(settings, publisher, IngestMetrics(registry), clock)
    # Bodies are read by the handler within its own limit; aiohttp's is only a backstop.
    app = web.Application(client_max_size=settings.max_body_bytes + 1)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app.router.add_post("/webhooks/{platform}", receiver.handle)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


def describe_platforms(settings: IngestSettings) -> str:
    """How each platform's webhooks are treated, for the start-up log (never a secret)."""
    parts = []
    for platform in verifiers():
        if platform in settings.secrets:
            parts.append(f"{platform.value}: signed")
        elif platform in settings.allow_unsigned:
            parts.append(f"{platform.value}: UNSIGNED ACCEPTED")
        else:
            parts.append(f"{platform.value}: refused (no {secret_variable(platform)})")
    return ", ".join(parts)


async def serve(settings: IngestSettings, stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set (default: until SIGTERM or SIGINT), then finish the requests in
    flight and close the producer."""
    publisher = KafkaPublisher(settings.kafka)
    await publisher.start()
    runner = web.AppRunner(create_app(settings, publisher, registry=REGISTRY), access_log=None)
    try:
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port)
        try:
            await site.start()
        except OSError as error:
            raise RuntimeError(
                f"cannot listen on {settings.host}:{settings.port} ({error.strerror}); check "
                "PARCELWATCH_INGEST_HOST and PARCELWATCH_INGEST_PORT"
            ) from None
        log.info(
            "ingest listening on http://%s:%d/webhooks/{platform}, publishing to %s; %s",
            settings.host, settings.port, settings.kafka.topics.carrier_raw,
            describe_platforms(settings),
        )  # fmt: skip
        if stop is None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signal_number in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signal_number, stop.set)
        await stop.wait()
        log.info("ingest stopping")
    finally:
        await runner.cleanup()
        await publisher.stop()


def run_ingest(settings: IngestSettings) -> None:
    asyncio.run(serve(settings))
