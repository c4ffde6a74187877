"""A simulator of orders and carrier scans, with its own ground truth (a tool, not the world).

The public API: draw journeys (``generate_journeys``), or one journey's events, and produce them.
"""

from parcelwatch.streams.simulation.simulator import (
    SimulatedEvent,
    SimulationConfig,
    Storm,
    easter_sunday,
    generate_journeys,
    journey_events,
    produce,
    public_holidays,
    storm_calendar,
)

__all__ = [
    "SimulatedEvent",
    "SimulationConfig",
    "Storm",
    "easter_sunday",
    "generate_journeys",
    "journey_events",
    "produce",
    "public_holidays",
    "storm_calendar",
]
