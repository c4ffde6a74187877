"""Training never crashes on a legitimate history (issue 12): one regression test per shape.

Each history is small and synthetic (tests/models/synthetic_history.py) with one knob turned to
the shape real histories take. ``train`` must register a version that loads and scores, or,
where the data truly cannot make a model, refuse with a TrainingDataError describing the data.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from parcelwatch.models.features import FeatureEncoder
from parcelwatch.models.registry import ModelRegistry
from parcelwatch.models.scoring import DelayRiskModel
from parcelwatch.models.train import TrainingDataError
from parcelwatch.streams.cli import main
from parcelwatch.streams.offline.ml_commands import mature_examples, train_command
from tests.models.synthetic_history import HistoryShape, issue_shaped, write_synthetic_history

BASE = HistoryShape(shipments=500, days=90.0)

# Each case: the shape, and the features its training split cannot inform (must be dropped).
SHAPES = {
    "constant_features": (
        replace(BASE, exceptions=False, places=False),
        {"exception_count", "failed_attempts", "status_reason", "international"},
    ),
    "feature_missing_everywhere": (
        replace(BASE, carrier_estimates="never"),
        {"hours_to_carrier_estimate", "carrier_estimate_minus_promise_hours"},
    ),
    "feature_present_only_in_test_period": (
        replace(BASE, carrier_estimates="test_only"),
        {"hours_to_carrier_estimate", "carrier_estimate_minus_promise_hours"},
    ),
    "one_carrier": (replace(BASE, carriers=("ups",)), {"carrier"}),
    "one_service_level": (replace(BASE, service_levels=("ground",)), {"service_level"}),
    "one_region": (replace(BASE, regions=("CA",)), {"origin_region", "destination_region"}),
    "one_time_zone": (replace(BASE, time_zones=("Europe/London",)), set()),
    "no_exceptions": (replace(BASE, exceptions=False), {"exception_count", "status_reason"}),
    "three_scans_per_shipment": (replace(BASE, three_scans=True), {"hours_in_status"}),
    "transits_of_weeks": (replace(BASE, transit_days=(14.0, 35.0), days=150.0), set()),
    "late_rate_shifting_7_to_3_percent": (
        replace(BASE, shipments=1500, late_rate_start=0.07, late_rate_end=0.03, days=200.0),
        set(),
    ),
    "few_late_shipments": (
        replace(BASE, shipments=700, late_rate_start=0.06, late_rate_end=0.06),
        set(),
    ),
}


@pytest.mark.parametrize("case", sorted(SHAPES))
def test_training_succeeds_on_a_legitimate_history(case, tmp_path):
    shape, uninformative = SHAPES[case]
    files = write_synthetic_history(tmp_path / "history", shape)
    version, result = train_command(files, tmp_path / "models", maturity_days=14, test_fraction=0.2)

    registry = ModelRegistry(tmp_path / "models")
    assert registry.versions() == [version]
    metadata = registry.metadata(version)
    assert uninformative <= set(metadata["dropped_features"]), metadata["dropped_features"]
    assert not uninformative & set(metadata["kept_features"])
    assert isinstance(metadata["promotable"], bool)
    # Serving builds the matrix the model was fitted on, from the same rows.
    model = DelayRiskModel(registry.load(version))
    rows = mature_examples(files.load(), 14).rows
    risk, hours = model.predict(rows)
    assert np.isfinite(risk).all() and ((risk >= 0) & (risk <= 1)).all()
    assert np.isfinite(hours).all()
    assert result.model.roc_auc is None or result.model.roc_auc > 0.5


def test_too_few_late_shipments_is_a_clear_data_error(tmp_path):
    shape = replace(BASE, shipments=300, late_rate_start=0.03, late_rate_end=0.03)
    files = write_synthetic_history(tmp_path / "history", shape)
    with pytest.raises(TrainingDataError, match=r"only \d+ late shipments in the training period"):
        train_command(files, tmp_path / "models", maturity_days=14, test_fraction=0.2)
    assert not (tmp_path / "models").exists()


def test_the_cli_prints_a_data_error_and_exits_2(tmp_path, capsys):
    shape = replace(BASE, shipments=300, late_rate_start=0.03, late_rate_end=0.03)
    files = write_synthetic_history(tmp_path / "history", shape)
    code = main(
        ["train", "--orders", str(files.orders[0]), "--scans", str(files.scans[0]),
         "--model-dir", str(tmp_path / "models")]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "late shipments in the training period (need at least 20)" in err
    assert "Traceback" not in err


def test_a_library_error_from_the_data_becomes_a_training_data_error(tmp_path, monkeypatch):
    # Without column selection, an all-missing column crashes scikit-learn's binning.
    original_fit = FeatureEncoder.fit.__func__

    def keep_everything(cls, rows, **kwargs):
        fitted = original_fit(cls, rows, **kwargs)
        return cls(fitted.vocabularies, fitted.columns + tuple(fitted.dropped), fitted.lane_transit)

    monkeypatch.setattr(FeatureEncoder, "fit", classmethod(keep_everything))
    files = write_synthetic_history(tmp_path / "history", replace(BASE, carrier_estimates="never"))
    with pytest.raises(TrainingDataError) as caught:
        train_command(files, tmp_path / "models", maturity_days=14, test_fraction=0.2)
    message = str(caught.value)
    assert "cannot be fitted on this training data" in message
    assert "late" in message and "hours_to_carrier_estimate" in message


def test_the_issue_shaped_history_trains(tmp_path):
    files = write_synthetic_history(tmp_path / "history", issue_shaped(shipments=1200))
    version, _ = train_command(files, tmp_path / "models", maturity_days=14, test_fraction=0.2)
    heldout = ModelRegistry(tmp_path / "models").metadata(version)["heldout"]
    assert heldout["train_late_rate"] > heldout["test_late_rate"]  # the drift is visible
