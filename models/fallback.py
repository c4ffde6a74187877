"""The scorer a worker runs when a trained model lost to its own baseline: the baseline itself.

``train`` registers a model that loses to its best baseline on the held-out split as *not
promotable* and stores what the baselines learnt (``baselines_fitted``) beside it. Rather than
run a worse model, the worker then scores with that baseline (:class:`BaselineScorer`): the
baseline's score becomes a probability through the risk curve it learnt on the training rows, so
the alert threshold means what it means for a model (a shipment whose promise is not known yet,
its order not seen, has no risk), and the predicted delivery is the lane's
p10/p50/p90 transit from the order time (never before the scan). Its version,
``baseline:<name>``, is what alerts and monitoring carry as ``model_version``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from parcelwatch.models.baselines import BASELINE_NAMES, Baselines, row_lane
from parcelwatch.models.features import Row
from parcelwatch.models.scoring import RiskEstimate

__all__ = [
    "BASELINE_VERSION_PREFIX",
    "DEFAULT_FALLBACK",
    "BaselineScorer",
    "best_baseline",
    "is_promotable",
]

BASELINE_VERSION_PREFIX = "baseline:"
DEFAULT_FALLBACK = "slack_to_promise"  # the strongest baseline on every history we have seen


def is_promotable(metadata: Mapping[str, Any]) -> bool:
    """Whether a version may run: versions trained before the gate existed carry no verdict."""
    return metadata.get("promotable") is not False


def best_baseline(metadata: Mapping[str, Any]) -> str:
    """The baseline ``train`` found best on the held-out split, else :data:`DEFAULT_FALLBACK`."""
    heldout = metadata.get("heldout")
    name = heldout.get("best_baseline") if isinstance(heldout, Mapping) else None
    return name if name in BASELINE_NAMES else DEFAULT_FALLBACK


class BaselineScorer:
    """Scores feature rows with one fitted baseline; same interface as ``DelayRiskModel``."""

    def __init__(
        self, baselines: Baselines, name: str, threshold: float, *, trained_with: str | None = None
    ) -> None:
        if name not in BASELINE_NAMES:
            raise ValueError(f"unknown baseline {name!r}: one of {', '.join(BASELINE_NAMES)}")
        self.name = name
        self.version = f"{BASELINE_VERSION_PREFIX}{name}"
        self.threshold = threshold
        self.trained_with = trained_with  # the model version whose training fitted the baseline
        self._baselines = baselines

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any], threshold: float) -> BaselineScorer:
        """The best baseline of a registered version; ``ValueError`` if it stored none."""
        fitted = metadata.get("baselines_fitted")
        if fitted is None:
            raise ValueError(
                f"model {metadata.get('version')} stores no fitted baselines to fall back on; "
                "retrain it with this version of parcelwatch"
            )
        return cls(
            Baselines.from_json(fitted),
            best_baseline(metadata),
            threshold,
            trained_with=metadata.get("version"),
        )

    def predict(self, rows: Sequence[Row]) -> tuple[np.ndarray, np.ndarray]:
        """Risk per row, and hours from the scan to delivery as columns p10, p50, p90."""
        risk = self._baselines.risk(self.name, rows)
        since_order = np.array(
            [row.get("hours_since_order") for row in rows], dtype=np.float64
        ).reshape(-1, 1)
        transit = np.array(
            [self._baselines.transit_for(row_lane(row)) for row in rows], dtype=np.float64
        ).reshape(-1, 3)
        # Unknown order time: the lane's transit counts from the scan.
        hours = transit - np.nan_to_num(since_order, nan=0.0)
        return risk, np.maximum(hours, 0.0)

    def score(self, rows: Sequence[Row], as_of: Sequence[datetime]) -> list[RiskEstimate]:
        if not rows:
            return []
        risk, hours = self.predict(rows)
        return [
            RiskEstimate(
                risk=float(risk[i]),
                expected_delivery=as_of[i] + timedelta(hours=float(hours[i, 1])),
                earliest_delivery=as_of[i] + timedelta(hours=float(hours[i, 0])),
                latest_delivery=as_of[i] + timedelta(hours=float(hours[i, 2])),
            )
            for i in range(len(rows))
        ]
