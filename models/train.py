"""Fit the delay-risk classifier and the delivery-time quantile models on training examples.

Training must not crash on a legitimate history: columns that carry no information in the
training split are dropped by the encoder, and whatever the data cannot support becomes a
:class:`TrainingDataError` whose message describes the data, never a library traceback.

Drift: rows are weighted by recency (a half-life in days on the order time), and the classifier
is calibrated on the latest slice of the training split, so its probabilities follow the most
recent late rate rather than the average over the whole history.

Size: every booster's tree count is capped by its ``max_iter`` and chosen on the latest slice of
the training split by early stopping (the held-out loss no longer improves), then refitted with
that many trees. Every tree costs the worker time on every batch it scores, so a history that
needs 40 trees should not get 300.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import average_precision_score, roc_auc_score

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
REGRESSOR_PARAMS: dict[str, Any] = {"max_iter": 200, "learning_rate": 0.1, "min_samples_leaf": 50}

# Early stopping: fitting stops when the latest slice's loss has not improved for this many trees
# by more than a share of a constant prediction's loss (the quantile losses are in hours, so an
# absolute tolerance would mean one thing for parcels and another for freight).
EARLY_STOPPING_ROUNDS = 10
EARLY_STOPPING_RELATIVE_TOLERANCE = 1e-3
MIN_ROWS = 200
MIN_LATE_SHIPMENTS = 20
MIN_ON_TIME_SHIPMENTS = 20
MIN_DELIVERED_ROWS = 50  # for the delivery-time quantile models
DEFAULT_HALF_LIFE_DAYS = 180.0
CALIBRATION_FRACTION = 0.2  # the latest share of training shipments, by order time
MIN_CALIBRATION_LATE = 15  # late shipments the latest slice needs, else cross-validation
CROSS_VALIDATION_FOLDS = 3
# The baselines' own signals (slack to the promise, and to the lane's p90): on histories where
# lateness is mostly the promise's tightness, a classifier on these alone ranks better than one
# that also fits noise in every other feature. Chosen on the latest training slice, never on test.
BASELINE_SIGNALS = ("slack_after_lane_p90", "hours_to_promise")


class TrainingDataError(ValueError):
    """The training data cannot make a model; the message says what is wrong with the data."""


NotEnoughData = TrainingDataError  # its former name


@dataclass(frozen=True)
class FittedModels:
    encoder: FeatureEncoder
    classifier: Any
    quantile_models: dict[str, Any]
    calibration: dict[str, Any]  # how the probabilities were calibrated, for the model card
    half_life_days: float | None
    trees: dict[str, Any]  # each booster's tree count and how it was chosen, for the model card


def recency_weights(ordered_at: list[datetime], half_life_days: float | None) -> np.ndarray:
    """1 for the newest order, halving every ``half_life_days`` before it (None: all 1)."""
    if not half_life_days or not ordered_at:
        return np.ones(len(ordered_at), dtype=np.float64)
    newest = max(ordered_at)
    age_days = np.array([(newest - t).total_seconds() / 86400 for t in ordered_at])
    return np.power(0.5, age_days / half_life_days)


def describe_data(train: Examples) -> str:
    """Rows, shipments and late shipments of a training split, in words."""
    late = _late_shipments(train)
    return (
        f"{len(train)} training rows from {len(set(train.tracking_numbers))} shipments, "
        f"{len(late)} of them late"
    )


def _late_shipments(train: Examples) -> set[str]:
    return {n for n, late in zip(train.tracking_numbers, train.late, strict=True) if late}


def check_trainable(train: Examples) -> None:
    """Refuse, in words about the data, a training split no model can be fitted on."""
    shipments = set(train.tracking_numbers)
    late = _late_shipments(train)
    problems = []
    if len(train) < MIN_ROWS:
        problems.append(f"only {len(train)} rows in the training period (need at least {MIN_ROWS})")
    if len(late) < MIN_LATE_SHIPMENTS:
        problems.append(
            f"only {len(late)} late shipments in the training period "
            f"(need at least {MIN_LATE_SHIPMENTS})"
        )
    if len(shipments) - len(late) < MIN_ON_TIME_SHIPMENTS:
        problems.append(
            f"only {len(shipments) - len(late)} on-time shipments in the training period "
            f"(need at least {MIN_ON_TIME_SHIPMENTS})"
        )
    delivered = int(np.isfinite(train.hours_to_delivery).sum())
    if delivered < MIN_DELIVERED_ROWS:
        problems.append(
            f"only {delivered} rows of delivered shipments in the training period "
            f"(need at least {MIN_DELIVERED_ROWS} to learn delivery times)"
        )
    if problems:
        raise TrainingDataError(
            f"{'; '.join(problems)}: {describe_data(train)}; provide a longer history, "
            "or lower --maturity-days / --test-fraction"
        )


def fit_models(
    train: Examples, *, seed: int = 0, half_life_days: float | None = DEFAULT_HALF_LIFE_DAYS
) -> FittedModels:
    """Calibrated gradient boosting for P(late), quantile boosting for hours to delivery."""
    check_trainable(train)
    encoder = FeatureEncoder.fit(
        train.rows, hours_to_delivery=train.hours_to_delivery, shipment_ids=train.tracking_numbers
    )
    if not encoder.columns:
        raise TrainingDataError(
            f"every feature is constant or missing in the training period ({describe_data(train)})"
        )
    features = encoder.transform(train.rows)
    weights = recency_weights(train.ordered_at, half_life_days)
    try:
        # The latest slice: the classifier's calibration, and every booster's early stopping.
        split = calibration_split(train)
        fitted = _fit_classifier(encoder, features, train, weights, seed, split)
        encoder, classifier, calibration, classifier_trees = fitted
        quantile_models, quantile_trees = _fit_quantiles(encoder, features, train, seed, split)
    except (ValueError, IndexError, ZeroDivisionError, FloatingPointError) as error:
        if isinstance(error, TrainingDataError):
            raise
        raise TrainingDataError(
            f"the model cannot be fitted on this training data ({describe_data(train)}; "
            f"features used: {', '.join(encoder.columns)}): {error}"
        ) from error
    trees = {
        "classifier": [c.estimator.n_iter_ for c in classifier.calibrated_classifiers_],
        "quantiles": {name: model.n_iter_ for name, model in quantile_models.items()},
        "chosen_on": {"classifier": classifier_trees, "quantiles": quantile_trees},
    }
    return FittedModels(encoder, classifier, quantile_models, calibration, half_life_days, trees)


def _booster(
    encoder: FeatureEncoder, columns: tuple[str, ...], seed: int, **params: Any
) -> HistGradientBoostingClassifier:
    positions = encoder.positions(columns)
    return HistGradientBoostingClassifier(
        categorical_features=encoder.categorical_mask[positions],
        monotonic_cst=encoder.monotonic_cst[positions],
        random_state=seed,
        **{**CLASSIFIER_PARAMS, **params},
    )


def _early_stopping(**params: Any) -> dict[str, Any]:
    """Booster parameters that stop adding trees once the validation loss stops improving."""
    return {"early_stopping": True, "n_iter_no_change": EARLY_STOPPING_ROUNDS, **params}


def _choose_classifier_columns(
    encoder: FeatureEncoder,
    features: np.ndarray,
    train: Examples,
    weights: np.ndarray,
    seed: int,
    earlier: np.ndarray,
    latest: np.ndarray,
) -> tuple[tuple[str, ...], int, dict[str, Any]]:
    """All kept columns, or the baseline signals alone: whichever, fitted on the earlier
    training orders, ranks the latest ones better (ROC-AUC + PR-AUC; ties keep all); and its
    tree count, early-stopped on the latest orders' loss."""
    signals = tuple(name for name in BASELINE_SIGNALS if name in encoder.columns)
    candidates = {"all kept features": encoder.columns}
    if signals and signals != encoder.columns:
        candidates["the baseline signals only"] = signals
    figures: dict[str, dict[str, float]] = {}
    for name, columns in candidates.items():
        positions = encoder.positions(columns)
        booster = _booster(encoder, columns, seed, **_early_stopping()).fit(
            features[earlier][:, positions],
            train.late[earlier],
            sample_weight=weights[earlier],
            X_val=features[latest][:, positions],
            y_val=train.late[latest],
            sample_weight_val=weights[latest],
        )
        risk = booster.predict_proba(features[latest][:, positions])[:, 1]
        figures[name] = {
            "roc_auc": float(roc_auc_score(train.late[latest], risk)),
            "pr_auc": float(average_precision_score(train.late[latest], risk)),
            "trees": int(booster.n_iter_),
        }
    chosen = max(
        figures,
        key=lambda n: (figures[n]["roc_auc"] + figures[n]["pr_auc"], n == "all kept features"),
    )
    selection = {"chosen": chosen, "on_latest_training_slice": figures}
    return candidates[chosen], figures[chosen]["trees"], selection


