from __future__ import annotations

import pytest

from tests.model_fixtures import TrainedModel, train_small_model


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> TrainedModel:
    """A real model trained once per test session on simulated history (about 30 s)."""
    return train_small_model(tmp_path_factory.mktemp("trained"))
