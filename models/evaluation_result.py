"""What :func:`parcelwatch.models.evaluate.evaluate` measures, as frozen dataclasses.

Every field is named after its key in ``metrics.json`` and declared in that file's key order, so
:meth:`EvaluationResult.to_json` is the one place the file's layout comes from (a test pins it).
``None`` marks a metric that is undefined on the split (never NaN); sequences are tuples, written
as JSON arrays. Per-baseline, per-slice and per-scorer sections are dicts keyed by name.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = [
    "Alerts",
    "BaselineAlerts",
    "BaselineComparison",
    "BaselineMetrics",
    "Calibration",
    "Comparison",
    "DataSummary",
    "EvaluationResult",
    "IntervalMetrics",
    "LeadTime",
    "LeadTimeHistogram",
    "ModelMetrics",
    "Ranking",
    "RocCurve",
    "SliceMetrics",
    "Slices",
]


@dataclass(frozen=True)
class DataSummary:
    """The evaluated split: sizes per row (scan) and per shipment, and the scan period."""

    rows: int
    shipments: int
    late_shipments: int
    on_time_shipments: int
    late_rate: float | None  # per shipment
    row_late_rate: float | None
    delivered_rows: int
    first_scan: str | None  # ISO 8601
    last_scan: str | None


@dataclass(frozen=True)
class RocCurve:
    """Row-level ROC curve sampled on an even false-positive-rate grid."""

    fpr: tuple[float, ...]
    tpr: tuple[float, ...]


@dataclass(frozen=True)
class Calibration:
    """Reliability diagram points: mean predicted risk and observed share late per bin."""

    strategy: str
    n_bins: int
    mean_predicted: tuple[float, ...]
    fraction_positive: tuple[float, ...]


@dataclass(frozen=True)
class LeadTime:
    """Hours before ``promised_by`` of the first alert, over the late shipments alerted."""

    alerted_late_shipments: int
    median: float | None
    mean: float | None
    p25: float | None
    p75: float | None
    share_at_least_24h: float | None  # of the alerted late shipments
    late_shipments_alerted_at_least_24h_ahead: float | None  # of all late shipments


@dataclass(frozen=True)
class Alerts:
    """Shipment-level alert quality at one threshold (``None``: nothing can be alerted)."""

    threshold: float | None
    alerted_shipments: int
    alerted_late_shipments: int
    false_alerts: int
    precision: float | None
    recall: float | None
    false_alerts_per_1000_on_time: float | None
    lead_time_hours: LeadTime


@dataclass(frozen=True)
class BaselineAlerts(Alerts):
    """A baseline's alerts at its own threshold, chosen for the model's false-alert rate."""

    target_false_alerts_per_1000_on_time: float | None

    @classmethod
    def aiming_at(cls, alerts: Alerts, target: float | None) -> BaselineAlerts:
        shared = {field.name: getattr(alerts, field.name) for field in fields(Alerts)}
        return cls(**shared, target_false_alerts_per_1000_on_time=target)


@dataclass(frozen=True)
class Ranking:
    """How a score ranks rows: ROC-AUC, PR-AUC and ROC curve (``None`` with one class only)."""

    roc_auc: float | None
    pr_auc: float | None
    roc_curve: RocCurve | None


@dataclass(frozen=True)
class ModelMetrics(Ranking):
    brier: float | None  # only for scores in [0, 1]
    brier_base_rate: float | None
    at_threshold: Alerts
    calibration: Calibration | None


@dataclass(frozen=True)
class BaselineMetrics(Ranking):
    at_equal_false_alert_rate: BaselineAlerts


@dataclass(frozen=True)
class IntervalMetrics:
    """The [p10, p90] delivery-time interval's coverage and the p50 error, on delivered rows."""

    delivered_rows: int
    nominal_coverage: float
    coverage: float | None
    below_p10: float | None
    above_p90: float | None
    median_width_hours: float | None
    p50_median_abs_error_hours: float | None
    p50_mean_abs_error_hours: float | None


@dataclass(frozen=True)
class SliceMetrics:
    """The model on the rows with one carrier or service level."""

    rows: int
    shipments: int
    late_rate: float | None
    roc_auc: float | None
    recall: float | None
    false_alerts_per_1000_on_time: float | None


@dataclass(frozen=True)
class Slices:
    carrier: dict[str, SliceMetrics]
    service_level: dict[str, SliceMetrics]


@dataclass(frozen=True)
class LeadTimeHistogram:
    """Lead-time counts per scorer (``"model"`` and each baseline) on shared bin edges."""

    bin_edges: tuple[float, ...]
    counts: dict[str, tuple[int, ...]]


@dataclass(frozen=True)
class BaselineComparison:
    """Model minus one baseline, and the verdicts (see ``evaluate._compare``)."""

    roc_auc_diff: float | None
    pr_auc_diff: float | None
    median_lead_time_diff_hours: float | None
    recall_diff_at_equal_false_alert_rate: float | None
    roc_auc_higher: bool
    lead_time_longer: bool
    recall_not_worse: bool
    model_beats_baseline: bool


@dataclass(frozen=True)
class Comparison:
    baselines: dict[str, BaselineComparison]
    best_baseline_by_roc_auc: str | None
    best_baseline_at_equal_false_alert_rate: str | None
    model_beats_all_baselines: bool


@dataclass(frozen=True)
class EvaluationResult:
    metrics_version: int
    threshold: float | None
    data: DataSummary
    model: ModelMetrics
    baselines: dict[str, BaselineMetrics]
    interval: IntervalMetrics | None  # None when no delivery-time quantiles were evaluated
    slices: Slices
    lead_time_histogram: LeadTimeHistogram | None  # None when no scorer alerted a late shipment
    comparison: Comparison

    def to_json(self) -> dict[str, Any]:
        """The content of ``metrics.json`` (without the report's ``model_version``)."""
        return asdict(self)
