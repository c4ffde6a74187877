"""The carrier-raw pipeline with fakes: a list as the topics, a fixed clock, EasyPost payloads."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from prometheus_client import CollectorRegistry

from parcelwatch.schemas.carrier_raw import raw_payload_for
from parcelwatch.schemas.codec import decode_scan, encode
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import CarrierSource, Limits
from parcelwatch.streams.carriers.model import CarrierError
from parcelwatch.streams.carriers.reading import PayloadScans, scans_from_payload
from parcelwatch.streams.pipeline import carrier_raw
from parcelwatch.streams.pipeline.carrier_raw import CarrierRawProcessor, RawOutcome
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.processing import InputMessage
from parcelwatch.streams.pipeline.unmapped_codes import UnmappedCodeLog

EASYPOST = Path(__file__).resolve().parents[2] / "data" / "carriers" / "easypost"
TOPICS = TopicNames.with_prefix("t.")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class FakeBroker:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.sent: list[tuple[str, bytes, bytes]] = []

    async def publish_many(self, messages) -> None:
        if self.fail:
            raise ConnectionError("broker away")
        self.sent += [(m.topic, m.key, m.value) for m in messages]

    def on(self, topic: str) -> list[tuple[bytes, dict]]:
        return [(key, orjson.loads(value)) for name, key, value in self.sent if name == topic]


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def broker() -> FakeBroker:
    return FakeBroker()


@pytest.fixture
def processor(registry, broker) -> CarrierRawProcessor:
    return CarrierRawProcessor(
        topics=TOPICS, limits=Limits(), publish_many=broker.publish_many, clock=lambda: NOW,
        metrics=WorkerMetrics(registry),
    )  # fmt: skip


def payload(name: str) -> bytes:
    return (EASYPOST / name).read_bytes()


def raw_message(body: bytes, offset: int = 0, source: str = "easypost") -> InputMessage:
    envelope = encode(raw_payload_for(source, body, received_at=NOW))
    return InputMessage(TOPICS.carrier_raw, 0, offset, b"key", envelope)


def count(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def test_a_history_becomes_one_scan_per_event_keyed_by_tracking_number(
    processor, broker, registry
) -> None:
    body = payload("constructed_webhook_delivered.json")
    outcomes = await processor.process_batch([raw_message(body)])

    expected = scans_from_payload(body, CarrierSource.EASYPOST).normalized.scans
    assert outcomes == [RawOutcome.NORMALIZED]
    published = [(topic, key, value) for topic, key, value in broker.sent]
    assert [topic for topic, _, _ in published] == [TOPICS.carrier_scans] * len(expected)
    for (_, key, value), scan in zip(published, expected, strict=True):
        assert key == scan.tracking_number.encode()
        assert decode_scan(value, key=key, now=NOW, limits=Limits()) == scan
    assert [scan.status.value for scan in expected][-1] == "delivered"
    source = {"source": "easypost"}
    assert count(registry, "parcelwatch_carrier_raw_messages_total", **source,
                 outcome="normalized") == 1  # fmt: skip
    assert count(registry, "parcelwatch_carrier_raw_scans_total", **source) == len(expected)
    assert count(registry, "parcelwatch_carrier_errors_total", **source) == 0


async def test_a_resent_history_publishes_the_same_scan_ids(processor, broker) -> None:
    body = payload("constructed_tracker_failure.json")
    await processor.process_batch([raw_message(body, offset=0)])
    first = list(broker.sent)
    await processor.process_batch([raw_message(body, offset=1)])
    assert broker.sent[len(first) :] == first  # same keys, same bytes: duplicates downstream


async def test_a_webhook_about_something_else_is_applied_with_no_scans(
    processor, broker, registry
) -> None:
    outcomes = await processor.process_batch([raw_message(payload("webhook_batch_created.json"))])
    assert outcomes == [RawOutcome.EMPTY]
    assert broker.sent == []
    assert count(registry, "parcelwatch_carrier_raw_messages_total", source="easypost",
                 outcome="empty") == 1  # fmt: skip


async def test_an_invalid_envelope_is_dead_lettered_with_the_codec_reason(
    processor, broker, registry
) -> None:
    bad = InputMessage(TOPICS.carrier_raw, 2, 7, b"k", b'{"source": "easypost",')
    not_a_source = raw_message(b"{}")
    not_a_source = InputMessage(
        TOPICS.carrier_raw, 2, 8, b"k",
        orjson.dumps({**orjson.loads(not_a_source.payload), "source": "pigeon"}),
    )  # fmt: skip
    outcomes = await processor.process_batch([bad, not_a_source])

    assert outcomes == [RawOutcome.DEAD_LETTERED] * 2
    letters = [value for _, value in broker.on(TOPICS.dead_letter)]
    assert [letter["reason"] for letter in letters] == ["malformed_json", "invalid_value"]
    assert letters[0]["payload"] == bad.payload.decode()
    assert (letters[0]["source_partition"], letters[0]["source_offset"]) == (2, 7)
    assert count(registry, "parcelwatch_carrier_raw_messages_total", source="unknown",
                 outcome="dead_lettered") == 2  # fmt: skip
    assert count(registry, "parcelwatch_dead_letters_total", reason="malformed_json") == 1


@pytest.mark.parametrize(
    "body", [b"not json at all", b"<html><body>502</body></html>", b'{"object": "Invoice"}']
)
async def test_an_unreadable_payload_is_dead_lettered_with_the_parser_words(
    processor, broker, registry, body
) -> None:
    message = raw_message(body)
    outcomes = await processor.process_batch([message])

    assert outcomes == [RawOutcome.DEAD_LETTERED]
    ((_, letter),) = broker.on(TOPICS.dead_letter)
    assert letter["reason"] == "invalid_value"
    assert letter["error"].startswith("payload: ")
    assert letter["payload"] == message.payload.decode()  # the original bytes: the envelope
    assert broker.on(TOPICS.carrier_scans) == []
    assert count(registry, "parcelwatch_carrier_raw_messages_total", source="easypost",
                 outcome="dead_lettered") == 1  # fmt: skip


async def test_a_payload_that_is_not_utf8_is_read_from_base64(processor, broker) -> None:
    message = raw_message(b"\xff\xfe garbage")
    assert orjson.loads(message.payload)["payload_encoding"] == "base64"
    await processor.process_batch([message])
    ((_, letter),) = broker.on(TOPICS.dead_letter)
    assert letter["error"].startswith("payload: not valid JSON or XML")
    assert base64.b64decode(orjson.loads(letter["payload"])["payload"]) == b"\xff\xfe garbage"


async def test_a_carrier_error_answer_is_dead_lettered_with_its_code_and_text(
    processor, broker, registry
) -> None:
    outcomes = await processor.process_batch(
        [raw_message(payload("constructed_error_tracker_not_found.json"))]
    )
    assert outcomes == [RawOutcome.CARRIER_ERROR]
    ((_, letter),) = broker.on(TOPICS.dead_letter)
    assert letter["reason"] == "invalid_value"
    assert letter["error"] == (
        "carrier error NOT_FOUND: The requested resource could not be found."
    )
    source = {"source": "easypost"}
    assert count(registry, "parcelwatch_carrier_raw_messages_total", **source,
                 outcome="carrier_error") == 1  # fmt: skip
    assert count(registry, "parcelwatch_carrier_errors_total", **source) == 1


async def test_histories_with_errors_publish_the_scans_and_count_the_errors(
    processor, broker, registry, monkeypatch
) -> None:
    """A multi-parcel answer with one unknown number (EasyPost has none: the parse is faked)."""
    body = payload("constructed_tracker_return.json")
    read = scans_from_payload(body, CarrierSource.EASYPOST)
    errors = (CarrierError("NOT_FOUND", "unknown", "EZ4000000004"),) * 2
    monkeypatch.setattr(
        carrier_raw, "scans_from_payload",
        lambda *_: PayloadScans(read.source, read.normalized, errors, read.histories),
    )  # fmt: skip
    outcomes = await processor.process_batch([raw_message(body)])

    assert outcomes == [RawOutcome.NORMALIZED]
    assert len(broker.on(TOPICS.carrier_scans)) == len(read.normalized.scans) > 0
    assert broker.on(TOPICS.dead_letter) == []
    assert count(registry, "parcelwatch_carrier_errors_total", source="easypost") == 2


async def test_outputs_keep_message_order(processor, broker) -> None:
    messages = [
        raw_message(payload("constructed_tracker_return.json"), 0),
        raw_message(b"nope", 1),
        raw_message(payload("tracker_retrieve.json"), 2),
    ]
    await processor.process_batch(messages)
    topics = [topic for topic, _, _ in broker.sent]
    assert topics == [TOPICS.carrier_scans] * 2 + [TOPICS.dead_letter] + [TOPICS.carrier_scans] * 2


async def test_nothing_is_counted_when_publishing_fails(registry) -> None:
    broker = FakeBroker(fail=True)
    processor = CarrierRawProcessor(
        topics=TOPICS, limits=Limits(), publish_many=broker.publish_many, clock=lambda: NOW,
        metrics=WorkerMetrics(registry),
    )  # fmt: skip
    with pytest.raises(ConnectionError):  # the agent stops; the batch is read again
        await processor.process_batch([raw_message(payload("tracker_retrieve.json"))])
    assert count(registry, "parcelwatch_carrier_raw_scans_total", source="easypost") == 0


def unmapped_tracker(code: str, description: str) -> bytes:
    tracker = orjson.loads(payload("constructed_tracker_return.json"))
    for detail in tracker["tracking_details"]:
        detail["status"], detail["status_detail"] = code, code
        detail["message"] = description
    tracker["status"] = tracker["status_detail"] = code
    return orjson.dumps(tracker)


async def test_unmapped_codes_are_counted_and_logged_once_without_their_words(
    registry, broker, caplog
) -> None:
    clock = [0.0]
    processor = CarrierRawProcessor(
        topics=TOPICS, limits=Limits(), publish_many=broker.publish_many, clock=lambda: NOW,
        metrics=WorkerMetrics(registry),
        unmapped_log=UnmappedCodeLog(interval=60, clock=lambda: clock[0]),
    )  # fmt: skip
    body = unmapped_tracker("zz_new_status", "Left with JANE DOE at 12 Secret Lane")
    with caplog.at_level(logging.INFO):
        await processor.process_batch([raw_message(body, 0), raw_message(body, 1)])
        clock[0] = 61.0
        await processor.process_batch([raw_message(body, 2)])

    scans = [value for _, value in broker.on(TOPICS.carrier_scans)]
    assert {scan["status"] for scan in scans} == {"unknown"}
    assert {scan["carrier_status_code"] for scan in scans} == {"zz_new_status/zz_new_status"}
    assert count(registry, "parcelwatch_carrier_codes_unmapped_total", source="easypost") == len(
        scans
    )
    unmapped_lines = [r.getMessage() for r in caplog.records if "unmapped" in r.getMessage()]
    assert len(unmapped_lines) == 2  # once, and again after the interval
    assert "zz_new_status" in unmapped_lines[0] and "easypost" in unmapped_lines[0]
    assert "JANE" not in caplog.text and "Secret" not in caplog.text
    assert scans[0]["tracking_number"] not in caplog.text
