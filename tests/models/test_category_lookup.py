"""The category lookup that replaces scikit-learn's per-call category encoding when scoring."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

from parcelwatch.models.category_lookup import CategoryLookup, with_category_lookup
from parcelwatch.models.registry import ModelRegistry
from parcelwatch.models.scoring import DelayRiskModel
from parcelwatch.streams.offline.ml_commands import mature_examples


def test_scores_are_the_same_with_the_lookup_as_with_scikit_learns_own_encoding(trained):
    registry = ModelRegistry(trained.model_dir)
    bundle = registry.load(trained.version)
    model = DelayRiskModel(bundle)  # copies with the lookup
    reference = registry.load(trained.version)  # as scikit-learn loaded it
    swapped = boosted(model._classifier, model._quantiles)
    assert all(isinstance(e._preprocessor, CategoryLookup) for e in swapped)
    # The bundle is left as it was: it may yet be saved, and the registry loads only its types.
    untouched = boosted(bundle.classifier, bundle.quantile_models)
    assert not any(isinstance(e._preprocessor, CategoryLookup) for e in untouched)

    rows = mature_examples(trained.files.load(), maturity_days=14).rows[:3000]
    risk, hours = model.predict(rows)

    encoder = model._encoder
    features = encoder.transform(rows)
    expected_risk = reference.classifier.predict_proba(encoder.classifier_features(features))[:, 1]
    expected_hours = [reference.quantile_models[q].predict(features) for q in ("p10", "p50", "p90")]
    assert np.array_equal(risk, expected_risk)
    assert np.array_equal(hours, np.maximum(np.sort(np.column_stack(expected_hours), axis=1), 0))


def boosted(classifier, quantiles: dict) -> list:
    """The boosted estimators inside a calibrated classifier, then the quantile models."""
    calibrated = classifier.calibrated_classifiers_
    return [member.estimator for member in calibrated] + list(quantiles.values())


def test_unknown_negative_and_missing_categories_are_missing_and_numbers_pass_through():
    lookup = CategoryLookup(
        np.array([False, True, False, True]),
        [np.array([1.0, 4.0, 7.0]), np.array([0.0, 2.0, np.nan])],
    )
    rows = np.array(
        [
            [0.5, 4.0, -3.0, 2.0],
            [np.nan, 7.0, 9.0, np.nan],
            [2.5, 5.0, 1e12, -1.0],
            [3.5, np.nan, 0.0, 0.0],
        ]
    )
    assert np.array_equal(
        lookup.transform(rows),
        np.array(
            [
                [1.0, 1.0, 0.5, -3.0],
                [2.0, np.nan, np.nan, 9.0],
                [np.nan, np.nan, 2.5, 1e12],
                [np.nan, 0.0, 3.5, 0.0],
            ]
        ),
        equal_nan=True,
    )


def test_a_model_without_categories_keeps_scikit_learns_own_step():
    rng = np.random.default_rng(3)
    features, target = rng.normal(size=(200, 3)), rng.normal(size=200)
    plain = HistGradientBoostingRegressor(max_iter=5).fit(features, target)
    assert with_category_lookup(plain) is plain


def test_a_lookup_that_disagrees_with_scikit_learn_is_not_used():
    rng = np.random.default_rng(4)
    features = np.column_stack([rng.integers(0, 5, 300), rng.normal(size=300)]).astype(float)
    model = HistGradientBoostingRegressor(max_iter=5, categorical_features=[True, False])
    model.fit(features, rng.normal(size=300))
    original = model._preprocessor
    original.named_transformers_["encoder"].unknown_value = -7  # the lookup says NaN
    assert with_category_lookup(model) is model
    assert model._preprocessor is original
