"""The baseline scorer a worker falls back on, and what it needs from ``train``'s metadata."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest

from parcelwatch.models.baselines import BASELINE_NAMES, Baselines, fit_baselines
from parcelwatch.models.fallback import BaselineScorer, best_baseline, is_promotable
from tests.models.test_evaluate import Ship, _at, make_examples


def _training_ships() -> list[Ship]:
    """Late exactly when the promise is tight: slack is the whole story."""
    ships = []
    for i in range(60):
        promised = 24.0 + (i % 12) * 8  # 24..112 h
        ships.append(Ship(f"S{i}", scans=[2.0, 20.0], promised=promised, delivered=60.0 + i % 5))
    return ships


@pytest.fixture(scope="module")
def baselines() -> Baselines:
    return fit_baselines(make_examples(_training_ships()))


def test_fitted_baselines_survive_json_exactly(baselines: Baselines) -> None:
    stored = json.loads(json.dumps(baselines.to_json(), allow_nan=False))
    assert Baselines.from_json(stored) == baselines
    assert set(baselines.risk_curves) == set(BASELINE_NAMES)


@pytest.mark.parametrize(
    "broken",
    [
        {"format": 99},
        "not an object",
        {"format": 1},  # nothing in it
    ],
)
def test_malformed_fitted_baselines_are_refused(broken) -> None:
    with pytest.raises(ValueError, match="fitted baselines"):
        Baselines.from_json(broken)


def test_a_risk_curve_that_is_not_a_probability_is_refused(baselines: Baselines) -> None:
    stored = baselines.to_json()
    stored["risk_curves"]["slack_to_promise"]["probabilities"][-1] = 1.5
    with pytest.raises(ValueError, match="between 0 and 1"):
        Baselines.from_json(stored)


def test_risk_curves_are_probabilities_that_rise_with_the_score(baselines: Baselines) -> None:
    for curve in baselines.risk_curves.values():
        assert all(0.0 <= p <= 1.0 for p in curve.probabilities)
        assert list(curve.probabilities) == sorted(curve.probabilities)
    slack = baselines.risk_curves["slack_to_promise"]
    # every training shipment promised within 56 h was late, every one promised later on time
    assert slack.probabilities[-1] == 1.0
    assert slack.probabilities[0] == 0.0


def test_the_scorer_ranks_like_its_baseline_and_predicts_lane_transit(
    baselines: Baselines,
) -> None:
    scorer = BaselineScorer(baselines, "slack_to_promise", threshold=0.5)
    assert scorer.version == "baseline:slack_to_promise"
    test = make_examples(
        [
            Ship("tight", scans=[10.0], promised=30.0, delivered=70.0),
            Ship("loose", scans=[10.0], promised=110.0, delivered=70.0),
        ]
    )
    estimates = scorer.score(test.rows, test.as_of)
    assert estimates[0].risk > 0.5 > estimates[1].risk
    low, mid, high = baselines.transit_for(("US-CA", "US-NY", "ground"))
    assert estimates[0].expected_delivery == _at(mid)  # ordered at 0: order + lane p50
    assert estimates[0].earliest_delivery == _at(low)
    assert estimates[0].latest_delivery == _at(high)


def test_the_predicted_delivery_is_never_before_the_scan(baselines: Baselines) -> None:
    scorer = BaselineScorer(baselines, "lane_p90", threshold=0.5)
    test = make_examples([Ship("slow", scans=[500.0], promised=48.0, delivered=None)])
    [estimate] = scorer.score(test.rows, test.as_of)
    assert estimate.earliest_delivery == estimate.latest_delivery == test.as_of[0]
    assert estimate.risk == pytest.approx(baselines.risk_curves["lane_p90"].probabilities[-1])


def test_a_row_without_a_promise_has_no_risk_to_alert_on(baselines: Baselines) -> None:
    """A scan that arrives before its order: no promise yet, so nothing to be late for."""
    row = {"hours_since_order": np.nan, "hours_to_promise": np.nan}
    for name in ("slack_to_promise", "lane_p90"):
        [estimate] = BaselineScorer(baselines, name, threshold=0.5).score([row], [_at(0)])
        assert estimate.risk == 0.0
        assert estimate.expected_delivery - _at(0) == timedelta(
            hours=baselines.global_transit_hours[1]
        )


def test_the_scorer_comes_from_a_versions_metadata(baselines: Baselines) -> None:
    metadata = {
        "version": "v20261202T000000Z-00000000",
        "promotable": False,
        "heldout": {"best_baseline": "lane_p90"},
        "baselines_fitted": baselines.to_json(),
    }
    scorer = BaselineScorer.from_metadata(metadata, threshold=0.4)
    assert (scorer.version, scorer.threshold) == ("baseline:lane_p90", 0.4)
    assert scorer.trained_with == metadata["version"]
    with pytest.raises(ValueError, match="no fitted baselines"):
        BaselineScorer.from_metadata({"version": "v1"}, threshold=0.4)


def test_verdicts_of_versions_from_before_the_gate() -> None:
    assert is_promotable({}) and is_promotable({"promotable": True})
    assert not is_promotable({"promotable": False})
    assert best_baseline({}) == "slack_to_promise"
    assert best_baseline({"heldout": {"best_baseline": "made_up"}}) == "slack_to_promise"
    with pytest.raises(ValueError, match="unknown baseline"):
        BaselineScorer(fit_baselines(make_examples(_training_ships())), "made_up", 0.5)
