"""The delay-risk rule: alert once when the model's risk crosses the threshold, with hysteresis.

An episode opens when risk reaches ``threshold`` and closes only when it falls below
``threshold - hysteresis`` (or the shipment settles), so a risk hovering around the threshold does
not flap between alert and silence.

The rule also keeps the risk at two comparable moments of every shipment, for the live model
monitoring (``streams/core/model_watch.py``), so that every shipment is judged at the same point of
its journey whatever its number of scans:

* at pickup: the first score issued once the shipment has moved (the scored snapshot's status is
  past label creation) and its promise is known. It is what the worker said at that point, so it
  is kept once and never replaced, not even by the score of an older scan arriving late (that
  score was computed later, knowing more). A scan read before its order (orders and scans are two
  topics) is scored without the promise; the order, once read, has the shipment scored again as
  of its newest scan, and that score is the one kept.
* 24 h before the promise: the score in force then, i.e. of the latest scan (by event time) at
  or before ``promised_by - 24 h``. A score replaces it only if its scan is at least as recent:
  a scan arriving late with an older event time never overwrites a newer one; a scan after the
  cut-off never counts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from parcelwatch.schemas.state import RiskAtMoment, RiskReading, ShipmentState
from parcelwatch.schemas.types import (
    SETTLED_STATUSES,
    Alert,
    AlertKind,
    PredictedDelivery,
    Severity,
    ShipmentStatus,
)
from parcelwatch.streams.core.alert_rules import build_alert

BEFORE_PROMISE = timedelta(hours=24)
# A snapshot with one of these statuses (or none: no carrier scan yet) has not moved yet.
_NOT_MOVED = frozenset({None, ShipmentStatus.INFO_RECEIVED, ShipmentStatus.UNKNOWN})


@dataclass(frozen=True, slots=True)
class RiskPolicy:
    threshold: float = 0.5
    hysteresis: float = 0.15

    def __post_init__(self) -> None:
        if not 0 < self.threshold <= 1 or not 0 <= self.hysteresis < self.threshold:
            raise ValueError("need 0 < threshold <= 1 and 0 <= hysteresis < threshold")


@dataclass(frozen=True, slots=True)
class RiskScore:
    """What the model said about one snapshot of a shipment (the state right after a scan)."""

    snapshot: ShipmentState
    source_event_id: str  # the input scored: the scan, or an order read after the shipment's scans
    # The scan's event time (for an order: its shipment's newest scan's): the features' as-of.
    scan_time: datetime
    risk: float
    prediction: PredictedDelivery
    model_version: str
    reasons: tuple[str, ...]


def apply_risk(
    state: ShipmentState, score: RiskScore, policy: RiskPolicy, now: datetime
) -> tuple[ShipmentState, Alert | None]:
    """Record ``score`` on ``state``; return the alert it raises, if any.

    ``state`` may be newer than ``score.snapshot`` (later scans of the same shipment in the same
    batch): the risk part is independent of the tracking part, so scores are applied in order.
    """
    reading = RiskReading(
        score.risk,
        score.model_version,
        score.prediction,
        at_pickup=_at_pickup(state.risk.at_pickup, score),
        before_promise=_before_promise(state.risk.before_promise, score),
    )
    updated = replace(state, risk=reading)
    episode = updated.open_episode(AlertKind.DELAY_RISK)
    # Judge by the snapshot the model scored, never by ``state``: a later scan of the same batch
    # (say "delivered") must not change what this scan raises, or results would depend on batching.
    if score.snapshot.tracking.status in SETTLED_STATUSES:
        return updated.with_episode(AlertKind.DELAY_RISK, None), None
    if episode is not None:
        if score.risk < policy.threshold - policy.hysteresis:
            updated = updated.with_episode(AlertKind.DELAY_RISK, None)
        return updated, None
    if score.risk < policy.threshold:
        return updated, None
    alert = _risk_alert(score, now)
    return updated.with_alert(alert, score.source_event_id), alert


def _at_pickup(kept: RiskAtMoment | None, score: RiskScore) -> RiskAtMoment | None:
    snapshot = score.snapshot
    if (
        kept is not None
        or snapshot.tracking.status in _NOT_MOVED
        or snapshot.order.promised_by is None
    ):
        return kept
    return RiskAtMoment(score.risk, score.model_version, score.scan_time)


def _before_promise(kept: RiskAtMoment | None, score: RiskScore) -> RiskAtMoment | None:
    promised_by = score.snapshot.order.promised_by
    if promised_by is None or score.scan_time > promised_by - BEFORE_PROMISE:
        return kept
    if kept is not None and score.scan_time < kept.scan_time:
        return kept  # an older scan arriving late: the newer score stays in force
    return RiskAtMoment(score.risk, score.model_version, score.scan_time)


def _risk_alert(score: RiskScore, now: datetime) -> Alert:
    snapshot = score.snapshot
    # Speak in the promise's own time zone: "Thursday" must be the customer's Thursday.
    zone = (snapshot.order.promised_by or score.scan_time).tzinfo
    expected, earliest, latest = (
        moment.astimezone(zone)
        for moment in (
            score.prediction.expected,
            score.prediction.earliest,
            score.prediction.latest,
        )
    )
    message = (
        f"Likely to miss its promise ({score.risk:.0%} risk): now expected "
        f"{expected:%A %d %b %H:%M}, between {earliest:%a %d %b} and {latest:%a %d %b}."
    )
    return build_alert(
        snapshot,
        AlertKind.DELAY_RISK,
        score.source_event_id,  # the input whose risk opened the episode
        Severity.WARNING,
        message,
        score.scan_time,
        score.source_event_id,
        now,
        risk=round(score.risk, 4),
        predicted_delivery=score.prediction,
        model_version=score.model_version,
        reasons=score.reasons,
    )
