"""Is a trained model promotable? Its held-out figures against its own baselines.

A model is promotable only when, on the user's held-out split, its ROC-AUC is at least every
baseline's ROC-AUC and its PR-AUC at least every baseline's PR-AUC. The best baseline (by ROC-AUC,
ties by PR-AUC) is the one a worker falls back on when the model is not promotable.
``heldout_figures`` builds the ``heldout`` metadata document; ``promotion_verdict`` judges it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from parcelwatch.models.dataset import Examples
from parcelwatch.models.evaluation_result import EvaluationResult
from parcelwatch.schemas.timestamps import format_rfc3339

__all__ = ["Verdict", "best_baseline", "heldout_figures", "promotion_verdict"]


@dataclass(frozen=True)
class Verdict:
    promotable: bool
    reasons: tuple[str, ...]  # plain words, empty when promotable


def best_baseline(baselines: Mapping[str, Mapping[str, float | None]]) -> str | None:
    """The baseline with the highest ROC-AUC, ties broken by PR-AUC; None if none is defined."""
    ranked = [
        (figures["roc_auc"], figures.get("pr_auc") or 0.0, name)
        for name, figures in baselines.items()
        if figures.get("roc_auc") is not None
    ]
    return max(ranked)[2] if ranked else None


def _late_rate(examples: Examples) -> float:
    """Share of shipments that ended late (a shipment counts once, whatever its scan count)."""
    late: dict[str, bool] = {}
    for number, label in zip(examples.tracking_numbers, examples.late, strict=True):
        late[number] = late.get(number, False) or bool(label)
    return sum(late.values()) / len(late) if late else 0.0


def _period(examples: Examples) -> list[str]:
    return [format_rfc3339(min(examples.ordered_at)), format_rfc3339(max(examples.ordered_at))]


def heldout_figures(result: EvaluationResult, train: Examples, test: Examples) -> dict[str, Any]:
    """The model's and each baseline's held-out figures, and the data they come from."""
    baselines = {
        name: {"roc_auc": metrics.roc_auc, "pr_auc": metrics.pr_auc}
        for name, metrics in result.baselines.items()
    }
    return {
        "roc_auc": result.model.roc_auc,
        "pr_auc": result.model.pr_auc,
        "brier": result.model.brier,
        "baselines": baselines,
        "best_baseline": best_baseline(baselines),
        "train_late_rate": _late_rate(train),
        "test_late_rate": _late_rate(test),
        "train_period": _period(train),
        "test_period": _period(test),
    }


def promotion_verdict(heldout: Mapping[str, Any]) -> Verdict:
    """Not promotable when the model's ROC-AUC is below any baseline's, or its PR-AUC below any
    baseline's (each figure against the baseline best at it), or when the held-out split cannot
    tell (one class only: the figures are undefined)."""
    if heldout["roc_auc"] is None or heldout["pr_auc"] is None:
        return Verdict(
            False,
            (
                "the held-out split has late or on-time shipments only, so ROC-AUC and PR-AUC "
                "are undefined and the model cannot be compared with its baselines",
            ),
        )
    reasons = []
    for key, label in (("roc_auc", "ROC-AUC"), ("pr_auc", "PR-AUC")):
        figures = {
            name: figures[key]
            for name, figures in heldout["baselines"].items()
            if figures.get(key) is not None
        }
        if not figures:
            continue
        best = max(figures, key=lambda name: (figures[name], name))
        model, baseline = heldout[key], figures[best]
        if model < baseline:
            reasons.append(f"held-out {label} {model:.3f} < {best} {baseline:.3f}")
    return Verdict(not reasons, tuple(reasons))
