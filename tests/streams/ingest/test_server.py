from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer
from aiokafka.errors import KafkaTimeoutError
from prometheus_client import CollectorRegistry

from parcelwatch.schemas.carrier_raw import decode_carrier_raw
from parcelwatch.schemas.types import CarrierSource, Limits
from parcelwatch.streams.ingest.server import create_app, describe_platforms
from parcelwatch.streams.ingest.settings import IngestSettings
from parcelwatch.streams.ingest.signatures import WEBHOOK_PLATFORMS
from tests.webhook_signing import signed_headers

NOW = datetime(2026, 11, 19, 20, 0, 5, tzinfo=UTC)
SECRET = "webhook-secret-for-tests"
DATA = Path(__file__).resolve().parents[2] / "data" / "carriers"
EASYPOST_BODY = (DATA / "easypost" / "constructed_webhook_delivered.json").read_bytes()
# The shapes of the other platforms' webhook bodies, reduced to what ingest reads of them.
BODIES = {
    CarrierSource.EASYPOST: EASYPOST_BODY,
    CarrierSource.AFTERSHIP: b'{"event": "tracking_update", "msg": {"tracking_number": "AS123"}}',
    CarrierSource.SHIPPO: b'{"event": "track_updated", "data": {"tracking_number": "SH123"}}',
    CarrierSource.SEVENTEEN_TRACK: b'{"event": "TRACKING_UPDATED", "data": {"number": "RR1CN"}}',
}
NUMBERS = {
    CarrierSource.EASYPOST: "1Z999AA10123456784",
    CarrierSource.AFTERSHIP: "AS123",
    CarrierSource.SHIPPO: "SH123",
    CarrierSource.SEVENTEEN_TRACK: "RR1CN",
}


@dataclass
class FakePublisher:
    """Records what was acknowledged; ``gate`` holds the ack back, ``error`` refuses."""

    published: list[tuple[bytes, bytes]] = field(default_factory=list)
    gate: asyncio.Event | None = None
    error: BaseException | None = None
    calls: int = 0

    async def publish(self, key: bytes, value: bytes) -> None:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        self.published.append((key, value))


def settings(**overrides) -> IngestSettings:
    values = {"secrets": dict.fromkeys(WEBHOOK_PLATFORMS, SECRET)} | overrides
    return IngestSettings(**values)


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


async def _client(
    ingest: IngestSettings, publisher: FakePublisher, registry: CollectorRegistry
) -> TestClient:
    app = create_app(ingest, publisher, registry=registry, clock=lambda: NOW)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


@pytest.fixture
async def client(publisher, registry) -> AsyncIterator[TestClient]:
    client = await _client(settings(), publisher, registry)
    yield client
    await client.close()


def signed(platform: CarrierSource, body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        **signed_headers(platform, body, secret, timestamp=int(NOW.timestamp())),
    }


def count(registry: CollectorRegistry, platform: str, outcome: str) -> float:
    value = registry.get_sample_value(
        "parcelwatch_webhooks_total", {"platform": platform, "outcome": outcome}
    )
    return value or 0.0


@pytest.mark.parametrize("platform", WEBHOOK_PLATFORMS, ids=str)
async def test_a_signed_webhook_is_published_then_answered(client, publisher, registry, platform):
    body = BODIES[platform]
    response = await client.post(
        f"/webhooks/{platform.value}", data=body, headers=signed(platform, body)
    )
    assert response.status == 200
    ((key, value),) = publisher.published
    assert key == NUMBERS[platform].encode()
    message = decode_carrier_raw(value, now=NOW, limits=Limits())
    assert message.source is platform
    assert message.payload_bytes() == body
    assert message.received_at == NOW
    assert message.tracking_number == NUMBERS[platform]
    assert message.content_type == "application/json"
    assert count(registry, platform.value, "accepted") == 1


async def test_without_a_tracking_number_the_key_is_the_platform(client, publisher):
    body = b'{"event": "tracking_update", "msg": {"tracking_number": "bad number with spaces"}}'
    response = await client.post(
        "/webhooks/aftership", data=body, headers=signed(CarrierSource.AFTERSHIP, body)
    )
    assert response.status == 200
    ((key, value),) = publisher.published
    assert key == b"aftership"
    assert orjson.loads(value)["tracking_number"] is None


