"""Score shipments in batches with a registered model: risk, predicted delivery, reasons."""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from parcelwatch.models.category_lookup import with_category_lookup
from parcelwatch.models.features import FEATURE_NAMES, FeatureEncoder, Row
from parcelwatch.models.registry import ModelBundle
from parcelwatch.models.tree_sums import risk_scorer, value_scorer


@dataclass(frozen=True, slots=True)
class RiskEstimate:
    risk: float  # calibrated probability that the shipment misses its promise
    expected_delivery: datetime
    earliest_delivery: datetime  # 10th percentile
    latest_delivery: datetime  # 90th percentile


class DelayRiskModel:
    """A loaded model; ``score`` makes one call per estimator for the whole batch."""

    def __init__(self, bundle: ModelBundle) -> None:
        names = bundle.metadata.get("feature_names")
        if names != list(FEATURE_NAMES):
            raise ValueError(
                f"model {bundle.version} was trained on other features; retrain with this version"
            )
        self.version = bundle.version
        self.threshold = float(bundle.metadata["alert_threshold"])
        self._encoder = encoder_of(bundle.metadata)
        # Copies that skip scikit-learn's per-call category encoding (the bundle is untouched),
        # scored by summing their trees directly where that gives the same values (tree_sums).
        self._classifier = _with_category_lookups(bundle.classifier)
        self._quantiles = {
            name: with_category_lookup(model) for name, model in bundle.quantile_models.items()
        }
        self._risk = risk_scorer(self._classifier)
        self._hours = {name: value_scorer(model) for name, model in self._quantiles.items()}

    def predict(self, rows: Sequence[Row]) -> tuple[np.ndarray, np.ndarray]:
        """Risk per row, and hours from the scan to delivery as columns p10, p50, p90."""
        features = self._encoder.transform(rows)
        risk = self._risk(self._encoder.classifier_features(features))
        hours = [self._hours[name](features) for name in ("p10", "p50", "p90")]
        # Quantile models are fitted separately and can cross; sort so p10 <= p50 <= p90.
        ordered = np.sort(np.column_stack(hours), axis=1)
        return risk, np.maximum(ordered, 0.0)  # delivery cannot be before the scan

    def score(self, rows: Sequence[Row], as_of: Sequence[datetime]) -> list[RiskEstimate]:
        if not rows:
            return []
        risk, ordered = self.predict(rows)
        return [
            RiskEstimate(
                risk=float(risk[i]),
                expected_delivery=as_of[i] + timedelta(hours=float(ordered[i, 1])),
                earliest_delivery=as_of[i] + timedelta(hours=float(ordered[i, 0])),
                latest_delivery=as_of[i] + timedelta(hours=float(ordered[i, 2])),
            )
            for i in range(len(rows))
        ]


def _with_category_lookups(classifier: Any) -> Any:
    """``with_category_lookup`` for a classifier, or for the boosted models inside its
    calibration."""
    calibrated = getattr(classifier, "calibrated_classifiers_", None)
    if not calibrated:
        return with_category_lookup(classifier)
    members = []
    for member in calibrated:
        faster = copy.copy(member)
        faster.estimator = with_category_lookup(member.estimator)
        members.append(faster)
    faster_classifier = copy.copy(classifier)
    faster_classifier.calibrated_classifiers_ = members
    return faster_classifier


def encoder_of(metadata: dict) -> FeatureEncoder:
    """The encoder a version was trained with: its kept columns and lane table, or for a model
    from before column selection, its vocabularies over the legacy columns."""
    if "feature_encoder" in metadata:
        return FeatureEncoder.from_json(metadata["feature_encoder"])
    return FeatureEncoder.from_json(metadata["feature_vocabularies"])


SIMILAR_SHIPMENTS_WERE_LATE = "shipments like this one, at this stage, were often late"


def plain_reasons(row: Row, estimate: RiskEstimate, promised_by: datetime | None) -> list[str]:
    """The main reasons in plain words, most telling first (at most three); never none: a model
    can rate a shipment risky from its carrier, service and lane alone, with no rule above."""
    reasons: list[tuple[float, str]] = []
    if promised_by is not None and estimate.expected_delivery > promised_by:
        late_by = (estimate.expected_delivery - promised_by).total_seconds() / 3600
        reasons.append((late_by, f"now expected {late_by:.0f} h after the promised time"))
    carrier_gap = row.get("carrier_estimate_minus_promise_hours")
    if _known(carrier_gap) and carrier_gap > 0:
        reasons.append((carrier_gap, f"the carrier's own estimate is {carrier_gap:.0f} h late"))
    if row.get("status") == "exception":
        reason = (row.get("status_reason") or "an exception").replace("_", " ")
        reasons.append((48.0, f"the carrier reports {reason}"))
    if _known(row.get("failed_attempts")) and row["failed_attempts"] > 0:
        reasons.append((36.0, f"{row['failed_attempts']:.0f} failed delivery attempt(s)"))
    still = row.get("hours_in_status")
    if _known(still) and still >= 24:
        reasons.append((still / 2, f"no progress for {still:.0f} h"))
    slack = row.get("hours_to_promise")
    if _known(slack) and slack < 24:
        reasons.append((24 - slack, f"only {max(slack, 0):.0f} h left before the promise"))
    if not reasons:
        return [SIMILAR_SHIPMENTS_WERE_LATE]
    return [text for _, text in sorted(reasons, key=lambda item: -item[0])[:3]]


def _known(value: object) -> bool:
    return isinstance(value, int | float) and not math.isnan(value)
