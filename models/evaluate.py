"""Offline evaluation of delay-risk scores: the model against simple baselines on one split.

Rows are scans (see :mod:`.dataset`); alerts are judged per shipment, because that is what
a merchant sees: a shipment is *alerted* at a threshold when at least one of its scans scores at
or above it, and its *lead time* is ``promised_by - as_of`` of the first such scan.

To compare alert quality fairly, every baseline gets its own threshold, chosen so that its false
alerts per 1,000 on-time shipments are as close as possible to, but not above, the model's at the
model's threshold (section ``at_equal_false_alert_rate``).

:func:`evaluate` returns an :class:`~parcelwatch.models.evaluation_result.EvaluationResult`
(``None`` where a metric is undefined, never NaN).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
from parcelwatch.models.dataset import Examples
from parcelwatch.models.evaluation_result import (
    Alerts,
    BaselineAlerts,
    BaselineComparison,
    BaselineMetrics,
    Calibration,
    Comparison,
    DataSummary,
    EvaluationResult,
    IntervalMetrics,
    LeadTime,
    LeadTimeHistogram,
    ModelMetrics,
    Ranking,
    RocCurve,
    SliceMetrics,
    Slices,
)
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

__all__ = ["METRICS_VERSION", "evaluate", "threshold_at_false_alert_count"]

METRICS_VERSION = 1
LEAD_TIME_GOAL_HOURS = 24.0
CALIBRATION_BINS = 10
ROC_POINTS = 101
HISTOGRAM_BINS = 30


def _num(value: Any) -> float | None:
    """A finite Python float, else ``None``."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


def _epoch_hours(times: list[datetime]) -> np.ndarray:
    return np.array([t.timestamp() / 3600.0 for t in times], dtype=np.float64)


