"""The gate: a model that loses to its best baseline on the held-out split is registered as not
promotable, with the reason in plain words; the model card states the figures behind it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from parcelwatch.models.baselines import fit_baselines
from parcelwatch.models.model_card import MODEL_CARD_FILE, render_model_card
from parcelwatch.models.registry import ModelRegistry
from parcelwatch.models.verdict import best_baseline, promotion_verdict
from parcelwatch.streams.cli import main
from parcelwatch.streams.offline import ml_commands
from tests.models.synthetic_history import HistoryShape, write_synthetic_history

SHAPE = HistoryShape(shipments=500, days=90.0, carriers=("ups",), exceptions=False)


class _WithOracle:
    """Fitted baselines plus one that knows each test row's outcome: no model can beat it."""

    def __init__(self, baselines):
        self._baselines = baselines

    def scores(self, test):
        return {**self._baselines.scores(test), "oracle": test.late.astype(np.float64)}

    def to_json(self):
        return self._baselines.to_json()  # the oracle cannot serve: it needs the outcome


@pytest.fixture(scope="module")
def losing(tmp_path_factory):
    root = tmp_path_factory.mktemp("losing")
    files = write_synthetic_history(root / "history", SHAPE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ml_commands, "fit_baselines", lambda train: _WithOracle(fit_baselines(train)))
        version, _ = ml_commands.train_command(
            files, root / "models", maturity_days=14, test_fraction=0.2, card=root / "card.md"
        )
    return root, version, ModelRegistry(root / "models").metadata(version)


def test_a_model_losing_to_its_baseline_is_registered_not_promotable(losing):
    root, version, metadata = losing
    assert ModelRegistry(root / "models").versions() == [version]
    assert metadata["promotable"] is False
    heldout = metadata["heldout"]
    assert heldout["best_baseline"] == "oracle"
    assert heldout["baselines"]["oracle"] == {"roc_auc": 1.0, "pr_auc": 1.0}
    roc_reason = f"held-out ROC-AUC {heldout['roc_auc']:.3f} < oracle 1.000"
    assert roc_reason in metadata["not_promotable_reasons"]


def test_the_heldout_document_follows_the_contract(losing):
    _, _, metadata = losing
    heldout = metadata["heldout"]
    assert set(heldout) == {
        "roc_auc", "pr_auc", "brier", "baselines", "best_baseline", "train_late_rate",
        "test_late_rate", "train_period", "test_period",
    }  # fmt: skip
    assert set(heldout["baselines"]) >= {"slack_to_promise", "lane_p90", "carrier_late_rate"}
    assert heldout["train_period"][1] <= heldout["test_period"][0]
    assert 0 < heldout["test_late_rate"] < 1 and 0 < heldout["train_late_rate"] < 1
    assert heldout["roc_auc"] == metadata["metrics"]["roc_auc"]


def test_the_model_card_is_written_beside_the_version_and_where_asked(losing):
    root, version, metadata = losing
    card = (root / "models" / version / MODEL_CARD_FILE).read_text()
    assert card == (root / "card.md").read_text() == render_model_card(metadata, version)
    assert ModelRegistry(root / "models").load(version).version == version  # still loads


def test_the_model_card_states_figures_periods_rates_features_and_verdict(losing):
    _, version, metadata = losing
    card = render_model_card(metadata, version)
    heldout = metadata["heldout"]
    assert version in card
    assert "NOT promotable" in card
    for reason in metadata["not_promotable_reasons"]:
        assert reason in card
    for name, figures in heldout["baselines"].items():
        assert f"| {name}" in card and f"{figures['roc_auc']:.3f}" in card
    assert f"| **the model** | {heldout['roc_auc']:.3f} | {heldout['pr_auc']:.3f}" in card
    assert f"{heldout['train_period'][0]} to {heldout['train_period'][1]}" in card
    assert f"{heldout['test_period'][0]} to {heldout['test_period'][1]}" in card
    assert f"| late rate (shipments) | {heldout['train_late_rate']:.1%} | " in card
    assert f" | {heldout['test_late_rate']:.1%} |" in card
    assert "`carrier`: one category only ('ups') in training" in card
    assert f"| rows (scans) | {metadata['training_data']['train_rows']} |" in card


def test_a_winning_model_is_promotable_and_its_card_says_so():
    figures = {
        "roc_auc": 0.9, "pr_auc": 0.5, "brier": 0.05, "best_baseline": "slack_to_promise",
        "baselines": {"slack_to_promise": {"roc_auc": 0.9, "pr_auc": 0.45},
                      "lane_p90": {"roc_auc": 0.8, "pr_auc": 0.4}},
    }  # fmt: skip
    verdict = promotion_verdict(figures)
    assert verdict.promotable and verdict.reasons == ()
    card = render_model_card({"promotable": True, "heldout": figures}, "v1")
    assert "**Verdict:** promotable" in card and "slack_to_promise (best baseline)" in card


def test_the_verdict_names_both_figures_of_each_shortfall():
    figures = {
        "roc_auc": 0.81, "pr_auc": 0.31, "best_baseline": "slack_to_promise",
        "baselines": {"slack_to_promise": {"roc_auc": 0.87, "pr_auc": 0.55}},
    }  # fmt: skip
    verdict = promotion_verdict(figures)
    assert not verdict.promotable
    assert verdict.reasons == (
        "held-out ROC-AUC 0.810 < slack_to_promise 0.870",
        "held-out PR-AUC 0.310 < slack_to_promise 0.550",
    )


def test_each_figure_is_judged_against_the_baseline_best_at_it():
    """Beating the best baseline by ROC-AUC is not enough if another one has the better PR-AUC."""
    figures = {
        "roc_auc": 0.9, "pr_auc": 0.5, "best_baseline": "slack_to_promise",
        "baselines": {"slack_to_promise": {"roc_auc": 0.9, "pr_auc": 0.45},
                      "lane_p90": {"roc_auc": 0.8, "pr_auc": 0.6}},
    }  # fmt: skip
    verdict = promotion_verdict(figures)
    assert not verdict.promotable
    assert verdict.reasons == ("held-out PR-AUC 0.500 < lane_p90 0.600",)


def test_an_undefined_heldout_figure_is_not_promotable():
    figures = {"roc_auc": None, "pr_auc": None, "best_baseline": None, "baselines": {}}
    verdict = promotion_verdict(figures)
    assert not verdict.promotable and "undefined" in verdict.reasons[0]


def test_the_best_baseline_is_by_roc_auc_then_pr_auc():
    baselines = {
        "a": {"roc_auc": 0.8, "pr_auc": 0.9},
        "b": {"roc_auc": 0.85, "pr_auc": 0.2},
        "c": {"roc_auc": 0.85, "pr_auc": 0.3},
        "d": {"roc_auc": None, "pr_auc": None},
    }
    assert best_baseline(baselines) == "c"
    assert best_baseline({"d": baselines["d"]}) is None


def test_train_prints_the_verdict_and_still_registers(tmp_path, capsys, monkeypatch):
    files = write_synthetic_history(tmp_path / "history", replace(SHAPE, seed=3))
    monkeypatch.setattr(
        ml_commands, "fit_baselines", lambda train: _WithOracle(fit_baselines(train))
    )
    code = main(
        ["train", "--orders", str(files.orders[0]), "--scans", str(files.scans[0]),
         "--model-dir", str(tmp_path / "models")]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "verdict: NOT promotable" in out and "< oracle 1.000" in out
    (version,) = ModelRegistry(tmp_path / "models").versions()
    assert out.strip().endswith(version)
