"""support-escalation.v1: every kind of case validates against its JSON Schema (with the lookup
answer it references by $id), and the README's example is the encoding of a real case."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource

from parcelwatch.schemas.codec import to_jsonable
from parcelwatch.schemas.escalations import EscalationReason, SupportEscalation
from parcelwatch.schemas.state import ShipmentState
from parcelwatch.schemas.types import Customer, Item, NotificationChannel
from parcelwatch.streams.core.answers import build_answer
from parcelwatch.streams.core.escalations import (
    EscalationPolicy,
    feedback_case,
    return_cases,
    shipment_cases,
)
from parcelwatch.streams.core.feedback_flags import flag_feedback
from parcelwatch.streams.core.returns import ReturnState
from parcelwatch.streams.core.tracking import apply_event
from parcelwatch.streams.message_templates.answer_files import load_answer_templates
from tests.factories import at, order, scan
from tests.feedback_factories import analysis, feedback

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "schemas" / "json"
TEMPLATES = load_answer_templates()
POLICY = EscalationPolicy()
CUSTOMER = Customer("cust-42", "en-GB", "Europe/London", (NotificationChannel.EMAIL,))


def _validator() -> jsonschema.Draft202012Validator:
    """The escalation schema, resolving the lookup answer by its $id as consumers would."""
    schemas = [json.loads(path.read_text()) for path in SCHEMA_DIR.glob("*.schema.json")]
    registry: Registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas
    )
    schema = json.loads((SCHEMA_DIR / "support-escalation.v1.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _run(*events) -> ShipmentState:
    state = None
    for event in events:
        state = apply_event(state, event, getattr(event, "occurred_at", at(0))).state
    return state


def sample_case() -> SupportEscalation:
    """The README's example: a parcel the carrier reported lost."""
    state = _run(
        order(72, customer=CUSTOMER), scan("picked_up", 2), scan("exception", 30, reason="lost")
    )
    return shipment_cases(state, at(31), POLICY, TEMPLATES)[1][0]


def _every_reason() -> list[SupportEscalation]:
    returning = _run(order(72), scan("returning_to_sender", 20, reason="refused"))
    delivered = _run(order(72, customer=CUSTOMER), scan("delivered", 50))
    dispute = flag_feedback(
        feedback(), analysis(topics=("not_received",)), delivered,
        target=delivered.tracking_number, now=at(100), analyzer_version="test",
    )  # fmt: skip
    received = datetime(2026, 11, 20, 15, tzinfo=UTC)
    failed = ReturnState(
        order_id="A-1001",
        items=(Item("SKU-1", 2),),
        received_at=received,
        refund_issued_at=received,
        refund_failed_at=at(300),
    )
    owed = ReturnState(order_id="A-1002", received_at=received)
    late = datetime(2026, 12, 30, tzinfo=UTC)
    answer = build_answer(delivered, late, TEMPLATES)
    return [
        sample_case(),
        shipment_cases(returning, at(21), POLICY, TEMPLATES)[1][0],
        feedback_case(dispute, delivered, at(100), TEMPLATES)[1],
        # A refund issued, then failed; with the order's shipment answer.
        return_cases(failed, late, POLICY, shipment=answer, customer=CUSTOMER)[1][0],
        return_cases(owed, late, POLICY)[1][0],  # order-only, nothing known of the shipment
    ]


def test_every_reason_has_a_sample():
    assert {case.reason for case in _every_reason()} == set(EscalationReason)


@pytest.mark.parametrize("case", _every_reason(), ids=lambda case: case.reason.value)
def test_encoded_cases_validate_against_the_schema(case):
    encoded = to_jsonable(case)
    _validator().validate(encoded)
    assert encoded["context"]["shipment"] is None or encoded["context"]["shipment"]["answer"]


def test_a_case_with_an_unknown_reason_or_an_invalid_answer_is_refused():
    encoded = to_jsonable(sample_case())
    validator = _validator()
    assert not validator.is_valid({**encoded, "reason": "lost_interest"})
    answer = {**encoded["context"]["shipment"], "situation": "teleported"}
    assert not validator.is_valid({**encoded, "context": {"shipment": answer, "returns": None}})


def test_the_readme_example_is_a_real_case():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(
        r"<!-- support-escalation example[^>]*-->\s*```json\n(.*?)```", readme, re.DOTALL
    )
    assert match, "the README's support-escalation example is missing"
    assert json.loads(match.group(1)) == to_jsonable(sample_case())
