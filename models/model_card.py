"""A Markdown model card rendered from a registered version's metadata alone.

It states what the numbers are and where they come from: the held-out figures against each
baseline, the periods and late rates of the train and test splits, the data's size, the
features kept and dropped (and why), how the model was calibrated, and the promotion verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["MODEL_CARD_FILE", "render_model_card"]

MODEL_CARD_FILE = "MODEL_CARD.md"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def render_model_card(metadata: Mapping[str, Any], version: str | None = None) -> str:
    """The card of the version whose metadata (as stored by the registry) is ``metadata``."""
    version = version or metadata.get("version") or "unregistered"
    heldout = metadata.get("heldout") or {}
    data = metadata.get("training_data") or {}
    metrics = metadata.get("metrics") or {}
    lines = [f"# Model card: delay-risk model {version}", ""]

    promotable = metadata.get("promotable")
    if promotable is None:
        lines.append("**Verdict:** unknown (trained before promotion verdicts).")
    elif promotable:
        lines.append("**Verdict:** promotable: on the held-out split the model matches or beats")
        lines.append("every baseline on ROC-AUC and on PR-AUC.")
    else:
        lines.append("**Verdict:** NOT promotable:")
        lines.append("")
        lines.extend(f"- {reason}" for reason in metadata.get("not_promotable_reasons", []))
    lines.append("")

    lines += ["## Held-out evaluation", ""]
    lines.append("Scored at every scan of the held-out (latest) shipments, trained on the earlier.")
    lines += ["", "| scorer | ROC-AUC | PR-AUC | Brier |", "|---|---|---|---|"]
    lines.append(
        f"| **the model** | {_number(heldout.get('roc_auc'))} | {_number(heldout.get('pr_auc'))} "
        f"| {_number(heldout.get('brier'))} |"
    )
    best = heldout.get("best_baseline")
    for name, figures in (heldout.get("baselines") or {}).items():
        label = f"{name} (best baseline)" if name == best else name
        lines.append(
            f"| {label} | {_number(figures.get('roc_auc'))} | {_number(figures.get('pr_auc'))} | |"
        )
    lines.append("")

    lines += ["## Data", "", "| | train | test |", "|---|---|---|"]
    train_period, test_period = heldout.get("train_period"), heldout.get("test_period")
    lines.append(f"| orders placed | {_period(train_period)} | {_period(test_period)} |")
    lines.append(
        f"| late rate (shipments) | {_share(heldout.get('train_late_rate'))} "
        f"| {_share(heldout.get('test_late_rate'))} |"
    )
    lines.append(
        f"| rows (scans) | {data.get('train_rows', 'n/a')} | {data.get('test_rows', 'n/a')} |"
    )
    lines.append(
        f"| shipments | {data.get('train_shipments', 'n/a')} "
        f"| {metrics.get('test_shipments', 'n/a')} |"
    )
    lines.append("")
    if data.get("files"):
        lines.append(f"Files: {', '.join(f'`{name}`' for name in data['files'])}")
        lines.append(f"(sha256 of their content: `{data.get('fingerprint', 'n/a')}`).")
        lines.append("")

    lines += ["## Features", ""]
    kept = metadata.get("kept_features") or metadata.get("feature_names") or []
    lines.append(f"Kept ({len(kept)}): {', '.join(kept)}.")
    classifier = metadata.get("classifier_features")
    if classifier and classifier != kept:
        selection = (metadata.get("calibration") or {}).get("classifier_features") or {}
        lines.append("")
        lines.append(
            f"The delay classifier takes {', '.join(classifier)} only: "
            f"{selection.get('chosen', 'this')} ranked the latest training slice better."
        )
    dropped = metadata.get("dropped_features") or {}
    if dropped:
        lines += ["", "Dropped, because they carried no information in the training split:", ""]
        lines.extend(f"- `{name}`: {why}" for name, why in dropped.items())
    lines.append("")

    lines += ["## Training", ""]
    calibration = metadata.get("calibration") or {}
    if calibration:
        how = f"{calibration.get('method', '?')} calibration on {calibration.get('on', '?')}"
        if calibration.get("why"):
            how += f"; {calibration['why']}"
        lines.append(f"- Probabilities: {how}.")
    trees = metadata.get("trees")
    if trees:
        lines.append(f"- Trees: {_tree_counts(trees)}.")
    half_life = metadata.get("recency_half_life_days")
    lines.append(
        "- Rows weighted by recency: "
        + ("no." if not half_life else f"a half-life of {half_life:g} days on the order time.")
    )
    if metadata.get("alert_threshold") is not None:
        lines.append(f"- Alert threshold: {metadata['alert_threshold']}.")
    return "\n".join(lines) + "\n"


def _tree_counts(trees: dict[str, Any]) -> str:
    """How many trees each booster has and how that was chosen (models trained since trees were
    early-stopped; older ones have no such entry)."""
    chosen_on = trees.get("chosen_on") or {}
    classifier = " + ".join(str(n) for n in trees.get("classifier") or []) or "?"
    quantiles = ", ".join(f"{name} {n}" for name, n in (trees.get("quantiles") or {}).items())
    return (
        f"the classifier {classifier} ({chosen_on.get('classifier', '?')}); "
        f"the delivery-time quantiles {quantiles or '?'} ({chosen_on.get('quantiles', '?')})"
    )


def _period(period: Any) -> str:
    if not period:
        return "n/a"
    return f"{period[0]} to {period[1]}"
