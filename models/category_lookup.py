"""Categories encoded for gradient boosting without scikit-learn's per-call machinery.

A HistGradientBoosting model fitted with categorical features encodes them again at every
``predict``, through a ColumnTransformer around an OrdinalEncoder: about 1.4 ms a call on this
machine whatever the number of rows (joblib, validation, a set lookup per column). The worker
makes four calls per batch (the classifier and three quantile models), so some 6 ms of every
batch went there before the first tree: most of the model's share of a live input's latency,
where batches are small.

``with_category_lookup`` gives a shallow copy of an estimator (the trees are shared; the original,
which may yet be saved, is left as it was) whose step is a numpy lookup giving the same matrix.
It is scikit-learn's internals (``_preprocessor``), so the swap is checked where it is made: on
probe rows built from the model's own categories (known, unknown and missing values) both steps
must give the same matrix, or the estimator is used as it is.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

PROBE_ROWS = 64


class CategoryLookup:
    """The fitted ColumnTransformer's output: the categorical columns as their index among the
    known categories (NaN when missing or unknown), then the numeric columns, as float64."""

    def __init__(self, categorical: np.ndarray, categories: list[np.ndarray]) -> None:
        self._columns = len(categorical)
        self._categorical = np.flatnonzero(categorical)
        self._numeric = np.flatnonzero(~np.asarray(categorical, dtype=bool))
        # OrdinalEncoder's categories are sorted, a missing value (NaN) last when seen in fitting.
        self._known = [known[~np.isnan(known)] for known in categories]

    def transform(self, features: Any) -> np.ndarray:
        values = np.asarray(features, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != self._columns:
            raise ValueError(f"expected {self._columns} feature columns, got {values.shape}")
        encoded = np.empty((len(values), self._columns), dtype=np.float64)
        columns = zip(self._categorical, self._known, strict=True)
        for position, (column, known) in enumerate(columns):
            raw = values[:, column]
            if not len(known):
                encoded[:, position] = np.nan
                continue
            at = np.searchsorted(known, raw)  # NaN sorts past the end
            found = known[np.minimum(at, len(known) - 1)] == raw
            encoded[:, position] = np.where(found, at, np.nan)
        encoded[:, len(self._categorical) :] = values[:, self._numeric]
        return encoded


def with_category_lookup(estimator: Any, seed: int = 0) -> Any:
    """A copy of ``estimator`` encoding categories with a ``CategoryLookup``, if both give the
    same matrix on probe rows; else ``estimator`` itself (no categories, another layout, another
    scikit-learn)."""
    preprocessor = getattr(estimator, "_preprocessor", None)
    categorical = getattr(estimator, "is_categorical_", None)
    if preprocessor is None or categorical is None:
        return estimator
    try:
        encoder = preprocessor.named_transformers_["encoder"]
        lookup = CategoryLookup(np.asarray(categorical, dtype=bool), list(encoder.categories_))
        probe = probe_rows(len(categorical), np.random.default_rng(seed), lookup)
        expected = preprocessor.transform(probe)
        same = np.array_equal(lookup.transform(probe), expected, equal_nan=True)
    except Exception as error:  # another scikit-learn's layout: keep its own step
        log.info("category encoding kept as scikit-learn's (%s)", type(error).__name__)
        return estimator
    if not same:
        log.warning("category lookup differs from scikit-learn's on probe rows: not used")
        return estimator
    faster = copy.copy(estimator)
    faster._preprocessor = lookup
    return faster


def probe_rows(
    columns: int, rng: np.random.Generator, lookup: CategoryLookup | None = None
) -> np.ndarray:
    """Rows of wide-ranging values, a tenth missing; in ``lookup``'s categorical columns its
    known categories, values between and beyond them, negatives and NaN."""
    rows = rng.normal(0, 100, size=(PROBE_ROWS, columns))
    rows[rng.random(rows.shape) < 0.1] = np.nan
    if lookup is None:
        return rows
    for column, known in zip(lookup._categorical, lookup._known, strict=True):
        top = known.max() if len(known) else 0.0
        pool = np.concatenate([known, [-1.0, top + 1, top + 0.5, 1e9, np.nan]])
        rows[:, column] = rng.choice(pool, size=PROBE_ROWS)
    return rows
