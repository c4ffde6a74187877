"""The JSON Schema files and the Python types are one contract: this keeps them in step."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from parcelwatch.schemas import model_update, patterns
from parcelwatch.schemas.carrier_raw import (
    PayloadEncoding,
    RawCarrierPayload,
    decode_carrier_raw,
)
from parcelwatch.schemas.codec import (
    InvalidEvent,
    decode_check,
    decode_model_outcome,
    decode_order,
    decode_pain_point_input,
    decode_scan,
    encode,
    to_jsonable,
)
from parcelwatch.schemas.escalations import (
    CaseContext,
    CaseCustomer,
    EscalationReason,
    Priority,
    RefundStatus,
    Resolution,
    ReturnSummary,
    SupportEscalation,
)
from parcelwatch.schemas.feedback import (
    Feedback,
    FeedbackChannel,
    FeedbackFlag,
    FeedbackTally,
    FeedbackTopic,
    FlaggedFeedback,
    FlagReason,
    OrderShipmentLink,
    Sentiment,
    SentimentLabel,
    ShipmentContext,
    ShipmentFeedback,
    TopicConfidence,
)
from parcelwatch.schemas.lookup import (
    AnswerOrder,
    Prediction,
    RaisedAlert,
    ReturnAnswer,
    ReturnStatus,
    SentNotification,
    ShipmentAnswer,
    Situation,
    TimelineEntry,
)
from parcelwatch.schemas.model_monitoring import (
    RISK_BANDS,
    CalibrationBand,
    ModelMonitoringSummary,
    ModelOutcome,
    RiskMoment,
)
from parcelwatch.schemas.pain_points import PainPointClose, PainPointSpike, PainPointSummary
from parcelwatch.schemas.return_parcels import ReturnParcelLink, ReturnParcelScan
from parcelwatch.schemas.returns import (
    RefundMethod,
    ReturnEvent,
    ReturnEventType,
    ReturnReason,
    decode_return_event,
)
from parcelwatch.schemas.timestamps import RFC3339_PATTERN
from parcelwatch.schemas.types import (
    SCHEMA_VERSION,
    Alert,
    AlertKind,
    CarrierSource,
    DeadLetter,
    DeadLetterReason,
    DeliveryLocation,
    DeliveryLocationKind,
    EstimateSource,
    ExceptionReason,
    Limits,
    Notification,
    NotificationChannel,
    NotificationKind,
    Order,
    PickupPoint,
    Scan,
    ScanTimeZone,
    Severity,
    ShipmentCheck,
    ShipmentStatus,
    TimeZoneSource,
)
from tests.factories import TRACKING, order_json, scan_json

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas" / "json"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def load(name: str) -> dict[str, Any]:
    schema = json.loads((SCHEMA_DIR / f"{name}.v{SCHEMA_VERSION}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


CONTRACTS = [
    ("carrier-raw", RawCarrierPayload),
    ("scan", Scan),
    ("order", Order),
    ("shipment-check", ShipmentCheck),
    ("alert", Alert),
    ("notification", Notification),
    ("dead-letter", DeadLetter),
    ("model-update", model_update.ModelUpdate),
    ("customer-feedback", Feedback),
    ("feedback-flagged", FlaggedFeedback),
    ("order-shipment", OrderShipmentLink),
    ("shipment-feedback", ShipmentFeedback),
    ("feedback-tally", FeedbackTally),
    ("pain-point-close", PainPointClose),
    ("pain-point", PainPointSummary),
    ("pain-point-spike", PainPointSpike),
    ("model-outcome", ModelOutcome),
    ("model-monitoring", ModelMonitoringSummary),
    ("return-event", ReturnEvent),
    ("return-parcel", ReturnParcelLink),
    ("return-scan", ReturnParcelScan),
    ("shipment-answer", ShipmentAnswer),
    ("support-escalation", SupportEscalation),
]


def test_every_schema_file_is_a_known_contract():
    files = {path.name for path in SCHEMA_DIR.glob("*.schema.json")}
    assert files == {f"{name}.v{SCHEMA_VERSION}.schema.json" for name, _ in CONTRACTS}


@pytest.mark.parametrize(("name", "cls"), CONTRACTS)
def test_fields_match(name, cls):
    schema = load(name)
    assert set(schema["properties"]) == {field.name for field in dataclasses.fields(cls)}


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("carrier-raw", RawCarrierPayload),
        ("scan", Scan),
        ("order", Order),
        ("shipment-check", ShipmentCheck),
        ("customer-feedback", Feedback),
        ("feedback-tally", FeedbackTally),
        ("pain-point-close", PainPointClose),
        ("model-outcome", ModelOutcome),
        ("return-event", ReturnEvent),
    ],
)
def test_required_input_fields_are_the_dataclass_fields_without_defaults(name, cls):
    no_default = {
        field.name
        for field in dataclasses.fields(cls)
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
    }
    assert set(load(name)["required"]) == no_default | {"schema_version"}


@pytest.mark.parametrize(
    "name",
    [
        "alert",
        "notification",
        "dead-letter",
        "feedback-flagged",
        "pain-point",
        "pain-point-spike",
        "model-monitoring",
        "shipment-answer",
        "support-escalation",
    ],
)
def test_outputs_always_carry_every_field(name):
    schema = load(name)
    assert set(schema["required"]) == set(schema["properties"])
    assert schema["additionalProperties"] is False


def _enum(schema: dict[str, Any]) -> list[str]:
    values = (
        schema["enum"]
        if "enum" in schema
        else next(option["enum"] for option in schema["anyOf"] if "enum" in option)
    )
    return [value for value in values if value is not None]


def _nullable_enums_without_null(node: Any, path: str = "") -> list[str]:
    found = []
    if isinstance(node, dict):
        types = node.get("type")
        if isinstance(types, list) and "null" in types and None not in node.get("enum", [None]):
            found.append(path)
        for key, value in node.items():
            found += _nullable_enums_without_null(value, f"{path}/{key}")
    return found


@pytest.mark.parametrize(("name", "cls"), CONTRACTS)
def test_a_nullable_enumeration_lists_null(name, cls):
    # "enum" restricts the value even when "type" allows null: null must be listed too.
    assert _nullable_enums_without_null(load(name)) == []


@pytest.mark.parametrize(
    ("name", "field", "enum"),
    [
        ("scan", "status", ShipmentStatus),
        ("scan", "reason", ExceptionReason),
        ("scan", "source", CarrierSource),
        ("carrier-raw", "source", CarrierSource),
        ("carrier-raw", "payload_encoding", PayloadEncoding),
        ("alert", "kind", AlertKind),
        ("alert", "severity", Severity),
        ("alert", "status", ShipmentStatus),
        ("alert", "reason", ExceptionReason),
        ("dead-letter", "reason", DeadLetterReason),
        ("notification", "kind", NotificationKind),
        ("notification", "status", ShipmentStatus),
        ("notification", "reason", ExceptionReason),
        ("customer-feedback", "channel", FeedbackChannel),
        ("feedback-flagged", "channel", FeedbackChannel),
        ("pain-point-spike", "topic", FeedbackTopic),
        ("feedback-tally", "reason", FlagReason),
        ("model-outcome", "moment", RiskMoment),
        ("model-monitoring", "moment", RiskMoment),
        ("return-event", "type", ReturnEventType),
        ("return-event", "reason", ReturnReason),
        ("return-event", "method", RefundMethod),
        ("support-escalation", "reason", EscalationReason),
        ("support-escalation", "suggested_resolution", Resolution),
        ("support-escalation", "priority", Priority),
    ],
)
def test_enumerations_match(name, field, enum):
    assert _enum(load(name)["properties"][field]) == [member.value for member in enum]


def test_estimate_sources_match():
    source = load("notification")["properties"]["expected_delivery_source"]
    assert _enum(source) == [member.value for member in EstimateSource]


@pytest.mark.parametrize("name", ["order", "notification"])
def test_channel_enumeration_matches(name):
    channels = load(name)["properties"]["customer"]["properties"]["channels"]["items"]
    assert channels["enum"] == [member.value for member in NotificationChannel]


def test_customer_and_location_shapes_match_the_types():
    from parcelwatch.schemas.types import Customer, Location

    notification = load("notification")["properties"]
    for node, cls in (
        (notification["customer"], Customer),
        (notification["pickup_location"], Location),
    ):
        assert set(node["properties"]) == {field.name for field in dataclasses.fields(cls)}
        assert set(node["required"]) == set(node["properties"])


def _patterns(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            found.add(node["pattern"])
        for value in node.values():
            found |= _patterns(value)
    elif isinstance(node, list):
        for value in node:
            found |= _patterns(value)
    return found


def test_schema_patterns_are_the_python_patterns():
    python_patterns = {
        value for name, value in vars(patterns).items() if name.isupper() and isinstance(value, str)
    } | {
        RFC3339_PATTERN,
        model_update.VERSION_PATTERN,
        model_update.SHA256_PATTERN,
        model_update.SIGNATURE_PATTERN,
        model_update.MODEL_NAME_PATTERN,
    }
    used = set().union(*(_patterns(load(name)) for name, _ in CONTRACTS))
    assert used <= python_patterns
    assert {patterns.TRACKING_NUMBER, patterns.CARRIER, RFC3339_PATTERN} <= used


# Verdict agreement: for valid events and a spread of mutations, JSON Schema and the Python
# decoder must agree on valid / invalid. (Checks that need a clock or the message key, such as
# future timestamps and key mismatches, are the decoder's own and are not sampled here.)
SCAN_MUTATIONS: list[dict[str, Any]] = [
    {},
    {"reason": "weather_delay", "status": "exception"},
    {"estimated_delivery": "2026-11-22T18:00:00.123456789+05:30"},
    {"location": None},
    {"extra_field": [1, 2]},
    {"status": "teleported"},
    {"reason": "bad"},
    {"carrier": "UPS"},
    {"carrier": ""},
    {"event_id": 5},
    {"event_id": ""},
    {"occurred_at": "2026-11-20T10:00:00"},
    {"occurred_at": "2026-11-20 10:00:00Z"},
    {"occurred_at": "20261120T100000Z"},
    {"tracking_number": "with space"},
    {"location": {"country": "usa"}},
    {"location": "here"},
    {"schema_version": 2},
    {"description": "d" * 1000},
    {"description": "d" * 1001},
    {"carrier_status_code": "X" * 65},
    # Fields carried over from carrier payloads (carrier-raw)
    {"source": "17track", "time_zone": {"resolved_by": "location", "zone": "America/Chicago"}},
    {"source": "dhl"},
    {"time_zone": {"resolved_by": "offset", "zone": None}},
    {"time_zone": {"zone": "Europe/Berlin"}},
    {"time_zone": {"resolved_by": "guess"}},
    {"time_zone": {"resolved_by": "location", "zone": "not a zone"}},
    {"signer": "J SMITH", "return_to_sender": False},
    {"return_to_sender": "yes"},
    {"delivery_location": {"kind": "parcel_locker", "description": "Locker 12"}},
    {"delivery_location": {"kind": "roof"}},
    {"delivery_location": {"description": "porch"}},
    {"pickup_point": {"id": "P-1", "name": "Kiosk", "location": {"country": "DE"}}},
    {"pickup_point": {"location": {"country": "Germany"}}},
]
RAW_MUTATIONS: list[dict[str, Any]] = [
    {},
    {"tracking_number": None, "content_type": "application/xml"},
    {"payload_encoding": "base64", "payload": "PD94bWw/Pg=="},
    {"payload_encoding": "base64", "payload": "not base64!"},
    {"payload_encoding": "latin-1"},
    {"source": "dhl"},
    {"source": None},
    {"payload": ""},
    {"payload": 5},
    {"received_at": "2026-11-20T10:00:00"},
    {"tracking_number": "with space"},
    {"schema_version": 2},
    {"extra": True},
]
ORDER_MUTATIONS: list[dict[str, Any]] = [
    {},
    {"customer": None, "items": None, "origin": None},
    {"customer": {"id": "c-1"}},
    {"customer": {"id": "c-1", "channels": ["sms"], "locale": "pt-BR", "timezone": "UTC"}},
    {"customer": {"id": "c-1", "channels": ["fax"]}},
    {"customer": {"id": "c-1", "locale": "english please"}},
    {"customer": {"id": "c-1", "timezone": "America/Argentina/Buenos_Aires"}},
    {"customer": {}},
    {"items": [{"sku": "a", "quantity": 1}]},
    {"items": [{"sku": "a", "quantity": 0}]},
    {"items": [{"sku": "a"}]},
    {"items": {"sku": "a"}},
    {"service_level": "2day"},
    {"service_level": "Two Day"},
    {"destination": {"country": "DE", "postal_code": "10115"}},
    {"destination": {"country": "de"}},
    {"promised_by": "soon"},
    {"order_id": None},
]


def _python_verdict(decoder, payload: dict[str, Any], key: bytes = TRACKING.encode()) -> bool:
    try:
        decoder(orjson.dumps(payload), key=key, now=NOW, limits=Limits())
    except InvalidEvent:
        return False
    return True


def _schema_verdict(schema: dict[str, Any], payload: dict[str, Any]) -> bool:
    return jsonschema.Draft202012Validator(schema).is_valid(payload)


@pytest.mark.parametrize("mutation", SCAN_MUTATIONS, ids=str)
def test_scan_verdicts_agree(mutation):
    payload = scan_json(**mutation)
    assert _python_verdict(decode_scan, payload) == _schema_verdict(load("scan"), payload)


@pytest.mark.parametrize("mutation", RAW_MUTATIONS, ids=str)
def test_carrier_raw_verdicts_agree(mutation):
    payload = {
        "schema_version": 1,
        "source": "ups",
        "received_at": "2026-11-21T11:00:00Z",
        "tracking_number": TRACKING,
        "payload": '{"trackResponse": {}}',
    }
    payload.update(mutation)

    def decode(data: bytes, *, key: bytes, now: datetime, limits: Limits) -> object:
        return decode_carrier_raw(data, now=now, limits=limits)

    assert _python_verdict(decode, payload) == _schema_verdict(load("carrier-raw"), payload)


def test_scan_nested_shapes_match_the_types():
    properties = load("scan")["properties"]
    for node, cls in (
        (properties["time_zone"], ScanTimeZone),
        (properties["delivery_location"], DeliveryLocation),
        (properties["pickup_point"], PickupPoint),
    ):
        assert set(node["properties"]) == {field.name for field in dataclasses.fields(cls)}
    assert _enum(properties["time_zone"]["properties"]["resolved_by"]) == list(TimeZoneSource)
    kinds = properties["delivery_location"]["properties"]["kind"]
    assert _enum(kinds) == list(DeliveryLocationKind)


CHECK_MUTATIONS: list[dict[str, Any]] = [
    {},
    {"extra": 1},
    {"requested_at": "yesterday"},
    {"tracking_number": ""},
    {"tracking_number": None},
    {"schema_version": 2},
]


@pytest.mark.parametrize("mutation", CHECK_MUTATIONS, ids=str)
def test_check_verdicts_agree(mutation):
    payload = {
        "schema_version": 1,
        "tracking_number": TRACKING,
        "requested_at": "2026-11-21T11:00:00Z",
    }
    payload.update(mutation)
    assert _python_verdict(decode_check, payload) == _schema_verdict(
        load("shipment-check"), payload
    )


@pytest.mark.parametrize("mutation", ORDER_MUTATIONS, ids=str)
def test_order_verdicts_agree(mutation):
    payload = order_json(**mutation)
    assert _python_verdict(decode_order, payload) == _schema_verdict(load("order"), payload)


def test_encoded_outputs_validate_against_their_schemas():
    from parcelwatch.streams.core.tracking import apply_event
    from tests.factories import order, scan

    state = apply_event(None, order(24), NOW).state
    alert = apply_event(state, scan("exception", 30, reason="lost"), NOW).alerts[0]
    jsonschema.validate(orjson.loads(encode(alert)), load("alert"))

    from parcelwatch.schemas.codec import make_dead_letter

    letter = make_dead_letter(
        error=InvalidEvent(DeadLetterReason.MALFORMED_JSON, "x"), source_topic="t",
        source_partition=0, source_offset=0, key=None, payload=b"\xff", received_at=NOW,
        limits=Limits(),
    )  # fmt: skip
    jsonschema.validate(to_jsonable(letter), load("dead-letter"))


@pytest.mark.parametrize(
    ("key", "payload"),
    [(None, b""), (b"1ZKEY", b"{}"), (b"\xff" * 5000, b"\x00\xff" * 400_000), (b"", b"x" * 70_000)],
    ids=["no key", "small", "huge binary", "empty key, oversize text"],
)
def test_bounded_dead_letters_validate_against_their_schema(key, payload):
    from parcelwatch.schemas.codec import make_dead_letter

    letter = make_dead_letter(
        error=InvalidEvent(DeadLetterReason.PAYLOAD_TOO_LARGE, "x"), source_topic="t",
        source_partition=0, source_offset=0, key=key, payload=payload, received_at=NOW,
        limits=Limits(),
    )  # fmt: skip
    encoded = to_jsonable(letter)
    jsonschema.validate(encoded, load("dead-letter"))
    assert set(encoded) == set(load("dead-letter")["required"])  # every field, null or not


def test_encoded_notifications_validate_against_their_schema():
    from parcelwatch.schemas.types import Customer, Location
    from parcelwatch.streams.core.follow_up import FollowUpPolicy, follow_up
    from parcelwatch.streams.core.tracking import apply_event
    from parcelwatch.streams.message_templates import load_templates
    from tests.factories import order, scan

    customer = Customer("c-1", "de-DE", "Europe/Berlin", (NotificationChannel.EMAIL,))
    policy = FollowUpPolicy()
    templates = load_templates()
    state = apply_event(None, order(24, customer=customer), NOW).state
    kinds = set()
    events = [
        scan("picked_up", 1),
        scan("attempt_failed", 20, reason="recipient_unavailable"),
        scan("available_for_pickup", 25, location=Location(city="Berlin", postal_code="10115")),
    ]
    for event in events:
        state = apply_event(state, event, NOW).state
        result = follow_up(state, NOW, policy, templates, check_silences=True)
        state = result.state
        for notification in result.notifications:
            kinds.add(notification.kind)
            jsonschema.validate(orjson.loads(encode(notification)), load("notification"))
    assert kinds == {
        NotificationKind.SHIPPED,
        NotificationKind.ATTEMPT_FAILED,
        NotificationKind.AVAILABLE_FOR_PICKUP,
        NotificationKind.DELAYED,  # the promise (24 h) passed before NOW
    }


def test_model_update_requires_what_has_no_default_except_schema_version():
    # schema_version is optional here: announcements written before the contract had one exist.
    no_default = {
        field.name
        for field in dataclasses.fields(model_update.ModelUpdate)
        if field.default is dataclasses.MISSING
    }
    assert set(load("model-update")["required"]) == no_default


# A None value leaves the field out.
MODEL_UPDATE_MUTATIONS: list[dict[str, Any]] = [
    {},
    {"schema_version": None},  # the pre-contract form
    {"signature": "hmac-sha256:" + "ab" * 32},
    {"extra": True},
    {"promoted_at": "2026-11-28T04:45:00.123456789+01:00"},
    {"schema_version": 2},
    {"version": "latest"},
    {"version": None},
    {"artifact_sha256": "AB" * 32},
    {"artifact_sha256": "ab" * 31},
    {"promoted_at": "2026-11-28"},
    {"promoted_at": 1764300000},
    {"signature": "ab" * 32},
    {"signature": None},
    {"signature": "hmac-sha256:" + "AB" * 32},
    {"model": "feedback"},
    {"model": "delay-risk"},
    {"model": "Feedback"},
    {"model": ""},
    {"model": "-feedback"},
    {"model": 3},
    {"model": "a" * 65},
]


@pytest.mark.parametrize("mutation", MODEL_UPDATE_MUTATIONS, ids=str)
def test_model_update_verdicts_agree(mutation):
    payload: dict[str, Any] = {
        "schema_version": 1,
        "version": "v20261126T042304Z-4e6e0951",
        "artifact_sha256": "4e6e0951" * 8,
        "promoted_at": "2026-11-28T03:45:00.000000Z",
    }
    payload.update(mutation)
    payload = {key: value for key, value in payload.items() if mutation.get(key, 0) is not None}
    try:
        model_update.decode_model_update(orjson.dumps(payload))
        python_verdict = True
    except model_update.InvalidModelUpdate:
        python_verdict = False
    assert python_verdict == _schema_verdict(load("model-update"), payload)


def test_encoded_model_update_validates_against_its_schema():
    update = model_update.ModelUpdate(
        "v20261126T042304Z-4e6e0951", "4e6e0951" * 8, NOW, "hmac-sha256:" + "0" * 64
    )
    encoded = model_update.encode_model_update(update)
    jsonschema.validate(orjson.loads(encoded), load("model-update"))
    assert model_update.decode_model_update(encoded) == update


def test_flagged_feedback_nested_shapes_and_enumerations_match_the_types():
    properties = load("feedback-flagged")["properties"]
    shipment = properties["shipment"]
    assert set(shipment["properties"]) == {f.name for f in dataclasses.fields(ShipmentContext)}
    assert set(shipment["required"]) == set(shipment["properties"])
    for name in ("sentiment", "delivery_sentiment", "product_sentiment"):
        node = properties[name]
        assert set(node["properties"]) == {f.name for f in dataclasses.fields(Sentiment)}
        assert node["properties"]["label"]["enum"] == [label.value for label in SentimentLabel]
    topic = properties["topics"]["items"]
    assert set(topic["properties"]) == {f.name for f in dataclasses.fields(TopicConfidence)}
    assert topic["properties"]["topic"]["enum"] == [topic.value for topic in FeedbackTopic]
    flag = properties["flag"]
    assert set(flag["properties"]) == {f.name for f in dataclasses.fields(FeedbackFlag)}
    assert flag["properties"]["reason"]["enum"] == [reason.value for reason in FlagReason]
    assert _enum(shipment["properties"]["status"]) == [status.value for status in ShipmentStatus]
    assert shipment["properties"]["alert_kinds"]["items"]["enum"] == [k.value for k in AlertKind]
    assert shipment["properties"]["notifications"]["items"]["enum"] == [
        kind.value for kind in NotificationKind
    ]
    assert shipment["properties"]["exceptions"]["items"]["enum"] == [
        reason.value for reason in ExceptionReason
    ]


FEEDBACK_MUTATIONS: list[dict[str, Any]] = [
    {},
    {"text": None},
    {"rating": None},
    {"text": None, "rating": None},
    {"rating": 0},
    {"rating": 6},
    {"rating": 4.5},
    {"rating": True},
    {"text": ""},
    {"text": "x" * 10_001},
    {"text": "ü" * 10_000},
    {"channel": "carrier_pigeon"},
    {"channel": "call_transcript"},
    {"language": "pt-BR"},
    {"language": "not a tag"},
    {"tracking_number": "has space"},
    {"tracking_number": None},
    {"customer_id": ""},
    {"received_at": "yesterday"},
    {"event_id": None},
    {"order_id": None},
    {"schema_version": 2},
    {"unknown_field": {"kept": True}},
]


@pytest.mark.parametrize("mutation", FEEDBACK_MUTATIONS, ids=str)
def test_feedback_verdicts_agree(mutation):
    from parcelwatch.schemas.feedback_codec import decode_feedback

    payload = {
        "schema_version": 1,
        "event_id": "fb-1",
        "order_id": "A-1001",
        "channel": "review",
        "received_at": "2026-11-21T10:00:00+01:00",
        "tracking_number": TRACKING,
        "text": "Chegou antes do prazo, recomendo!",
        "rating": 5,
    }
    payload.update(mutation)
    assert _python_verdict(decode_feedback, payload, key=b"A-1001") == _schema_verdict(
        load("customer-feedback"), payload
    )


# -- pain points -------------------------------------------------------------------------------

TALLY_MUTATIONS: list[dict[str, Any]] = [
    {},
    {"topics": []},
    {"topics": ["damaged", "price"]},
    {"extra": 1},
    {"topics": None},
    {"topics": ["teleported"]},
    {"topics": "damaged"},
    {"reason": "furious"},
    {"reason": None},
    {"carrier": "ACME"},
    {"region": ""},
    {"region": "r" * 101},
    {"feedback_id": 7},
    {"received_at": "yesterday"},
    {"schema_version": 2},
]


def _tally_payload(**mutation: Any) -> dict[str, Any]:
    payload = {
        "schema_version": 1,
        "feedback_id": "fb-1",
        "carrier": "acme",
        "region": "SP",
        "reason": "logistics_pain",
        "topics": ["damaged"],
        "received_at": "2026-11-21T11:00:00Z",
    }
    payload.update(mutation)
    return {key: value for key, value in payload.items() if value is not None}


def _pain_point_verdict(payload: dict[str, Any]) -> bool:
    try:
        decode_pain_point_input(orjson.dumps(payload), key=b"acme", now=NOW, limits=Limits())
    except InvalidEvent:
        return False
    return True


@pytest.mark.parametrize("mutation", TALLY_MUTATIONS, ids=str)
def test_feedback_tally_verdicts_agree(mutation):
    payload = _tally_payload(**mutation)
    assert _pain_point_verdict(payload) == _schema_verdict(load("feedback-tally"), payload)


@pytest.mark.parametrize(
    "mutation",
    [{}, {"extra": 1}, {"requested_at": "now"}, {"carrier": "A B"}, {"schema_version": 2}],
    ids=str,
)
def test_pain_point_close_verdicts_agree(mutation):
    payload = {"schema_version": 1, "carrier": "acme", "requested_at": "2026-11-21T11:00:00Z"}
    payload.update(mutation)
    assert _pain_point_verdict(payload) == _schema_verdict(load("pain-point-close"), payload)


def test_encoded_pain_points_validate_against_their_schemas():
    from datetime import timedelta

    from parcelwatch.streams.core.pain_points import (
        PainPointWindows,
        SpikePolicy,
        close_due,
        record_tally,
    )

    state = PainPointWindows("acme")
    start = datetime(2026, 11, 10, 12, tzinfo=UTC)
    spikes, summaries = [], []
    for n, count in enumerate([2, 2, 2, 12]):
        for index in range(count):
            topics = (FeedbackTopic.DAMAGED,) if index else ()
            reason = FlagReason.LOGISTICS_PAIN if index else FlagReason.PRAISE
            moment = start + timedelta(days=n)
            record_tally(state, FeedbackTally(f"{n}-{index}", "acme", "SP", reason, topics, moment))
        closing = close_due(state, start + timedelta(days=n + 1), timedelta(0), SpikePolicy())
        state, spikes, summaries = closing.state, [*spikes, *closing.spikes], [*closing.summaries]
    assert spikes and summaries
    for summary in summaries:
        jsonschema.validate(to_jsonable(summary), load("pain-point"))
    for spike in spikes:
        jsonschema.validate(to_jsonable(spike), load("pain-point-spike"))


def test_encoded_feedback_model_update_validates_against_its_schema():
    update = model_update.ModelUpdate(
        "v20261126T042304Z-4e6e0951", "4e6e0951" * 8, NOW, model=model_update.FEEDBACK_MODEL
    )
    encoded = model_update.encode_model_update(update)
    jsonschema.validate(orjson.loads(encoded), load("model-update"))
    assert model_update.decode_model_update(encoded) == update


# -- model monitoring --------------------------------------------------------------------------

OUTCOME_MUTATIONS: list[dict[str, Any]] = [
    {},
    {"carrier": None, "service_level": None},
    {"moment": "promise_minus_24h", "risk": 1, "late": True},
    {"model_version": "baseline:slack_to_promise"},
    {"extra": 1},
    {"moment": "at_lunch"},
    {"moment": None},
    {"risk": 1.5},
    {"risk": -0.1},
    {"risk": "0.4"},
    {"late": 1},
    {"alerted": None},
    {"model_version": ""},
    {"model_version": "v" * 201},
    {"carrier": "UPS"},
    {"service_level": "Two Day"},
    {"decided_at": "yesterday"},
    {"outcome_id": ""},
    {"schema_version": 2},
]


def _outcome_payload(**mutation: Any) -> dict[str, Any]:
    payload = {
        "schema_version": 1,
        "outcome_id": "2b0c1d52-0c36-5d55-9f4c-6f5b2b6d3a11",
        "model_version": "v20261126T042304Z-4e6e0951",
        "moment": "pickup",
        "risk": 0.42,
        "late": False,
        "alerted": False,
        "decided_at": "2026-11-21T11:00:00Z",
        "carrier": "ups",
        "service_level": "ground",
    }
    payload.update(mutation)
    return {key: value for key, value in payload.items() if key not in mutation or
            value is not None or key in ("carrier", "service_level")}  # fmt: skip


@pytest.mark.parametrize("mutation", OUTCOME_MUTATIONS, ids=str)
def test_model_outcome_verdicts_agree(mutation):
    payload = _outcome_payload(**mutation)
    key = str(payload.get("model_version", "")).encode()
    assert _python_verdict(decode_model_outcome, payload, key=key) == _schema_verdict(
        load("model-outcome"), payload
    )


def test_model_monitoring_calibration_shape_matches_the_type():
    item = load("model-monitoring")["properties"]["calibration"]["items"]
    assert set(item["properties"]) == {f.name for f in dataclasses.fields(CalibrationBand)}
    assert set(item["required"]) == set(item["properties"])
    assert item["properties"]["risk_band"]["enum"] == list(RISK_BANDS)


def test_encoded_model_monitoring_outputs_validate_against_their_schemas():
    from datetime import timedelta

    from parcelwatch.streams.core.model_watch import ModelWatch, record_outcome, summaries

    watch = ModelWatch("v20261126T042304Z-4e6e0951")
    for number in range(40):
        outcome = ModelOutcome(
            f"o-{number}", watch.model_version, list(RiskMoment)[number % 2], number / 39,
            number % 3 == 0, number % 4 == 0, NOW - timedelta(hours=number), "ups", None,
        )  # fmt: skip
        jsonschema.validate(to_jsonable(outcome), load("model-outcome"))
        record_outcome(watch, outcome, 7)
    found = summaries(watch, 7, NOW)
    assert len(found) == 2
    for summary in found:
        jsonschema.validate(to_jsonable(summary), load("model-monitoring"))
        assert set(to_jsonable(summary)) == set(load("model-monitoring")["required"])


# -- returns -----------------------------------------------------------------------------------

RETURN_EVENT_BASE: dict[str, Any] = {
    "schema_version": 1,
    "event_id": "ret-1",
    "order_id": "A-1001",
    "occurred_at": "2026-11-21T10:00:00+01:00",
}
RETURN_EVENTS: dict[str, dict[str, Any]] = {
    "return_requested": {"items": [{"sku": "SKU-1", "quantity": 1}], "reason": "size_or_fit"},
    "return_label_created": {"return_tracking_number": "RT123456", "carrier": "dhl"},
    "return_cancelled": {},
    "refund_requested": {},
    "refund_approved": {},
    "refund_issued": {"amount": "49.90", "currency": "EUR", "method": "original_payment"},
    "refund_failed": {"failure_reason": "card expired"},
}
# (type, mutation): a None value leaves the field out.
RETURN_MUTATIONS: list[tuple[str, dict[str, Any]]] = [
    *((kind, {}) for kind in RETURN_EVENTS),
    ("return_requested", {"items": None}),
    ("return_requested", {"items": []}),
    ("return_requested", {"reason": None}),
    ("return_requested", {"reason": "changed_mind"}),
    ("return_requested", {"items": [{"sku": "SKU-1", "quantity": 0}]}),
    ("return_requested", {"items": [{"sku": "SKU-1", "quantity": 1, "category": "shoes"}]}),
    ("return_label_created", {"return_tracking_number": None}),
    ("return_label_created", {"return_tracking_number": "has space"}),
    ("return_label_created", {"carrier": None}),
    ("return_label_created", {"carrier": "DHL"}),
    ("refund_issued", {"amount": None}),
    ("refund_issued", {"amount": "12"}),
    ("refund_issued", {"amount": "12.345"}),
    ("refund_issued", {"amount": "12.34567"}),
    ("refund_issued", {"amount": "-5.00"}),
    ("refund_issued", {"amount": "1e3"}),
    ("refund_issued", {"amount": 49.9}),
    ("refund_issued", {"currency": "eur"}),
    ("refund_issued", {"currency": None}),
    ("refund_issued", {"method": "cash"}),
    ("refund_issued", {"method": None}),
    ("refund_failed", {"failure_reason": None}),
    ("refund_failed", {"failure_reason": ""}),
    ("refund_failed", {"failure_reason": "x" * 1001}),
    ("refund_requested", {"amount": "10.00", "extra": True}),  # fields of other types: allowed
    ("refund_approved", {"type": "refund_teleported"}),
    ("return_cancelled", {"occurred_at": "yesterday"}),
    ("return_cancelled", {"event_id": ""}),
    ("return_cancelled", {"order_id": None}),
    ("return_cancelled", {"schema_version": 2}),
]


def return_event_json(kind: str, **mutation: Any) -> dict[str, Any]:
    payload = {**RETURN_EVENT_BASE, "type": kind, **RETURN_EVENTS[kind], **mutation}
    return {key: value for key, value in payload.items() if value is not None}


@pytest.mark.parametrize(("kind", "mutation"), RETURN_MUTATIONS, ids=str)
def test_return_event_verdicts_agree(kind, mutation):
    payload = return_event_json(kind, **mutation)
    assert _python_verdict(decode_return_event, payload, key=b"A-1001") == _schema_verdict(
        load("return-event"), payload
    )


def test_every_return_event_type_has_a_valid_sample():
    assert set(RETURN_EVENTS) == {kind.value for kind in ReturnEventType}
    for kind in RETURN_EVENTS:
        jsonschema.validate(return_event_json(kind), load("return-event"))


def test_shipment_answer_shapes_match_the_types():
    properties = load("shipment-answer")["properties"]
    nested = {
        "order": AnswerOrder,
        "timeline": TimelineEntry,
        "alerts": RaisedAlert,
        "prediction": Prediction,
        "notifications": SentNotification,
        "returns": ReturnAnswer,
    }
    for name, cls in nested.items():
        node = properties[name]
        node = node.get("items", node)
        assert set(node["properties"]) == {field.name for field in dataclasses.fields(cls)}, name
    assert _enum(properties["situation"]) == [member.value for member in Situation]
    assert _enum(properties["alerts"]["items"]["properties"]["kind"]) == [
        member.value for member in AlertKind
    ]
    assert _enum(properties["notifications"]["items"]["properties"]["kind"]) == [
        member.value for member in NotificationKind
    ]
    returns = properties["returns"]["properties"]
    assert _enum(returns["status"]) == [member.value for member in ReturnStatus]
    assert _enum(returns["reason"]) == [member.value for member in ReturnReason]
    assert _enum(returns["refund_method"]) == [member.value for member in RefundMethod]


def test_support_escalation_shapes_match_the_types():
    schema = load("support-escalation")
    properties, defs = schema["properties"], schema["$defs"]
    nested = {
        "context": (properties["context"], CaseContext),
        "customer": (defs["customer"], CaseCustomer),
        "returns": (defs["returnSummary"], ReturnSummary),
    }
    for name, (node, cls) in nested.items():
        fields = {field.name for field in dataclasses.fields(cls)}
        assert set(node["properties"]) == fields, name
        assert set(node["required"]) == fields, name  # an output carries every field
    assert properties["other_resolutions"]["items"]["enum"] == [
        member.value for member in Resolution
    ]
    summary = defs["returnSummary"]["properties"]
    assert _enum(summary["refund_status"]) == [member.value for member in RefundStatus]
    assert _enum(summary["reason"]) == [member.value for member in ReturnReason]
    assert _enum(summary["refund_method"]) == [member.value for member in RefundMethod]
    # The context's shipment is the lookup API's answer, by its $id.
    (answer, _null) = properties["context"]["properties"]["shipment"]["anyOf"]
    assert answer["$ref"] == load("shipment-answer")["$id"]
