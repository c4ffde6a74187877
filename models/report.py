"""Writes the evaluation report: metrics JSON, three PNG plots and a short markdown model card.

Input is the :class:`~parcelwatch.models.evaluation_result.EvaluationResult` that
:func:`parcelwatch.models.evaluate.evaluate` returns. Plots use
:class:`matplotlib.figure.Figure` directly (Agg rendering, no pyplot global state).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from parcelwatch.models.evaluation_result import (
    Alerts,
    BaselineComparison,
    BaselineMetrics,
    EvaluationResult,
    IntervalMetrics,
    Ranking,
    SliceMetrics,
)

__all__ = ["CARD_FILE", "METRICS_FILE", "PLOT_FILES", "write_report"]

METRICS_FILE = "metrics.json"
CARD_FILE = "model_card.md"
PLOT_FILES = ("calibration.png", "roc.png", "lead_time.png")
_DPI = 110

# metadata keys containing one of these describe the training data; the rest are settings
_DATA_WORDS = ("data", "fingerprint", "sha256", "rows", "shipments", "period", "start", "end")


def _f(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _signed(value: Any, digits: int = 3, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:+.{digits}f}{unit}"


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _save(fig: Figure, path: Path) -> Path:
    try:
        fig.savefig(path, dpi=_DPI, format="png")
    finally:
        fig.clear()
    return path


def _placeholder(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)


def _plot_calibration(result: EvaluationResult, path: Path) -> Path:
    fig = Figure(figsize=(5.5, 5))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    curve = result.model.calibration
    if curve:
        ax.plot(curve.mean_predicted, curve.fraction_positive, marker="o", label="model")
    else:
        _placeholder(ax, "calibration not available")
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1),
        xlabel="mean predicted risk (quantile bins)",
        ylabel="observed share late",
        title="Reliability diagram",
    )
    ax.legend(loc="upper left")
    return _save(fig, path)


def _plot_roc(result: EvaluationResult, path: Path) -> Path:
    fig = Figure(figsize=(5.5, 5))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    drawn = 0
    scorers: dict[str, Ranking] = {"model": result.model, **result.baselines}
    for name, ranking in scorers.items():
        curve = ranking.roc_curve
        if curve:
            label = f"{name} (AUC {_f(ranking.roc_auc)})"
            ax.plot(curve.fpr, curve.tpr, label=label, linewidth=2 if name == "model" else 1)
            drawn += 1
    if not drawn:
        _placeholder(ax, "ROC not available (one class only)")
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1),
        xlabel="false positive rate (rows)",
        ylabel="true positive rate (rows)",
        title="ROC: model vs baselines",
    )
    ax.legend(loc="lower right", fontsize="small")
    return _save(fig, path)


def _plot_lead_time(result: EvaluationResult, path: Path) -> Path:
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    histogram = result.lead_time_histogram
    best = result.comparison.best_baseline_at_equal_false_alert_rate
    if histogram:
        edges = histogram.bin_edges
        ax.stairs(histogram.counts["model"], edges, fill=True, alpha=0.5, label="model")
        if best is not None and best in histogram.counts:
            label = f"{best} (at equal false-alert rate)"
            ax.stairs(histogram.counts[best], edges, linewidth=2, label=label)
        ax.axvline(24, color="grey", linestyle=":", label="24 h")
        ax.legend(loc="best", fontsize="small")
    else:
        _placeholder(ax, "no late shipment was alerted")
    ax.set(
        xlabel="hours before promised_by of the first alert",
        ylabel="late shipments",
        title="Lead time of alerts on late shipments",
    )
    return _save(fig, path)


def _flatten(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            if not prefix:  # one level deep is enough for a card
                yield from _flatten(value, f"{name}.")
        elif isinstance(value, str | int | float | bool) or value is None:
            yield name, value
        elif isinstance(value, list | tuple) and len(value) <= 4:
            yield name, ", ".join(str(v) for v in value)


def _metadata_tables(metadata: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Markdown rows for training-data facts and for other model settings.

    Feature lists and vocabularies are left out (too long for a card); nested dicts are shown
    one level deep as ``parent.key``.
    """
    data, settings = [], []
    for key, value in _flatten(metadata):
        if key.startswith(("feature_names", "feature_vocabularies")) or len(str(value)) > 100:
            continue
        is_data = any(word in key.lower() for word in _DATA_WORDS)
        (data if is_data else settings).append(f"| {key} | {value} |")
    return data, settings


