"""Scores from a fitted HistGradientBoosting model, its trees walked without scikit-learn's
per-call machinery.

The worker scores every batch with four boosted models (the calibrated classifier and three
quantile models, ~270 trees). scikit-learn's ``predict`` validates its input, looks up its
thread count and rebuilds the known-category bitsets on every call, and the calibrated
classifier fits a ``LabelEncoder`` per call: about 1.4 ms of every batch whatever its size (of
2.8 ms for one row, with the bench's 267 trees), on top of ~3.5 µs per tree for the compiled walk
itself. A live batch holds a dozen inputs, so that fixed cost was a large part of the model's
share of an input's latency.

``TreeSum`` keeps what those calls recompute (the trees' node arrays, the category bitsets, the
baseline) and sums the trees with scikit-learn's own compiled walk, in scikit-learn's order, so
the scores are the same floats. That walk and the fitted attributes it reads are scikit-learn
internals, so nothing here is trusted blindly: ``risk_scorer`` and ``value_scorer`` compare
their scores with the estimator's own on probe rows, and hand back the estimator's own method
when they differ, fail, or meet a model of another shape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from parcelwatch.models.category_lookup import CategoryLookup, probe_rows

log = logging.getLogger(__name__)

Scorer = Callable[[np.ndarray], np.ndarray]


class TreeSum:
    """The raw score of a fitted single-output HistGradientBoosting model: its baseline plus
    every tree's leaf value, added tree by tree as scikit-learn adds them."""

    def __init__(self, estimator: Any) -> None:
        # Imported here: a scikit-learn without them makes the constructor fail, and the caller
        # falls back to the estimator's own method.
        from sklearn.ensemble._hist_gradient_boosting._predictor import _predict_from_raw_data
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

        if getattr(estimator, "n_trees_per_iteration_", None) != 1:
            raise ValueError("only models with one tree per iteration")
        preprocessor = getattr(estimator, "_preprocessor", None)
        if preprocessor is not None and not isinstance(preprocessor, CategoryLookup):
            raise ValueError("categories must be encoded by a CategoryLookup")
        self._walk = _predict_from_raw_data
        self._threads = _openmp_effective_n_threads
        self._preprocessor = preprocessor
        self._columns = int(estimator.n_features_in_)
        self._baseline = np.asarray(estimator._baseline_prediction).reshape(-1)
        known, feature_map = estimator._bin_mapper.make_known_categories_bitsets()
        self._known_categories, self._feature_map = known, feature_map
        self._trees = [
            (predictor.nodes, predictor.raw_left_cat_bitsets)
            for (predictor,) in estimator._predictors
        ]

    def raw(self, features: np.ndarray) -> np.ndarray:
        if self._preprocessor is not None:
            values = self._preprocessor.transform(features)
        else:
            values = np.asarray(features, dtype=np.float64)
            if values.ndim != 2 or values.shape[1] != self._columns:
                raise ValueError(f"expected {self._columns} feature columns, got {values.shape}")
        total = np.zeros(len(values), dtype=self._baseline.dtype)
        total += self._baseline
        leaves = np.empty(len(values), dtype=np.float64)
        threads = self._threads(None)
        for nodes, left_categories in self._trees:
            self._walk(
                nodes,
                values,
                left_categories,
                self._known_categories,
                self._feature_map,
                threads,
                leaves,
            )
            total += leaves
        return total


def value_scorer(regressor: Any, seed: int = 0) -> Scorer:
    """``regressor.predict``, or the same values from its ``TreeSum``."""
    try:
        trees, inverse = TreeSum(regressor), regressor._loss.link.inverse
        lean = lambda features: inverse(trees.raw(features))  # noqa: E731
    except Exception as error:  # another scikit-learn's layout, or not a boosted model
        log.info("scores kept as scikit-learn's own (%s)", type(error).__name__)
        return regressor.predict
    return _checked(lean, regressor.predict, regressor, seed)


def risk_scorer(classifier: Any, seed: int = 0) -> Scorer:
    """The probability of the positive class (``classifier.predict_proba(...)[:, 1]``), from the
    trees of a binary classifier with sigmoid calibration where that gives the same values."""

    def own(features: np.ndarray) -> np.ndarray:
        return classifier.predict_proba(features)[:, 1]

    try:
        lean = _calibrated_risk(classifier)
    except Exception as error:
        log.info("risk kept as scikit-learn's own (%s)", type(error).__name__)
        return own
    return _checked(lean, own, classifier.calibrated_classifiers_[0].estimator, seed)


def _calibrated_risk(classifier: Any) -> Scorer:
    """``CalibratedClassifierCV.predict_proba(...)[:, 1]``: each member's sigmoid of its
    booster's raw score, averaged over the members in their order."""
    members = classifier.calibrated_classifiers_
    if len(classifier.classes_) != 2:
        raise ValueError("only binary classifiers")
    parts = []
    for member in members:
        if member.method != "sigmoid" or len(member.calibrators) != 1:
            raise ValueError("only one sigmoid per member")
        if list(member.estimator.classes_) != list(member.classes):
            raise ValueError("member classes in another order")
        parts.append((TreeSum(member.estimator), member.calibrators[0]))

    def risk(features: np.ndarray) -> np.ndarray:
        total = np.zeros(len(features), dtype=np.float64)
        for trees, calibrator in parts:
            total += calibrator.predict(trees.raw(features))
        total /= len(parts)
        return total

    return risk


def _checked(lean: Scorer, own: Scorer, booster: Any, seed: int) -> Scorer:
    """``lean`` where it gives exactly ``own``'s values on probe rows for ``booster``'s
    features, else ``own``."""
    try:
        lookup = getattr(booster, "_preprocessor", None)
        lookup = lookup if isinstance(lookup, CategoryLookup) else None
        probe = probe_rows(int(booster.n_features_in_), np.random.default_rng(seed), lookup)
        same = np.array_equal(lean(probe), own(probe))
    except Exception as error:
        log.info("scores kept as scikit-learn's own (%s)", type(error).__name__)
        return own
    if not same:
        log.warning("tree sums differ from scikit-learn's scores on probe rows: not used")
        return own
    return lean
