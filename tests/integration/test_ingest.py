"""``parcelwatch ingest`` as a real process on the real broker: a signed webhook lands on
``carrier-raw`` exactly as posted; a badly signed one is refused and nothing is written."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.integration.ingest_harness import (
    create_carrier_raw_topic,
    end_offsets,
    read_all,
    start_ingest,
)
from tests.integration.test_web_bind import listening_addresses
from tests.webhook_signing import easypost_headers

SECRET = "integration-webhook-secret"
EASYPOST = Path(__file__).resolve().parents[1] / "data" / "carriers" / "easypost"
DELIVERED = (EASYPOST / "constructed_webhook_delivered.json").read_bytes()


def test_a_signed_easypost_webhook_lands_on_carrier_raw_exactly_as_posted(deployment, ingests):
    topic = create_carrier_raw_topic(deployment)
    ingest = start_ingest(deployment, {"easypost": SECRET})
    ingests.append(ingest)

    assert ingest.post_signed("easypost", DELIVERED, SECRET) == 200

    ((key, message),) = asyncio.run(read_all(topic, expected=1))
    assert key == b"1Z999AA10123456784"
    assert message["source"] == "easypost"
    assert message["tracking_number"] == "1Z999AA10123456784"
    assert message["payload_encoding"] == "utf-8"
    assert message["payload"].encode("utf-8") == DELIVERED
    assert message["content_type"] == "application/json"
    assert sum(asyncio.run(end_offsets(topic)).values()) == 1  # exactly one message

    assert 'parcelwatch_webhooks_total{outcome="accepted",platform="easypost"} 1.0' in (
        ingest.metrics_text()
    )
    assert ingest.stop() == 0  # SIGTERM: a clean stop
    log = ingest.log_text()
    assert "webhook easypost: accepted" in log
    assert "JSMITH" not in log and SECRET not in log  # neither the payload nor the secret


def test_a_bad_signature_is_refused_and_nothing_is_written(deployment, ingests):
    topic = create_carrier_raw_topic(deployment)
    ingest = start_ingest(deployment, {"easypost": SECRET})
    ingests.append(ingest)
    assert listening_addresses(ingest.port) == {"127.0.0.1"}  # loopback unless told otherwise

    assert ingest.post_signed("easypost", DELIVERED, "not the secret") == 401
    assert ingest.post("easypost", DELIVERED, {}) == 401  # no signature at all
    tampered = DELIVERED.replace(b"delivered", b"exception")  # signed one body, sent another
    assert ingest.post("easypost", tampered, easypost_headers(DELIVERED, SECRET)) == 401
    # a platform whose secret is not configured is refused too
    assert ingest.post_signed("aftership", DELIVERED, SECRET) == 503

    assert asyncio.run(end_offsets(topic)) == dict.fromkeys(range(deployment.partitions), 0)
    assert "signature mismatch" in ingest.log_text()
    assert "JSMITH" not in ingest.log_text()
