"""Python types of the live model-monitoring contracts.

``model-outcomes`` (internal, keyed by model version) carries one ``ModelOutcome`` per shipment
and comparable moment once the shipment's outcome is known: the risk a model version issued at
that moment beside what happened. It names no shipment, order or customer: only the carrier and
the service level, for breakdowns.

``model-monitoring`` (output, keyed by model version) carries a ``ModelMonitoringSummary`` per
model version and moment, periodically: the live quality of the version over a rolling window of
outcomes, to compare with the held-out figures of its model card.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from parcelwatch.schemas.types import SCHEMA_VERSION


class RiskMoment(StrEnum):
    """When in a shipment's journey a risk is compared with the outcome."""

    PICKUP = "pickup"  # the first score once the carrier moved the parcel
    PROMISE_MINUS_24H = "promise_minus_24h"  # the score in force 24 h before the promise


# Calibration bands: tenths of risk, the last one closed ([0.9, 1.0]).
RISK_BANDS = tuple(f"{tenth / 10:.1f}-{(tenth + 1) / 10:.1f}" for tenth in range(10))


@dataclass(frozen=True, slots=True)
class ModelOutcome:
    """A risk a model version issued at one moment of one shipment, and the shipment's outcome."""

    outcome_id: str  # deterministic: the shipment and the moment
    model_version: str
    moment: RiskMoment
    risk: float
    late: bool  # not delivered by the promise (models.dataset.late_label)
    alerted: bool  # a delay_risk alert was raised for the shipment
    decided_at: datetime  # event time of the scan that decided the outcome
    carrier: str | None
    service_level: str | None
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class CalibrationBand:
    """Outcomes whose risk fell in one tenth of risk: predicted against observed."""

    risk_band: str  # "0.0-0.1" ... "0.9-1.0"
    count: int
    mean_predicted: float
    observed_late_rate: float


@dataclass(frozen=True, slots=True)
class ModelMonitoringSummary:
    """The live quality of one model version at one moment over a rolling window."""

    summary_id: str  # deterministic: version, moment, window and outcome count
    model_version: str
    moment: RiskMoment
    window_start: datetime  # UTC day boundaries of the outcomes' decided_at: [start, end)
    window_end: datetime
    outcomes: int
    late_rate: float
    roc_auc: float | None  # null while the window holds one class only
    brier: float
    alert_precision: float | None  # late among alerted; null without alerts
    calibration: tuple[CalibrationBand, ...]  # bands with outcomes, lowest risk first
    generated_at: datetime
    schema_version: int = SCHEMA_VERSION
