"""Every booster's tree count is chosen on the latest training slice (early stopping), recorded
in the version's metadata and its model card, and the quantiles' rule does not depend on the
unit the delivery times are in."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from parcelwatch.models.features import FeatureEncoder
from parcelwatch.models.registry import ModelRegistry
from parcelwatch.models.train import (
    CLASSIFIER_PARAMS,
    QUANTILES,
    REGRESSOR_PARAMS,
    _fit_quantiles,
    calibration_split,
    pinball_loss,
)
from parcelwatch.streams.offline.ml_commands import mature_examples, train_command
from tests.models.synthetic_history import HistoryShape, write_synthetic_history

SHAPE = HistoryShape(shipments=800, days=120.0)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    return write_synthetic_history(tmp_path_factory.mktemp("history"), SHAPE)


@pytest.fixture(scope="module")
def train_split(history):
    examples = mature_examples(history.load(), 14)
    encoder = FeatureEncoder.fit(
        examples.rows,
        hours_to_delivery=examples.hours_to_delivery,
        shipment_ids=examples.tracking_numbers,
    )
    return examples, encoder, encoder.transform(examples.rows)


def test_tree_counts_are_early_stopped_and_recorded(history, tmp_path):
    version, _ = train_command(history, tmp_path / "models", maturity_days=14, test_fraction=0.2)
    registry = ModelRegistry(tmp_path / "models")
    metadata, bundle = registry.metadata(version), registry.load(version)

    trees = metadata["trees"]
    fitted = [c.estimator.n_iter_ for c in bundle.classifier.calibrated_classifiers_]
    assert trees["classifier"] == fitted
    assert trees["quantiles"] == {name: m.n_iter_ for name, m in bundle.quantile_models.items()}
    assert all(1 <= n <= CLASSIFIER_PARAMS["max_iter"] for n in fitted)
    assert all(1 <= n <= REGRESSOR_PARAMS["max_iter"] for n in trees["quantiles"].values())
    # A history of 800 shipments cannot use every tree the caps allow.
    counts = [*fitted, *trees["quantiles"].values()]
    assert sum(counts) < CLASSIFIER_PARAMS["max_iter"] + 3 * REGRESSOR_PARAMS["max_iter"]
    assert "latest training slice" in trees["chosen_on"]["quantiles"]

    card = (tmp_path / "models" / version / "MODEL_CARD.md").read_text()
    assert f"the classifier {' + '.join(map(str, fitted))} (" in card
    assert f"p50 {trees['quantiles']['p50']}" in card


def test_the_quantile_stopping_rule_is_the_same_in_hours_and_in_minutes(train_split):
    examples, encoder, features = train_split
    in_minutes = replace(examples, hours_to_delivery=examples.hours_to_delivery * 60)

    split = calibration_split(examples)
    hours_models, how = _fit_quantiles(encoder, features, examples, 0, split)
    minutes_models, _ = _fit_quantiles(encoder, features, in_minutes, 0, split)

    assert "latest training slice" in how
    hours_trees = {name: m.n_iter_ for name, m in hours_models.items()}
    assert hours_trees == {name: m.n_iter_ for name, m in minutes_models.items()}
    assert min(hours_trees.values()) < REGRESSOR_PARAMS["max_iter"]  # it did stop somewhere


def test_too_few_delivered_rows_in_the_latest_slice_keep_the_cap(train_split):
    examples, encoder, features = train_split
    split = calibration_split(examples)
    hours = examples.hours_to_delivery.copy()
    hours[split[1]] = np.nan  # nothing recent delivered yet
    nothing_recent = replace(examples, hours_to_delivery=hours)
    models, how = _fit_quantiles(encoder, features, nothing_recent, 0, split)

    assert set(models) == set(QUANTILES)
    assert {m.n_iter_ for m in models.values()} == {REGRESSOR_PARAMS["max_iter"]}
    assert how.startswith("the cap")


def test_pinball_loss_weighs_under_and_over_predictions_by_the_quantile():
    actual = np.array([10.0, 10.0])
    assert pinball_loss(actual, np.array([8.0, 8.0]), 0.9) == pytest.approx(1.8)  # under
    assert pinball_loss(actual, np.array([12.0, 12.0]), 0.9) == pytest.approx(0.2)  # over
    assert pinball_loss(actual, 10.0, 0.5) == 0.0
