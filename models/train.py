"""Fit the delay-risk classifier and the delivery-time quantile models on training examples."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from parcelwatch.models.dataset import Examples
from parcelwatch.models.features import FEATURE_NAMES, FeatureEncoder

QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
DEFAULT_THRESHOLD = 0.5
# Chosen on simulator data for stability over raw fit: shallow trees, strong leaves, L2.
CLASSIFIER_PARAMS: dict[str, Any] = {
    "max_iter": 300,
    "learning_rate": 0.05,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 50,
    "l2_regularization": 1.0,
}
REGRESSOR_PARAMS: dict[str, Any] = {"max_iter": 200, "learning_rate": 0.05, "min_samples_leaf": 50}


class NotEnoughData(ValueError):
    pass


@dataclass(frozen=True)
class FittedModels:
    encoder: FeatureEncoder
    classifier: Any
    quantile_models: dict[str, Any]


def fit_models(train: Examples, *, seed: int = 0) -> FittedModels:
    """Calibrated gradient boosting for P(late), quantile boosting for hours to delivery."""
    late_count = int(train.late.sum())
    if len(train) < 200 or late_count < 20 or late_count == len(train):
        raise NotEnoughData(
            f"{len(train)} training rows with {late_count} late: need at least 200 rows, "
            "20 late and some on time"
        )
    encoder = FeatureEncoder.fit(train.rows)
    features = encoder.transform(train.rows)
    booster = HistGradientBoostingClassifier(
        categorical_features=encoder.categorical_mask, random_state=seed, **CLASSIFIER_PARAMS
    )
    # Sigmoid calibration over 3 folds: isotonic steps would tie many scores and cost ranking.
    classifier = CalibratedClassifierCV(booster, method="sigmoid", cv=3).fit(features, train.late)

    delivered = ~np.isnan(train.hours_to_delivery)
    quantile_models = {
        name: HistGradientBoostingRegressor(
            loss="quantile",
            quantile=quantile,
            categorical_features=encoder.categorical_mask,
            random_state=seed,
            **REGRESSOR_PARAMS,
        ).fit(features[delivered], train.hours_to_delivery[delivered])
        for name, quantile in QUANTILES.items()
    }
    return FittedModels(encoder, classifier, quantile_models)


def model_metadata(fitted: FittedModels, *, threshold: float) -> dict[str, Any]:
    """What a scorer needs besides the estimators; stored as JSON beside the artifact."""
    return {
        "feature_names": list(FEATURE_NAMES),
        "feature_vocabularies": fitted.encoder.to_json(),
        "alert_threshold": threshold,
        "quantiles": QUANTILES,
        "classifier_params": CLASSIFIER_PARAMS,
        "regressor_params": REGRESSOR_PARAMS,
    }