class _Shipments:
    """Rows grouped by shipment, sorted by (shipment, scan time), for vectorised alert metrics."""

    def __init__(self, tracking_numbers: list[str], late: np.ndarray, as_of: np.ndarray) -> None:
        ids, inverse = np.unique(np.asarray(tracking_numbers, dtype=object), return_inverse=True)
        self.count = len(ids)
        self.row_shipment = inverse.astype(np.int64)
        self.order = np.lexsort((as_of, self.row_shipment))
        self.sorted_shipment = self.row_shipment[self.order]
        if len(self.order):
            boundary = np.r_[True, self.sorted_shipment[1:] != self.sorted_shipment[:-1]]
            self.starts = np.flatnonzero(boundary)
            self.late = np.maximum.reduceat(late[self.order].astype(np.int8), self.starts) > 0
        else:
            self.starts = np.zeros(0, dtype=np.int64)
            self.late = np.zeros(0, dtype=bool)

    def max_score(self, score: np.ndarray) -> np.ndarray:
        if not len(self.order):
            return np.zeros(0, dtype=np.float64)
        return np.maximum.reduceat(score[self.order], self.starts)

    def first_alert_rows(self, alert: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(shipment index, row index) of each shipment's earliest alerting row."""
        positions = np.flatnonzero(alert[self.order])
        shipments = self.sorted_shipment[positions]
        first = np.r_[True, shipments[1:] != shipments[:-1]] if len(positions) else positions
        return shipments[first], self.order[positions[first]]


def threshold_at_false_alert_count(
    shipment_max: np.ndarray, shipment_late: np.ndarray, max_false_alerts: int
) -> float:
    """Lowest threshold alerting at most ``max_false_alerts`` on-time shipments.

    The lowest such threshold alerts the most late shipments, so recall is as high as the
    false-alert budget allows. Returns ``inf`` when only "never alert" fits the budget.
    """
    if not len(shipment_max):
        return math.inf
    on_time = np.sort(shipment_max[~shipment_late])[::-1]
    if max_false_alerts >= len(on_time):
        return float(shipment_max.min())
    bar = on_time[max(max_false_alerts, 0)]  # this on-time shipment must not be alerted
    above = shipment_max[shipment_max > bar]
    return float(above.min()) if len(above) else math.inf


def _lead_summary(lead: np.ndarray, late_shipments: int) -> LeadTime:
    if not len(lead):
        return LeadTime(
            alerted_late_shipments=0,
            median=None,
            mean=None,
            p25=None,
            p75=None,
            share_at_least_24h=None,
            late_shipments_alerted_at_least_24h_ahead=_ratio(0, late_shipments),
        )
    p25, median, p75 = np.percentile(lead, [25, 50, 75])
    ahead = int(np.count_nonzero(lead >= LEAD_TIME_GOAL_HOURS))
    return LeadTime(
        alerted_late_shipments=len(lead),
        median=_num(median),
        mean=_num(lead.mean()),
        p25=_num(p25),
        p75=_num(p75),
        share_at_least_24h=ahead / len(lead),
        late_shipments_alerted_at_least_24h_ahead=_ratio(ahead, late_shipments),
    )


def _alerts_at(
    score: np.ndarray,
    threshold: float,
    groups: _Shipments,
    lead_hours: np.ndarray,
) -> tuple[Alerts, np.ndarray]:
    """Shipment-level alert metrics at ``threshold`` and the lead hours of alerted late ones."""
    alerted = groups.max_score(score) >= threshold
    late = groups.late
    n_late = int(late.sum())
    n_on_time = int((~late).sum())
    true_alerts = int((alerted & late).sum())
    false_alerts = int((alerted & ~late).sum())
    shipments, rows = groups.first_alert_rows(score >= threshold)
    lead = lead_hours[rows[late[shipments]]]
    false_rate = _ratio(false_alerts, n_on_time)
    alerts = Alerts(
        threshold=_num(threshold),
        alerted_shipments=true_alerts + false_alerts,
        alerted_late_shipments=true_alerts,
        false_alerts=false_alerts,
        precision=_ratio(true_alerts, true_alerts + false_alerts),
        recall=_ratio(true_alerts, n_late),
        false_alerts_per_1000_on_time=None if false_rate is None else 1000.0 * false_rate,
        lead_time_hours=_lead_summary(lead, n_late),
    )
    return alerts, lead


def _ranking(y: np.ndarray, score: np.ndarray) -> Ranking:
    """Row-level ROC-AUC, PR-AUC and a down-sampled ROC curve; ``None`` with one class only."""
    if len(np.unique(y)) < 2:
        return Ranking(roc_auc=None, pr_auc=None, roc_curve=None)
    fpr, tpr, _ = roc_curve(y, score)
    grid = np.linspace(0.0, 1.0, ROC_POINTS)
    return Ranking(
        roc_auc=_num(roc_auc_score(y, score)),
        pr_auc=_num(average_precision_score(y, score)),
        roc_curve=RocCurve(
            fpr=tuple(grid.tolist()),
            tpr=tuple(np.interp(grid, fpr, tpr).round(6).tolist()),
        ),
    )


def _calibration(y: np.ndarray, prob: np.ndarray) -> Calibration | None:
    if not len(y) or len(np.unique(y)) < 2:
        return None
    fraction, predicted = calibration_curve(y, prob, n_bins=CALIBRATION_BINS, strategy="quantile")
    return Calibration(
        strategy="quantile",
        n_bins=CALIBRATION_BINS,
        mean_predicted=tuple(predicted.round(6).tolist()),
        fraction_positive=tuple(fraction.round(6).tolist()),
    )


def _interval(actual: np.ndarray, quantile_hours: Mapping[str, np.ndarray]) -> IntervalMetrics:
    """Coverage of [p10, p90] and p50 error on delivered rows."""
    delivered = np.isfinite(actual)
    coverage = below_p10 = above_p90 = median_width = None
    p50_median_error = p50_mean_error = None
    if "p10" in quantile_hours and "p90" in quantile_hours:
        low = np.asarray(quantile_hours["p10"], dtype=np.float64)
        high = np.asarray(quantile_hours["p90"], dtype=np.float64)
        usable = delivered & np.isfinite(low) & np.isfinite(high)
        y, low, high = actual[usable], low[usable], high[usable]
        if len(y):
            coverage = float(np.mean((y >= low) & (y <= high)))
            below_p10 = float(np.mean(y < low))
            above_p90 = float(np.mean(y > high))
            median_width = _num(np.median(high - low))
    if "p50" in quantile_hours:
        mid = np.asarray(quantile_hours["p50"], dtype=np.float64)
        usable = delivered & np.isfinite(mid)
        if usable.any():
            error = np.abs(actual[usable] - mid[usable])
            p50_median_error = _num(np.median(error))
            p50_mean_error = _num(error.mean())
    return IntervalMetrics(
        delivered_rows=int(delivered.sum()),
        nominal_coverage=0.8,
        coverage=coverage,
        below_p10=below_p10,
        above_p90=above_p90,
        median_width_hours=median_width,
        p50_median_abs_error_hours=p50_median_error,
        p50_mean_abs_error_hours=p50_mean_error,
    )


def _slices(
    labels: list[str],
    y: np.ndarray,
    risk: np.ndarray,
    threshold: float,
    groups: _Shipments,
) -> dict[str, SliceMetrics]:
    """Per-value rows, shipments, late rate, model ROC-AUC, recall and false alerts."""
    values, codes = np.unique(np.asarray(labels, dtype=object), return_inverse=True)
    row_alert = (risk >= threshold).astype(np.float64)
    result: dict[str, SliceMetrics] = {}
    for code, value in enumerate(values):
        in_slice = codes == code
        ship = groups.row_shipment[in_slice]
        present = np.bincount(ship, minlength=groups.count) > 0
        alerted = np.bincount(ship, weights=row_alert[in_slice], minlength=groups.count) > 0
        late = groups.late & present
        on_time = ~groups.late & present
        n_late, n_on_time = int(late.sum()), int(on_time.sum())
        y_slice = y[in_slice]
        auc = _num(roc_auc_score(y_slice, risk[in_slice])) if len(np.unique(y_slice)) == 2 else None
        false_rate = _ratio(int((alerted & on_time).sum()), n_on_time)
        result[str(value)] = SliceMetrics(
            rows=int(in_slice.sum()),
            shipments=n_late + n_on_time,
            late_rate=_ratio(n_late, n_late + n_on_time),
            roc_auc=auc,
            recall=_ratio(int((alerted & late).sum()), n_late),
            false_alerts_per_1000_on_time=None if false_rate is None else 1000.0 * false_rate,
        )
    return result


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _compare(model: ModelMetrics, baselines: dict[str, BaselineMetrics]) -> Comparison:
    """Model minus each baseline, and whether the model beats every one of them.

    Beating a baseline means what the product needs: a higher ROC-AUC, and at an equal
    false-alert rate a longer median lead time (warning earlier). Recall at that rate is reported
    beside it but is not part of the verdict: it also counts "alerts" raised after the promise
    was already broken, which tell the customer nothing new. A baseline that alerts no late
    shipment has no lead time; the model beats it on lead time if it has one. An undefined model
    metric never beats anything.
    """
    model_alerts = model.at_threshold
    model_lead = model_alerts.lead_time_hours.median
    per_baseline: dict[str, BaselineComparison] = {}
    for name, base in baselines.items():
        base_alerts = base.at_equal_false_alert_rate
        base_lead = base_alerts.lead_time_hours.median
        auc_diff = _diff(model.roc_auc, base.roc_auc)
        recall_diff = _diff(model_alerts.recall, base_alerts.recall)
        roc_higher = auc_diff is not None and auc_diff > 0
        lead_ok = model_lead is not None and (base_lead is None or model_lead > base_lead)
        per_baseline[name] = BaselineComparison(
            roc_auc_diff=auc_diff,
            pr_auc_diff=_diff(model.pr_auc, base.pr_auc),
            median_lead_time_diff_hours=_diff(model_lead, base_lead),
            recall_diff_at_equal_false_alert_rate=recall_diff,
            roc_auc_higher=roc_higher,
            lead_time_longer=lead_ok,
            recall_not_worse=recall_diff is not None and recall_diff >= 0,
            model_beats_baseline=roc_higher and lead_ok,
        )

    def alert_quality(name: str) -> tuple[float, float]:
        alerts = baselines[name].at_equal_false_alert_rate
        lead = alerts.lead_time_hours.median
        return (alerts.recall or 0.0, -math.inf if lead is None else lead)

    auc_of = {name: base.roc_auc for name, base in baselines.items() if base.roc_auc is not None}
    return Comparison(
        baselines=per_baseline,
        best_baseline_by_roc_auc=max(auc_of, key=auc_of.__getitem__) if auc_of else None,
        best_baseline_at_equal_false_alert_rate=(
            max(baselines, key=alert_quality) if baselines else None
        ),
        model_beats_all_baselines=bool(per_baseline)
        and all(c.model_beats_baseline for c in per_baseline.values()),
    )


def _lead_time_histogram(leads: dict[str, np.ndarray]) -> LeadTimeHistogram | None:
    """Each scorer's lead hours counted on bins shared by all; ``None`` if none has any."""
    pooled = np.concatenate(list(leads.values()))
    if not len(pooled):
        return None
    edges = np.histogram_bin_edges(pooled, bins=HISTOGRAM_BINS)
    return LeadTimeHistogram(
        bin_edges=tuple(edges.round(4).tolist()),
        counts={
            name: tuple(np.histogram(lead, bins=edges)[0].tolist()) for name, lead in leads.items()
        },
    )


def _check(name: str, values: np.ndarray, rows: int) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (rows,):
        raise ValueError(f"{name} has shape {array.shape}, expected ({rows},)")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite scores")
    return array


def evaluate(
    test: Examples,
    *,
    risk: np.ndarray,
    quantile_hours: dict[str, np.ndarray] | None,
    baseline_scores: dict[str, np.ndarray],
    threshold: float,
) -> EvaluationResult:
    """Metrics of the model's ``risk`` (and ``quantile_hours``) against ``baseline_scores``.

    ``risk`` and each baseline score hold one finite value per row of ``test`` (higher =
    riskier); ``quantile_hours`` maps ``"p10"``/``"p50"``/``"p90"`` to predicted hours to
    delivery per row. The model alerts on rows with ``risk >= threshold``.
    """
    n = len(test)
    risk = _check("risk", risk, n)
    scores = {name: _check(name, values, n) for name, values in baseline_scores.items()}
    if quantile_hours is not None:
        for name, values in quantile_hours.items():
            if np.shape(values) != (n,):
                raise ValueError(f"quantile_hours[{name!r}] must have shape ({n},)")
    y = np.asarray(test.late, dtype=np.int8)
    as_of = _epoch_hours(test.as_of)
    lead_hours = _epoch_hours(test.promised_by) - as_of
    groups = _Shipments(test.tracking_numbers, y, as_of)
    n_late = int(groups.late.sum())

    is_probability = bool(n) and risk.min() >= 0.0 and risk.max() <= 1.0
    model_ranking = _ranking(y, risk)
    at_threshold, model_lead = _alerts_at(risk, threshold, groups, lead_hours)
    model = ModelMetrics(
        roc_auc=model_ranking.roc_auc,
        pr_auc=model_ranking.pr_auc,
        roc_curve=model_ranking.roc_curve,
        brier=_num(np.mean((risk - y) ** 2)) if is_probability else None,
        brier_base_rate=_num(np.mean((y - y.mean()) ** 2)) if n else None,
        at_threshold=at_threshold,
        calibration=_calibration(y, risk) if is_probability else None,
    )

    baselines: dict[str, BaselineMetrics] = {}
    leads = {"model": model_lead}
    for name, score in scores.items():
        ranking = _ranking(y, score)
        cut = threshold_at_false_alert_count(
            groups.max_score(score), groups.late, at_threshold.false_alerts
        )
        alerts, leads[name] = _alerts_at(score, cut, groups, lead_hours)
        baselines[name] = BaselineMetrics(
            roc_auc=ranking.roc_auc,
            pr_auc=ranking.pr_auc,
            roc_curve=ranking.roc_curve,
            at_equal_false_alert_rate=BaselineAlerts.aiming_at(
                alerts, at_threshold.false_alerts_per_1000_on_time
            ),
        )

    timestamps = sorted(test.as_of)
    return EvaluationResult(
        metrics_version=METRICS_VERSION,
        threshold=_num(threshold),
        data=DataSummary(
            rows=n,
            shipments=groups.count,
            late_shipments=n_late,
            on_time_shipments=groups.count - n_late,
            late_rate=_ratio(n_late, groups.count),
            row_late_rate=_num(y.mean()) if n else None,
            delivered_rows=int(np.isfinite(test.hours_to_delivery).sum()),
            first_scan=timestamps[0].isoformat() if n else None,
            last_scan=timestamps[-1].isoformat() if n else None,
        ),
        model=model,
        baselines=baselines,
        interval=(
            None if quantile_hours is None else _interval(test.hours_to_delivery, quantile_hours)
        ),
        slices=Slices(
            carrier=_slices(test.carriers, y, risk, threshold, groups),
            service_level=_slices(test.service_levels, y, risk, threshold, groups),
        ),
        lead_time_histogram=_lead_time_histogram(leads),
        comparison=_compare(model, baselines),
    )