async def test_the_answer_waits_for_the_acknowledgement(publisher, registry):
    publisher.gate = asyncio.Event()
    client = await _client(settings(), publisher, registry)
    try:
        body = EASYPOST_BODY
        request = asyncio.create_task(
            client.post("/webhooks/easypost", data=body, headers=signed("easypost", body))
        )
        for _ in range(200):
            if publisher.calls:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        assert publisher.calls == 1
        assert not request.done()  # handed to Kafka, not acknowledged: no answer yet
        publisher.gate.set()
        response = await request
        assert response.status == 200
        assert len(publisher.published) == 1
    finally:
        await client.close()


@pytest.mark.parametrize(
    "error", [KafkaTimeoutError(), ConnectionError("broker away")], ids=["timeout", "connection"]
)
async def test_a_kafka_failure_is_a_503_so_the_platform_retries(publisher, registry, error):
    publisher.error = error
    client = await _client(settings(), publisher, registry)
    try:
        response = await client.post(
            "/webhooks/easypost", data=EASYPOST_BODY, headers=signed("easypost", EASYPOST_BODY)
        )
        assert response.status == 503
        assert publisher.published == []
        assert count(registry, "easypost", "publish_failed") == 1
    finally:
        await client.close()


async def test_no_acknowledgement_in_time_is_a_503(publisher, registry):
    publisher.gate = asyncio.Event()  # never set
    client = await _client(settings(publish_timeout_seconds=0.2), publisher, registry)
    try:
        response = await client.post(
            "/webhooks/easypost", data=EASYPOST_BODY, headers=signed("easypost", EASYPOST_BODY)
        )
        assert response.status == 503
        assert publisher.published == []
    finally:
        await client.close()


@pytest.mark.parametrize("platform", WEBHOOK_PLATFORMS, ids=str)
async def test_a_bad_signature_is_401_and_nothing_is_published(
    client, publisher, registry, platform
):
    body = BODIES[platform]
    wrong = await client.post(
        f"/webhooks/{platform.value}", data=body, headers=signed(platform, body, "wrong secret")
    )
    missing = await client.post(f"/webhooks/{platform.value}", data=body)
    tampered = await client.post(
        f"/webhooks/{platform.value}", data=body + b" ", headers=signed(platform, body)
    )
    assert [wrong.status, missing.status, tampered.status] == [401, 401, 401]
    assert publisher.calls == 0
    assert count(registry, platform.value, "bad_signature") == 3


async def test_another_platforms_signature_is_refused(client, publisher):
    body = BODIES[CarrierSource.SHIPPO]
    response = await client.post("/webhooks/shippo", data=body, headers=signed("aftership", body))
    assert response.status == 401
    assert publisher.calls == 0


async def test_unknown_platform_is_404(client, publisher, registry):
    response = await client.post("/webhooks/ups", data=b"{}")
    assert response.status == 404
    response = await client.post("/webhooks/..%2Fmetrics", data=b"{}")
    assert response.status == 404
    assert publisher.calls == 0
    assert count(registry, "unknown", "unknown_platform") == 2


async def test_only_post_reaches_the_webhooks(client):
    response = await client.get("/webhooks/easypost")
    assert response.status == 405


async def test_a_declared_oversized_body_is_413_before_the_signature(publisher, registry):
    client = await _client(settings(max_body_bytes=2048), publisher, registry)
    try:
        body = b'{"pad": "' + b"x" * 4096 + b'"}'
        response = await client.post(
            "/webhooks/easypost", data=body, headers=signed("easypost", body)
        )
        assert response.status == 413
        unsigned = await client.post("/webhooks/easypost", data=body)
        assert unsigned.status == 413  # the size is checked first
        assert publisher.calls == 0
        assert count(registry, "easypost", "too_large") == 2
    finally:
        await client.close()


async def test_an_undeclared_oversized_body_is_413(publisher, registry):
    client = await _client(settings(max_body_bytes=2048), publisher, registry)

    async def chunks():  # chunked transfer: no Content-Length to go by
        for _ in range(10):
            yield b"x" * 1024

    try:
        response = await client.post(
            "/webhooks/easypost", data=chunks(), headers=signed("easypost", b"")
        )
        assert response.status == 413
        assert publisher.calls == 0
    finally:
        await client.close()


async def test_a_body_at_the_limit_is_accepted(publisher, registry):
    client = await _client(settings(max_body_bytes=2048), publisher, registry)
    try:
        prefix, suffix = b'{"data": {"number": "RR1CN"}, "pad": "', b'"}'
        body = prefix + b"x" * (2048 - len(prefix) - len(suffix)) + suffix
        assert len(body) == 2048
        response = await client.post(
            "/webhooks/17track", data=body, headers=signed("17track", body)
        )
        assert response.status == 200
        assert len(publisher.published) == 1
    finally:
        await client.close()


