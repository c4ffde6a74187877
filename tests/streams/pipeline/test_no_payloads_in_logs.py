"""Logs never carry raw topic payloads, keys, tracking numbers, order ids or customer data.

Two checks: the processor, fed inputs full of a marker string, logs about them without the
marker (behaviour); and every logging call in streams/, models/ and schemas/ passes only
arguments that are not message contents (a source scan, so a new call site is checked too).
"""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import orjson
import pytest
from prometheus_client import CollectorRegistry

from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import Limits
from parcelwatch.streams.pipeline.metrics import WorkerMetrics
from parcelwatch.streams.pipeline.processing import InputMessage, ShipmentProcessor
from tests.factories import at, order_json, scan_json

ROOT = Path(__file__).resolve().parents[3]
TOPICS = TopicNames.with_prefix("t.")
MARKER = "ZZSECRET42"

# -- behaviour ------------------------------------------------------------------------------


def _inputs() -> list[InputMessage]:
    tracking = f"{MARKER}-TRACK"
    secret_scan = scan_json(tracking_number=tracking, description=f"{MARKER} handed to neighbour")
    secret_order = order_json(tracking_number=tracking, order_id=f"{MARKER}-ORDER")
    secret_order["customer"] = {"id": f"{MARKER}-customer", "locale": "en"}
    cases = [
        (TOPICS.carrier_scans, tracking, f'{{"{MARKER}": '.encode()),  # malformed JSON
        (TOPICS.carrier_scans, tracking, orjson.dumps({**secret_scan, "status": MARKER})),
        (TOPICS.carrier_scans, f"{MARKER}-other", orjson.dumps(secret_scan)),  # key mismatch
        (TOPICS.orders, tracking, orjson.dumps({**secret_order, "promised_by": MARKER})),
        (TOPICS.orders, tracking, orjson.dumps([MARKER])),  # not an object
        (TOPICS.orders, tracking, MARKER.encode() * 5000),  # too large
    ]
    return [
        InputMessage(topic, 0, offset, key.encode(), value)
        for offset, (topic, key, value) in enumerate(cases)
    ]


async def test_rejected_inputs_are_logged_without_their_content(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sent: list[bytes] = []

    async def publish(topic: str, key: bytes, value: bytes) -> None:
        sent.append(value)

    processor = ShipmentProcessor(
        topics=TOPICS, limits=Limits(), store={}, publish=publish, clock=lambda: at(500),
        metrics=WorkerMetrics(CollectorRegistry()),
    )  # fmt: skip
    with caplog.at_level(logging.DEBUG):
        for message in _inputs():
            await processor.process(message)

    assert len(sent) == len(_inputs())  # every one was dead-lettered (the marker goes there)
    assert len(caplog.records) >= len(_inputs())  # ... and logged
    assert MARKER not in caplog.text


# -- source scan ----------------------------------------------------------------------------

LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
LOGGERS = {"log", "logger", "logging", "_log"}
# Whole objects that hold message contents, and fields that are contents.
CONTENT_NAMES = {
    "payload", "value", "raw", "key", "body", "message", "messages", "record", "event", "events",
    "state", "scan", "order", "alert", "notification", "letter", "announcement", "document",
    "tracking_number", "order_id", "customer",
}  # fmt: skip
CONTENT_ATTRIBUTES = {
    "payload",
    "value",
    "key",
    "headers",
    "tracking_number",
    "order_id",
    "customer",
}
# Calls that reduce a message to where it came from (topic, partition, offset).
SANITIZERS = {"_origin"}


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "?"


def content_in(node: ast.AST) -> list[str]:
    """The message-content expressions inside one logging argument."""
    if isinstance(node, ast.Name):
        return [node.id] if node.id in CONTENT_NAMES else []
    if isinstance(node, ast.Attribute):
        # `x.reason.value` is an enum's code, not content; other attributes are judged by name.
        if node.attr in CONTENT_ATTRIBUTES and not _dotted(node).endswith(".reason.value"):
            return [_dotted(node)]
        return []  # e.g. record.offset, update.version: the object itself is not logged
    if isinstance(node, ast.Call) and _dotted(node.func).split(".")[-1] in SANITIZERS:
        return []
    return [found for child in ast.iter_child_nodes(node) for found in content_in(child)]


def logging_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in LOG_METHODS
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in LOGGERS
    ]


def leaks(source: str) -> list[str]:
    found = []
    for call in logging_calls(ast.parse(source)):
        arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
        for argument in arguments:
            if isinstance(argument, ast.Constant):
                continue  # the message template
            found += [f"line {call.lineno}: {name}" for name in content_in(argument)]
    return found


@pytest.mark.parametrize(
    ("source", "leaked"),
    [
        ('log.info("got %s", message.value)', ["message.value"]),
        ('log.warning("bad %r", payload)', ["payload"]),
        ('log.error(f"bad {record.key}")', ["record.key"]),
        ('log.info("%s", str(event))', ["event"]),
        ('logger.debug("%s", state.order.customer)', ["state.order.customer"]),
        ('log.log(logging.INFO, "%s", update)', []),
        ('log.warning("dead-lettered %s[%d]@%d", *_origin(message))', []),
        ('log.warning("%s: %s", topic, error.reason.value)', []),
        ('log.info("offset %d version %s", record.offset, update.version)', []),
    ],
)
def test_the_scan_flags_content_and_passes_metadata(source: str, leaked: list[str]) -> None:
    assert [entry.split(": ", 1)[1] for entry in leaks(source)] == leaked


def _sources() -> list[Path]:
    return sorted(
        path
        for folder in ("streams", "models", "schemas")
        for path in (ROOT / folder).rglob("*.py")
    )


def test_no_logging_call_passes_message_content() -> None:
    calls = 0
    problems = []
    for path in _sources():
        source = path.read_text()
        calls += len(logging_calls(ast.parse(source)))
        problems += [f"{path.relative_to(ROOT)} {problem}" for problem in leaks(source)]
    assert calls >= 10  # the scan sees the project's logging calls
    assert problems == []
