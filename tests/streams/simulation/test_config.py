"""The simulation's configuration: counts, rates and the window are checked when it is made."""

from __future__ import annotations

import pytest
from parcelwatch.streams.simulation import SimulationConfig


@pytest.mark.parametrize(
    "wrong",
    [
        {"shipments": -1},
        {"window_days": 0},
        {"storm_rate": -0.5},
        {"duplicate_rate": 1.5},
        {"out_of_order_rate": -0.1},
        {"exception_rate": 2.0},
        {"failed_attempt_rate": -1.0},
        {"return_rate": 1.01},
        {"never_picked_up_rate": -0.01},
    ],
    ids=lambda wrong: next(iter(wrong)),
)
def test_a_configuration_out_of_range_is_refused(wrong: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(wrong))):
        SimulationConfig(**wrong)  # type: ignore[arg-type]


def test_the_bounds_themselves_are_accepted() -> None:
    config = SimulationConfig(shipments=0, duplicate_rate=0.0, return_rate=1.0, storm_rate=0.0)
    assert (config.shipments, config.duplicate_rate, config.return_rate) == (0, 0.0, 1.0)
