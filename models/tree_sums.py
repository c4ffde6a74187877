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

The compiled walk itself costs ~3.5 µs per call whatever the rows, so a live batch of a dozen
rows still paid ~1 ms for its ~270 calls. A small batch is therefore walked in one call per
model (``OneWalk``): every (row, tree) pair becomes a row of its own, and a small dispatching
tree in front of the model's trees sends each such row to its tree. Per pair that costs more
than the tree-by-tree walk, so large batches keep the tree-by-tree walk; the check covers both.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from parcelwatch.models.category_lookup import CategoryLookup, probe_rows

log = logging.getLogger(__name__)

Scorer = Callable[[np.ndarray], np.ndarray]

# Batches of up to this many rows are walked in one call per model (``OneWalk``), larger ones
# tree by tree. The bench model (267 trees in four models, one thread), both ways: 1 row 0.20 ms
# against 1.29, 12 rows 0.44 against 1.25, 32 rows 1.04 against 1.52; at 64 rows they are even.
ONE_WALK_MAX_ROWS = 32


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
        self._one_walk = OneWalk(self._trees, self._columns)

    def raw(self, features: np.ndarray) -> np.ndarray:
        if self._preprocessor is not None:
            values = self._preprocessor.transform(features)
        else:
            values = np.asarray(features, dtype=np.float64)
            if values.ndim != 2 or values.shape[1] != self._columns:
                raise ValueError(f"expected {self._columns} feature columns, got {values.shape}")
        threads = self._threads(None)
        if 0 < len(values) <= ONE_WALK_MAX_ROWS:
            return self._sum_in_one_walk(values, threads)
        total = np.zeros(len(values), dtype=self._baseline.dtype)
        total += self._baseline
        leaves = np.empty(len(values), dtype=np.float64)
        for nodes, left_categories in self._trees:
            self._walk_into(leaves, nodes, left_categories, values, threads)
            total += leaves
        return total

    def _sum_in_one_walk(self, values: np.ndarray, threads: int) -> np.ndarray:
        """``raw``'s sum from one compiled call: the baseline, then each tree's leaf value in
        tree order. ``add.accumulate`` adds one column after another, as the loop in ``raw``
        does (``sum`` would add pairwise, and round differently)."""
        walk = self._one_walk
        copies = walk.repeated(values)
        leaves = np.empty(len(copies), dtype=np.float64)
        self._walk_into(leaves, walk.nodes, walk.left_categories, copies, threads)
        table = np.empty((len(values), walk.count + 1), dtype=np.float64)
        table[:, 0] = 0.0
        table[:, 0] += self._baseline  # as ``raw`` starts: zeros plus the baseline
        table[:, 1:] = leaves.reshape(len(values), walk.count)
        return np.add.accumulate(table, axis=1)[:, -1]

    def _walk_into(
        self,
        out: np.ndarray,
        nodes: np.ndarray,
        left_categories: np.ndarray,
        values: np.ndarray,
        threads: int,
    ) -> None:
        """scikit-learn's compiled walk of ``nodes``: each row's leaf value, written to ``out``."""
        self._walk(
            nodes,
            values,
            left_categories,
            self._known_categories,
            self._feature_map,
            threads,
            out,
        )


class OneWalk:
    """A model's trees as one tree, for scikit-learn's compiled walk to go through once for a
    whole batch instead of once per tree.

    Each row is repeated once per tree, with the tree's number in an extra last column; in
    front of the trees, a balanced tree of numeric splits on that column (``number <= k - 0.5``)
    leads each copy to the root of its own tree. The trees' nodes are the model's own, with
    their child and category-bitset indices moved to where they now sit."""

    def __init__(self, trees: list[tuple[np.ndarray, np.ndarray]], columns: int) -> None:
        if not trees:
            raise ValueError("a model without trees")
        self.count, self._columns = len(trees), columns
        self._tree_numbers = np.arange(self.count, dtype=np.float64)
        dispatch = self.count - 1  # a balanced binary tree over n leaves has n - 1 splits
        starts = np.cumsum([dispatch] + [len(nodes) for nodes, _ in trees])
        bitset_starts = np.cumsum([0] + [len(bitsets) for _, bitsets in trees])
        self.nodes = np.zeros(starts[-1], dtype=trees[0][0].dtype)
        for number, (nodes, _) in enumerate(trees):
            moved, start = nodes.copy(), starts[number]
            moved["left"] += start.astype(moved["left"].dtype)  # a leaf's are never read
            moved["right"] += start.astype(moved["right"].dtype)
            moved["bitset_idx"] += bitset_starts[number].astype(moved["bitset_idx"].dtype)
            self.nodes[starts[number] : starts[number + 1]] = moved
        self.left_categories = np.ascontiguousarray(np.concatenate([b for _, b in trees]))
        self._add_splits(0, self.count, itertools.count(), starts)

    def _add_splits(self, first: int, end: int, free: Iterator[int], starts: np.ndarray) -> int:
        """The node that leads tree numbers ``first``..``end - 1`` to their roots: a tree's
        own root, or a split written at the next free dispatching slot (``free``)."""
        if end - first == 1:
            return int(starts[first])
        middle = (first + end) // 2
        index = next(free)
        node = self.nodes[index : index + 1]  # a view: the assignments below write the node
        node["feature_idx"] = self._columns
        node["num_threshold"] = middle - 0.5
        node["left"] = self._add_splits(first, middle, free, starts)
        node["right"] = self._add_splits(middle, end, free, starts)
        return index

    def repeated(self, values: np.ndarray) -> np.ndarray:
        """``values`` as the walk reads them: row r's copy for tree t at r * trees + t, the
        tree's number in the last column."""
        copies = np.empty((len(values), self.count, self._columns + 1), dtype=np.float64)
        copies[:, :, : self._columns] = values[:, None, :]
        copies[:, :, self._columns] = self._tree_numbers
        return copies.reshape(len(values) * self.count, self._columns + 1)


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
        expected = own(probe)
        # Whole (64 rows: tree by tree) and in batches of 1, 7, 24 and 32 rows (one walk each).
        small = [lean(part) for part in np.split(probe, [1, 8, ONE_WALK_MAX_ROWS])]
        same = np.array_equal(lean(probe), expected) and np.array_equal(
            np.concatenate(small), expected
        )
    except Exception as error:
        log.info("scores kept as scikit-learn's own (%s)", type(error).__name__)
        return own
    if not same:
        log.warning("tree sums differ from scikit-learn's scores on probe rows: not used")
        return own
    return lean