def _fit_classifier(
    encoder: FeatureEncoder,
    features: np.ndarray,
    train: Examples,
    weights: np.ndarray,
    seed: int,
    split: tuple[np.ndarray, np.ndarray],
) -> tuple[FeatureEncoder, Any, dict[str, Any], str]:
    earlier, latest = split
    late_in_latest = len(_late_shipments(train.subset(latest)))
    late_in_earlier = len(_late_shipments(train.subset(earlier)))
    columns = encoder.columns
    if late_in_latest >= MIN_CALIBRATION_LATE and late_in_earlier >= MIN_CALIBRATION_LATE:
        columns, trees, selection = _choose_classifier_columns(
            encoder, features, train, weights, seed, earlier, latest
        )
        # One split: the booster learns on the earlier orders, the sigmoid on the latest ones.
        cv: Any = [(np.flatnonzero(earlier), np.flatnonzero(latest))]
        booster = _booster(encoder, columns, seed, max_iter=trees)
        calibration = {
            "method": "sigmoid",
            "on": f"the latest {CALIBRATION_FRACTION:.0%} of training shipments by order time",
            "late_shipments": late_in_latest,
            "classifier_features": selection,
        }
        trees_chosen_on = "early stopping on the latest training slice's log loss"
    else:
        # Sigmoid over folds: isotonic steps would tie many scores and cost ranking.
        cv = CROSS_VALIDATION_FOLDS
        # Too few recent late shipments to stop on: each fold's booster stops on a random 10%
        # of its own rows (scikit-learn's split, stratified by the label).
        booster = _booster(encoder, columns, seed, **_early_stopping(validation_fraction=0.1))
        calibration = {
            "method": "sigmoid",
            "on": f"{CROSS_VALIDATION_FOLDS}-fold cross-validation",
            "why": f"only {late_in_latest} late shipments among the latest "
            f"{CALIBRATION_FRACTION:.0%} of training orders (need {MIN_CALIBRATION_LATE})",
        }
        trees_chosen_on = "early stopping on a random 10% of each fold's rows"
    encoder = replace(encoder, classifier_columns=columns)
    classifier = CalibratedClassifierCV(booster, method="sigmoid", cv=cv)
    classifier.fit(encoder.classifier_features(features), train.late, sample_weight=weights)
    return encoder, classifier, calibration, trees_chosen_on


