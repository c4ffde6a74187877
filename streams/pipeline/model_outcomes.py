"""A scored shipment's outcome records for the live model monitoring (``model-outcomes``).

Once a shipment's outcome is known (``models.dataset.late_label``, the training label: delivered
after the promise, or scanned after it without a delivery), it gets one ``ModelOutcome`` per
comparable moment whose risk the state kept (``streams.core.risk_rules``). The state remembers
that its outcome was decided (``outputs.outcome_recorded``), so redeliveries and replays send
nothing twice, and a risk issued after the outcome was known never counts.
"""

from __future__ import annotations

from dataclasses import replace

from parcelwatch.models.dataset import late_label
from parcelwatch.schemas.ids import deterministic_id
from parcelwatch.schemas.model_monitoring import ModelOutcome, RiskMoment
from parcelwatch.schemas.state import RiskAtMoment, ShipmentState
from parcelwatch.schemas.types import AlertKind


def outcome_newly_known(state: ShipmentState) -> bool:
    """Whether ``state``'s outcome is known and not decided yet."""
    return not state.outputs.outcome_recorded and late_label(state) is not None


def decide_outcome(
    state: ShipmentState, known: ShipmentState
) -> tuple[ShipmentState, list[ModelOutcome]]:
    """``state`` marked as decided and its outcome records, or ``state`` unchanged and none
    (outcome not known yet, or already decided).

    ``known`` is the shipment's state right after the input that made its outcome known: the
    outcome and its time are judged on it, the risks on ``state`` as scored up to that input. A
    batch may hold later scans of the shipment; the records must not depend on where batches end.
    A shipment never scored before its outcome was known is marked decided with no record: a risk
    issued afterwards never counts.
    """
    if state.outputs.outcome_recorded:
        return state, []
    label = late_label(known)
    decided_at = known.tracking.delivered_at or known.tracking.last_scan_at
    if label is None or decided_at is None:
        return state, []
    decided = replace(state, outputs=replace(state.outputs, outcome_recorded=True))
    if state.risk.score is None:
        return decided, []
    alerted = (
        AlertKind.DELAY_RISK in state.outputs.raised_kinds
        or state.open_episode(AlertKind.DELAY_RISK) is not None
    )
    moments: list[tuple[RiskMoment, RiskAtMoment | None]] = [
        (RiskMoment.PICKUP, state.risk.at_pickup),
        (RiskMoment.PROMISE_MINUS_24H, state.risk.before_promise),
    ]
    records = [
        ModelOutcome(
            # The tracking number only feeds a one-way hash: the record names no shipment.
            outcome_id=deterministic_id("model-outcome", state.tracking_number, moment.value),
            model_version=kept.model_version,
            moment=moment,
            risk=kept.risk,
            late=bool(label),
            alerted=alerted,
            decided_at=decided_at,
            carrier=known.carrier,
            service_level=known.order.service_level,
        )
        for moment, kept in moments
        if kept is not None
    ]
    return decided, records
