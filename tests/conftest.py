from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.model_fixtures import TrainedModel, train_small_model

# Property tests are deterministic in CI (derandomized: the same examples on every run, no example
# database) and quick. PARCELWATCH_HYPOTHESIS_PROFILE=deep searches far more, randomly, by hand.
settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "deep",
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("PARCELWATCH_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> TrainedModel:
    """A real model trained once per test session on simulated history (about 30 s)."""
    return train_small_model(tmp_path_factory.mktemp("trained"))