def _headline_rows(result: EvaluationResult) -> list[str]:
    rows = [
        "| Scorer | ROC-AUC | PR-AUC | Brier | Recall | Precision | False alerts / 1,000 on-time "
        "| Median lead (h) | Late alerted ≥ 24 h ahead |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    # (name, ranking, Brier score, alerts): the model at its threshold, each baseline at its own
    scorers: list[tuple[str, Ranking, float | None, Alerts]] = [
        ("model", result.model, result.model.brier, result.model.at_threshold)
    ] + [
        (name, baseline, None, baseline.at_equal_false_alert_rate)
        for name, baseline in result.baselines.items()
    ]
    for name, ranking, brier, alerts in scorers:
        lead = alerts.lead_time_hours
        rows.append(
            f"| {name} | {_f(ranking.roc_auc)} | {_f(ranking.pr_auc)} "
            f"| {_f(brier)} | {_f(alerts.recall)} | {_f(alerts.precision)} "
            f"| {_f(alerts.false_alerts_per_1000_on_time, 1)} | {_f(lead.median, 1)} "
            f"| {_pct(lead.late_shipments_alerted_at_least_24h_ahead)} |"
        )
    return rows


def _lead_diff(diff: BaselineComparison, baseline: BaselineMetrics) -> str:
    if diff.median_lead_time_diff_hours is not None:
        return _signed(diff.median_lead_time_diff_hours, 1, " h")
    if baseline.at_equal_false_alert_rate.lead_time_hours.median is None:
        return "n/a (the baseline alerts no late shipment)"
    return "n/a (the model alerts no late shipment)"


def _comparison_lines(result: EvaluationResult) -> list[str]:
    comparison = result.comparison
    lines = []
    for name, diff in comparison.baselines.items():
        verdict = "beats" if diff.model_beats_baseline else "does **not** beat"
        lines.append(
            f"- **{name}**: model {verdict} it — ROC-AUC {_signed(diff.roc_auc_diff)}, "
            f"median lead time {_lead_diff(diff, result.baselines[name])} and "
            f"recall {_signed(diff.recall_diff_at_equal_false_alert_rate)} "
            "at an equal false-alert rate."
        )
    overall = (
        "The model beats every baseline."
        if comparison.model_beats_all_baselines
        else "**The model does not beat every baseline; do not promote it on these numbers.**"
    )
    return [*lines, "", overall]


def _slice_rows(slices: Mapping[str, SliceMetrics]) -> list[str]:
    rows = [
        "| Value | Rows | Shipments | Late rate | ROC-AUC | Recall "
        "| False alerts / 1,000 on-time |",
        "|---|---|---|---|---|---|---|",
    ]
    for value, s in sorted(slices.items(), key=lambda kv: -kv[1].shipments):
        rows.append(
            f"| {value} | {s.rows} | {s.shipments} | {_pct(s.late_rate)} "
            f"| {_f(s.roc_auc)} | {_f(s.recall)} "
            f"| {_f(s.false_alerts_per_1000_on_time, 1)} |"
        )
    return rows


def _interval_lines(interval: IntervalMetrics | None) -> list[str]:
    if interval is None:
        return ["No delivery-time quantiles were evaluated."]
    return [
        f"Share of delivered test rows whose actual hours to delivery fall within the predicted "
        f"[p10, p90] interval: **{_pct(interval.coverage)}** (nominal 80%; "
        f"{_pct(interval.below_p10)} below p10, {_pct(interval.above_p90)} above p90; "
        f"median width {_f(interval.median_width_hours, 1)} h; "
        f"{interval.delivered_rows} delivered rows). "
        f"p50 absolute error: median {_f(interval.p50_median_abs_error_hours, 1)} h, "
        f"mean {_f(interval.p50_mean_abs_error_hours, 1)} h."
    ]


def _card(result: EvaluationResult, model_version: str, metadata: Mapping[str, Any]) -> str:
    data = result.data
    alerts = result.model.at_threshold
    lead = alerts.lead_time_hours
    data_rows, setting_rows = _metadata_tables(metadata)
    lines = [
        f"# Model card: parcelwatch delay risk `{model_version}`",
        "",
        "## What it predicts",
        "After every scan of a shipment that is not yet delivered, returned or cancelled, the "
        "probability that it will **not be delivered by its `promised_by`** time, from what is "
        "known at that scan only. A shipment is alerted when one of its scans scores at or "
        "above the threshold."
        + (
            ""
            if result.interval is None
            else " Companion quantile models predict hours to delivery (p10 / p50 / p90)."
        ),
        "",
        "## Training data",
        *(
            ["| Field | Value |", "|---|---|", *data_rows]
            if data_rows
            else ["No training-data metadata (fingerprint, size, period) was given."]
        ),
        *(
            ["", "### Model settings", "| Setting | Value |", "|---|---|", *setting_rows]
            if setting_rows
            else []
        ),
        "",
        "## Test data",
        f"{data.rows} scans of {data.shipments} shipments ({data.late_shipments} late, "
        f"late rate {_pct(data.late_rate)}), scanned {data.first_scan} to "
        f"{data.last_scan} (the held-out split; baselines saw only the training split).",
        "",
        "## Headline metrics",
        "ROC-AUC, PR-AUC and Brier score are per scan. Recall, precision, false alerts and lead "
        "time are per shipment: the model at its threshold, each baseline at its own threshold "
        "chosen for an equal (never higher) false-alert rate. Lead time is hours before "
        "`promised_by` of the first alert, for late shipments that were alerted.",
        "",
        *_headline_rows(result),
        "",
        "## Against the baselines",
        "Baselines, fitted on the training split only: `slack_to_promise` (hours left to the "
        "promise), `lane_p90` (the lane's 90th-percentile transit time overshooting the promise; "
        "thin lanes fall back to the service level, then overall), `carrier_late_rate` (the "
        "carrier's historical share of late shipments).",
        "",
        *_comparison_lines(result),
        "",
        "## Alert threshold",
        f"An alert fires when a scan's risk is ≥ **{_f(result.threshold)}**. On the test "
        f"split that means **{_f(alerts.false_alerts_per_1000_on_time, 1)} false alerts per "
        f"1,000 on-time shipments**, catches {_pct(alerts.recall)} of late shipments at a "
        f"precision of {_pct(alerts.precision)}, with a median warning of "
        f"{_f(lead.median, 1)} h before the promise "
        f"({_pct(lead.late_shipments_alerted_at_least_24h_ahead)} of late shipments are "
        "alerted at least 24 h ahead).",
        "",
        "## Delivery-time interval",
        *_interval_lines(result.interval),
        "",
        "## Slices",
        "### By carrier",
        *_slice_rows(result.slices.carrier),
        "",
        "### By service level",
        *_slice_rows(result.slices.service_level),
        "",
        "## Plots",
        "`calibration.png` (reliability diagram), `roc.png` (model and baselines), "
        "`lead_time.png` (lead time of the model vs the best baseline at an equal false-alert "
        "rate). All numbers: `metrics.json`.",
        "",
        "## Known limitations",
        "- One time split: the test period is a single window; seasonality (peak weeks, "
        "holidays) outside it is not measured.",
        "- Per-scan metrics weight shipments with many scans more heavily.",
        "- Lead time is only defined for late shipments that were alerted; recall must be read "
        "with it.",
        "- Late labels for undelivered shipments come from a scan after the promise; shipments "
        "whose outcome was still unknown are left out, which can flatter the model.",
        "- Carriers, lanes or service levels unseen in training are scored as missing values; "
        "small slices above have wide uncertainty.",
        "- Risk calibration may drift as carrier performance changes; re-check the reliability "
        "diagram after retraining.",
        "",
    ]
    return "\n".join(lines)


def write_report(
    result: EvaluationResult, out_dir: Path, *, model_version: str, metadata: dict[str, Any]
) -> list[Path]:
    """Write ``metrics.json``, the three plots and ``model_card.md`` to ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics_path = out_dir / METRICS_FILE
    payload = {"model_version": model_version, **result.to_json()}
    metrics_path.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    calibration, roc, lead_time = (out_dir / name for name in PLOT_FILES)
    written = [
        metrics_path,
        _plot_calibration(result, calibration),
        _plot_roc(result, roc),
        _plot_lead_time(result, lead_time),
    ]
    card_path = out_dir / CARD_FILE
    card_path.write_text(_card(result, model_version, metadata), encoding="utf-8")
    written.append(card_path)
    return written