@pytest.mark.parametrize(
    "body", [b"not json", b"[1, 2]", b'"text"', b"", b'{"a": "\xff"}'], ids=repr
)
async def test_a_signed_body_that_is_not_a_json_object_is_400(client, publisher, registry, body):
    response = await client.post(
        "/webhooks/aftership", data=body, headers=signed("aftership", body)
    )
    assert response.status == 400
    assert publisher.calls == 0
    assert count(registry, "aftership", "malformed") == 1


async def test_an_unsigned_malformed_body_is_401_not_400(client, publisher):
    response = await client.post("/webhooks/aftership", data=b"not json")
    assert response.status == 401  # the signature is checked before the content


async def test_a_platform_without_a_secret_is_refused_with_503(publisher, registry):
    ingest = settings(secrets={CarrierSource.EASYPOST: SECRET})
    client = await _client(ingest, publisher, registry)
    try:
        body = BODIES[CarrierSource.SHIPPO]
        response = await client.post("/webhooks/shippo", data=body)
        assert response.status == 503
        assert publisher.calls == 0
        assert count(registry, "shippo", "not_configured") == 1
    finally:
        await client.close()


async def test_unsigned_webhooks_only_where_the_operator_allows_them(publisher, registry):
    ingest = settings(
        secrets={CarrierSource.EASYPOST: SECRET},
        allow_unsigned=frozenset({CarrierSource.SHIPPO, CarrierSource.EASYPOST}),
    )
    client = await _client(ingest, publisher, registry)
    try:
        body = BODIES[CarrierSource.SHIPPO]
        assert (await client.post("/webhooks/shippo", data=body)).status == 200
        assert (await client.post("/webhooks/17track", data=body)).status == 503
        # a platform with a secret is always checked, allowed or not
        assert (await client.post("/webhooks/easypost", data=EASYPOST_BODY)).status == 401
        assert len(publisher.published) == 1
    finally:
        await client.close()


async def test_healthz_and_metrics(client):
    await client.post("/webhooks/easypost", data=EASYPOST_BODY, headers=signed("easypost", b"x"))
    health = await client.get("/healthz")
    assert health.status == 200
    assert (await health.json()) == {"status": "ok"}
    metrics = await client.get("/metrics")
    assert metrics.status == 200
    text = await metrics.text()
    assert 'parcelwatch_webhooks_total{outcome="bad_signature",platform="easypost"} 1.0' in text
    assert 'parcelwatch_webhook_seconds_count{platform="easypost"} 1.0' in text


async def test_logs_name_platform_size_and_outcome_never_the_body_or_headers(
    client, publisher, caplog
):
    marker = "CUSTOMER-SECRET-ADDRESS-42"
    body = orjson.dumps(
        {"event": "tracking_update", "msg": {"tracking_number": "AS123", "note": marker}}
    )
    headers = signed(CarrierSource.AFTERSHIP, body)
    signature = headers["aftership-hmac-sha256"]
    with caplog.at_level(logging.DEBUG):
        accepted = await client.post("/webhooks/aftership", data=body, headers=headers)
        refused = await client.post(
            "/webhooks/aftership", data=body, headers=signed("aftership", body, "wrong")
        )
        malformed_body = marker.encode()
        malformed = await client.post(
            "/webhooks/aftership", data=malformed_body, headers=signed("aftership", malformed_body)
        )
        publisher.error = ConnectionError(marker)  # an error's words may quote data too
        failed = await client.post("/webhooks/aftership", data=body, headers=headers)
    assert [accepted.status, refused.status, malformed.status, failed.status] == [
        200, 401, 400, 503,
    ]  # fmt: skip
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "webhook aftership: accepted" in logged
    assert "webhook aftership: bad_signature, signature mismatch" in logged
    assert f"({len(body)} bytes" in logged
    for secret in (marker, SECRET, signature, "AS123"):
        assert secret not in logged


def test_the_start_up_summary_says_how_each_platform_is_treated_without_secrets():
    ingest = settings(
        secrets={CarrierSource.EASYPOST: SECRET},
        allow_unsigned=frozenset({CarrierSource.SHIPPO}),
    )
    summary = describe_platforms(ingest)
    assert summary == (
        "easypost: signed, aftership: refused (no PARCELWATCH_WEBHOOK_SECRET_AFTERSHIP), "
        "shippo: UNSIGNED ACCEPTED, 17track: refused (no PARCELWATCH_WEBHOOK_SECRET_17TRACK)"
    )
    assert SECRET not in summary
