from __future__ import annotations

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(scope="session", autouse=True)
def _one_openmp_thread():
    """Gradient boosting fits here are small: on a shared machine, OpenMP threads contending
    for the cores cost ten times the fit itself. One thread is fast and gives the same models."""
    with threadpool_limits(limits=1, user_api="openmp"):
        yield
