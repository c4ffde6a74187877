"""Tree sums: the same scores as scikit-learn's own methods, or those methods themselves."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from parcelwatch.models.category_lookup import with_category_lookup
from parcelwatch.models.registry import ModelRegistry
from parcelwatch.models.scoring import DelayRiskModel, _with_category_lookups
from parcelwatch.models.tree_sums import (
    ONE_WALK_MAX_ROWS,
    OneWalk,
    TreeSum,
    risk_scorer,
    value_scorer,
)
from parcelwatch.streams.offline.ml_commands import mature_examples

SMALL = {"max_iter": 12, "max_leaf_nodes": 6, "random_state": 0}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two numeric columns (one with gaps), two categorical ones (one with gaps)."""
    rng = np.random.default_rng(11)
    n = 400
    x = np.column_stack(
        [rng.normal(size=n), rng.normal(size=n), rng.integers(0, 6, n), rng.integers(0, 4, n)]
    ).astype(float)
    x[rng.random(n) < 0.1, 1] = np.nan
    x[rng.random(n) < 0.1, 3] = np.nan
    late = (x[:, 0] + (x[:, 2] > 2) + 0.5 * rng.normal(size=n) > 0.5).astype(int)
    hours = 10 * np.abs(x[:, 0]) + 3 * x[:, 2] + rng.normal(size=n)
    return x, late, hours


def rows(seed: int) -> np.ndarray:
    """Rows unlike the training ones too: unseen and negative categories, gaps everywhere."""
    rng = np.random.default_rng(seed)
    x = np.column_stack(
        [
            rng.normal(0, 3, 300),
            rng.normal(0, 3, 300),
            rng.integers(-2, 9, 300),
            rng.integers(-1, 6, 300),
        ]
    ).astype(float)
    x[rng.random(x.shape) < 0.15] = np.nan
    return x


@pytest.mark.parametrize("categorical", [[False, False, True, True], None])
def test_a_regressors_tree_sum_gives_its_predictions_to_the_bit(data, categorical):
    x, _, hours = data
    regressor = HistGradientBoostingRegressor(
        loss="quantile", quantile=0.9, categorical_features=categorical, **SMALL
    ).fit(x, hours)
    faster = with_category_lookup(regressor)
    score = value_scorer(faster)
    assert score != faster.predict  # the tree sum passed its check
    probe = rows(3)
    assert np.array_equal(score(probe), regressor.predict(probe))


def test_a_calibrated_classifiers_members_are_averaged_as_scikit_learn_does(data):
    x, late, _ = data
    booster = HistGradientBoostingClassifier(
        categorical_features=[False, False, True, True], **SMALL
    )
    classifier = CalibratedClassifierCV(booster, method="sigmoid", cv=3).fit(x, late)
    faster = _with_category_lookups(classifier)
    risk = risk_scorer(faster)
    faster.predict_proba = refused  # the tree sum passed its check: it never calls this
    probe = rows(4)
    expected = classifier.predict_proba(probe)[:, 1]
    assert np.array_equal(risk(probe), expected)
    assert 0 < expected.min() < expected.max() < 1  # the probe reaches different leaves


def test_a_model_of_another_shape_keeps_scikit_learns_own_method(data, caplog):
    x, late, _ = data
    booster = HistGradientBoostingClassifier(**SMALL)
    isotonic = CalibratedClassifierCV(booster, method="isotonic", cv=2).fit(x, late)
    three_classes = HistGradientBoostingClassifier(**SMALL).fit(x, late + (x[:, 1] > 1))
    with caplog.at_level(logging.INFO, logger="parcelwatch.models.tree_sums"):
        risk = risk_scorer(isotonic)
        probe = rows(5)
        assert np.array_equal(risk(probe), isotonic.predict_proba(probe)[:, 1])
        with pytest.raises(ValueError, match="one tree per iteration"):
            TreeSum(three_classes)
        assert value_scorer(three_classes) == three_classes.predict
    assert "kept as scikit-learn's own" in caplog.text


def test_tree_sums_that_differ_on_the_probe_are_not_used(data, monkeypatch, caplog):
    x, _, hours = data
    regressor = HistGradientBoostingRegressor(**SMALL).fit(x, hours)
    real_raw = TreeSum.raw
    monkeypatch.setattr(TreeSum, "raw", lambda self, features: real_raw(self, features) + 1e-12)
    with caplog.at_level(logging.WARNING, logger="parcelwatch.models.tree_sums"):
        assert value_scorer(regressor) == regressor.predict
    assert "differ" in caplog.text


def test_small_batches_are_walked_in_one_call_and_give_the_same_floats(data, monkeypatch):
    x, _, hours = data
    regressor = HistGradientBoostingRegressor(
        loss="quantile", quantile=0.5, categorical_features=[False, False, True, True], **SMALL
    ).fit(x, hours)
    score = value_scorer(with_category_lookup(regressor))
    walks: list[int] = []
    real_repeated = OneWalk.repeated

    def counted(self, values):
        walks.append(len(values))
        return real_repeated(self, values)

    monkeypatch.setattr(OneWalk, "repeated", counted)
    probe = rows(6)
    for size in (1, 2, 12, ONE_WALK_MAX_ROWS, ONE_WALK_MAX_ROWS + 1, 300):
        walks.clear()
        assert np.array_equal(score(probe[:size]), regressor.predict(probe[:size]))
        assert walks == ([size] if size <= ONE_WALK_MAX_ROWS else [])


def test_a_model_of_one_tree_needs_no_dispatching_splits(data):
    x, _, hours = data
    regressor = HistGradientBoostingRegressor(max_iter=1, max_leaf_nodes=6).fit(x, hours)
    trees = TreeSum(regressor)
    probe = rows(7)[:5]
    assert np.array_equal(trees.raw(probe), regressor._raw_predict(probe).ravel())
    assert len(trees._one_walk.nodes) == len(regressor._predictors[0][0].nodes)


def test_a_one_walk_that_differs_on_the_probe_is_not_used(data, monkeypatch, caplog):
    x, _, hours = data
    regressor = HistGradientBoostingRegressor(**SMALL).fit(x, hours)
    real_sum = TreeSum._sum_in_one_walk
    monkeypatch.setattr(TreeSum, "_sum_in_one_walk", lambda *args: real_sum(*args) + 1e-12)
    with caplog.at_level(logging.WARNING, logger="parcelwatch.models.tree_sums"):
        assert value_scorer(regressor) == regressor.predict
    assert "differ" in caplog.text


def test_rows_of_the_wrong_width_are_refused(data):
    x, _, hours = data
    trees = TreeSum(HistGradientBoostingRegressor(**SMALL).fit(x, hours))
    with pytest.raises(ValueError, match="expected 4 feature columns"):
        trees.raw(x[:, :3])


def test_the_trained_models_score_through_tree_sums(trained):
    model = DelayRiskModel(ModelRegistry(trained.model_dir).load(trained.version))
    assert all(model._hours[q] != model._quantiles[q].predict for q in ("p10", "p50", "p90"))
    examples = mature_examples(trained.files.load(), maturity_days=14).rows[:500]
    features = model._encoder.classifier_features(model._encoder.transform(examples))
    expected = model._classifier.predict_proba(features)[:, 1]
    model._classifier.predict_proba = refused  # the risk comes from the tree sums alone
    assert np.array_equal(model._risk(features), expected)
    live_batch = features[:12]  # walked in one call per model
    assert np.array_equal(model._risk(live_batch), expected[:12])


def refused(features: np.ndarray) -> np.ndarray:
    raise AssertionError("scikit-learn's predict_proba was called")
