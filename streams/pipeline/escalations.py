"""Support cases inside a batch: the escalation rules (``streams/core/escalations.py``) applied to
the shipments a batch changed and to the feedback it flagged, and the cases as messages.

Cases go out with the batch's other outputs, before the states recording them are stored (the
pipeline's at-least-once pattern): a crash in between sends the same ``case_id`` again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.escalations import SupportEscalation
from parcelwatch.schemas.feedback import FlaggedFeedback
from parcelwatch.schemas.state import ShipmentState
from parcelwatch.schemas.types import Customer
from parcelwatch.streams.core.answers import AnswerTemplates, build_answer
from parcelwatch.streams.core.escalations import (
    EscalationPolicy,
    feedback_case,
    next_escalation_at,
    refund_escalation_at,
    return_cases,
    shipment_cases,
    shipment_cases_due,
)
from parcelwatch.streams.core.returns import ReturnState
from parcelwatch.streams.pipeline.messages import OutputMessage
from parcelwatch.streams.pipeline.metrics import WorkerMetrics


class EscalationDesk:
    def __init__(
        self,
        *,
        topic: str,
        templates: AnswerTemplates,
        policy: EscalationPolicy,
        metrics: WorkerMetrics,
    ) -> None:
        self._topic = topic
        self._templates = templates
        self._policy = policy
        self._metrics = metrics

    def shipment(
        self, state: ShipmentState, now: datetime
    ) -> tuple[ShipmentState, tuple[SupportEscalation, ...]]:
        """The cases a shipment's decided state calls for, and the state recording them and
        waking its timer when a stalled parcel is due to count as lost."""
        state, cases = shipment_cases(state, now, self._policy, self._templates)
        due = next_escalation_at(state, self._policy)
        wake = state.timer.next_check_at
        if due is not None and (wake is None or due < wake):
            state = replace(state, timer=replace(state.timer, next_check_at=due))
        return state, cases

    def due(self, state: ShipmentState, now: datetime) -> bool:
        """Whether a timer's look at an otherwise unchanged shipment would open a case."""
        return shipment_cases_due(state, now, self._policy)

    def feedback(
        self, flagged: FlaggedFeedback, state: ShipmentState, now: datetime
    ) -> tuple[ShipmentState, SupportEscalation | None]:
        return feedback_case(flagged, state, now, self._templates)

    def refund(
        self,
        state: ReturnState,
        now: datetime,
        shipment: Callable[[], ShipmentState | None],
        customer: Customer | None,
    ) -> tuple[ReturnState, tuple[SupportEscalation, ...]]:
        """A refund overdue beyond the second limit; ``shipment()`` (the order's shipment, when
        this worker holds it) is attached as the lookup answer. It is read and answered only when
        a case is due: every return step and check passes here."""
        due = refund_escalation_at(state, self._policy)
        if due is None or now < due:
            return state, ()
        found = shipment()
        answer = build_answer(found, now, self._templates) if found is not None else None
        return return_cases(state, now, self._policy, answer, customer)

    def refund_due_at(self, state: ReturnState) -> datetime | None:
        """When the return's refund case falls due (the return timer wakes for it)."""
        return refund_escalation_at(state, self._policy)

    def messages(self, cases: Iterable[SupportEscalation]) -> list[OutputMessage]:
        return [OutputMessage(self._topic, case.key.encode(), encode(case)) for case in cases]

    def count(self, cases: Iterable[SupportEscalation]) -> None:
        for case in cases:
            self._metrics.escalations.labels(case.reason.value, case.priority.value).inc()
