"""The reference runs, drawn once for all the simulator's tests."""

from __future__ import annotations

import pytest
from parcelwatch.streams.simulation import SimulatedEvent, generate_journeys

from tests.streams.simulation.journeys import BIG, NOW, SEASON, SEASON_END


@pytest.fixture(scope="package")
def big() -> list[SimulatedEvent]:
    return generate_journeys(BIG, now=NOW)


@pytest.fixture(scope="package")
def season() -> list[SimulatedEvent]:
    return generate_journeys(SEASON, now=SEASON_END)