def calibration_split(train: Examples) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the earlier and the latest ``CALIBRATION_FRACTION`` of shipments by order time."""
    order_time = dict(zip(train.tracking_numbers, train.ordered_at, strict=True))
    shipments = sorted(order_time, key=lambda n: (order_time[n], n))
    latest = set(shipments[int(len(shipments) * (1 - CALIBRATION_FRACTION)) :])
    in_latest = np.array([n in latest for n in train.tracking_numbers], dtype=bool)
    return ~in_latest, in_latest


def _fit_quantiles(
    encoder: FeatureEncoder,
    features: np.ndarray,
    train: Examples,
    seed: int,
    split: tuple[np.ndarray, np.ndarray],
) -> tuple[dict[str, Any], str]:
    """One quantile booster per ``QUANTILES`` entry, on the delivered rows, and how their tree
    counts were chosen: on the latest slice of ``split`` (``calibration_split``) when it and the
    earlier one have enough delivered rows (then refitted on all of them), else the cap."""
    # Unweighted: weighted quantile leaves cost scikit-learn about ten times the fitting time,
    # and the recency weights are there for the late rate, which the classifier learns.
    hours = train.hours_to_delivery
    delivered = ~np.isnan(hours)
    earlier, latest = (delivered & part for part in split)
    stop_on_latest = min(earlier.sum(), latest.sum()) >= MIN_DELIVERED_ROWS

    def regressor(quantile: float, **params: Any) -> HistGradientBoostingRegressor:
        return HistGradientBoostingRegressor(
            loss="quantile",
            quantile=quantile,
            categorical_features=encoder.categorical_mask,
            random_state=seed,
            **{**REGRESSOR_PARAMS, **params},
        )

    models = {}
    for name, quantile in QUANTILES.items():
        trees = REGRESSOR_PARAMS["max_iter"]
        if stop_on_latest:
            constant = np.quantile(hours[earlier], quantile)
            tolerance = EARLY_STOPPING_RELATIVE_TOLERANCE * pinball_loss(
                hours[latest], constant, quantile
            )
            trees = (
                regressor(quantile, **_early_stopping(tol=tolerance))
                .fit(features[earlier], hours[earlier], X_val=features[latest], y_val=hours[latest])
                .n_iter_
            )
        models[name] = regressor(quantile, max_iter=trees)
        models[name].fit(features[delivered], hours[delivered])
    if stop_on_latest:
        return models, "early stopping on the latest training slice's pinball loss"
    return models, f"the cap: fewer than {MIN_DELIVERED_ROWS} delivered rows to stop on"


def pinball_loss(actual: np.ndarray, predicted: Any, quantile: float) -> float:
    """The mean quantile loss: under-predictions weigh ``quantile``, over-predictions the rest."""
    error = np.asarray(actual, dtype=np.float64) - predicted
    return float(np.mean(np.maximum(quantile * error, (quantile - 1) * error)))


def model_metadata(fitted: FittedModels, *, threshold: float) -> dict[str, Any]:
    """What a scorer needs besides the estimators; stored as JSON beside the artifact.

    ``feature_names`` are the keys of a feature row; ``feature_encoder`` turns rows into the
    matrix (vocabularies, lane transit table, the kept columns); ``dropped_features`` says why
    the other columns were left out.
    """
    return {
        "feature_names": list(FEATURE_NAMES),
        "feature_encoder": fitted.encoder.to_json(),
        "kept_features": list(fitted.encoder.columns),
        "classifier_features": list(fitted.encoder.classifier_columns or fitted.encoder.columns),
        "dropped_features": dict(fitted.encoder.dropped),
        "alert_threshold": threshold,
        "quantiles": QUANTILES,
        "classifier_params": CLASSIFIER_PARAMS,
        "regressor_params": REGRESSOR_PARAMS,
        "calibration": fitted.calibration,
        "recency_half_life_days": fitted.half_life_days,
        "trees": fitted.trees,
    }
