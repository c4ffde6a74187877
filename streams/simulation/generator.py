"""The entry points: draw many shipments' journeys (with their customers' feedback, or
without), or one journey's events."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from parcelwatch.streams.simulation.carriers import (
    _draw_carrier,
    _nominal_days,
    _service_weights,
    _tracking_number,
)
from parcelwatch.streams.simulation.chance import _weighted
from parcelwatch.streams.simulation.clock import _whole_seconds, _zone
from parcelwatch.streams.simulation.config import SimulatedEvent, SimulationConfig
from parcelwatch.streams.simulation.feedback import SimulatedRun, generate_feedback
from parcelwatch.streams.simulation.geography import _NY, _draw_lane, _postal_code
from parcelwatch.streams.simulation.journey import _Journey, _Plan
from parcelwatch.streams.simulation.output import _emitted, _order, _scan


def generate_journeys(config: SimulationConfig, *, now: datetime) -> list[SimulatedEvent]:
    """All events of ``config.shipments`` shipments ordered within ``window_days`` before ``now``.

    Journeys still under way are cut at ``now``: only events published by then are included, so
    every ``emit_at`` (and hence every event time) is at or before ``now``. Every shipment keeps at
    least its order. Sorted by ``emit_at``.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    events: list[SimulatedEvent] = []
    tracking_numbers: set[bytes] = set()
    for index in range(config.shipments):
        attempt = 0
        while True:  # a tracking number drawn twice (very rare) is drawn again, deterministically
            rng = random.Random(f"parcelwatch.simulate/{config.seed}/{index}/{attempt}")
            ordered_at = _order_time(rng, now, config.window_days)
            journey = journey_events(rng, index, ordered_at, config=config)
            if journey[0].key not in tracking_numbers:
                break
            attempt += 1
        tracking_numbers.add(journey[0].key)
        events.extend(event for event in journey if event.emit_at <= now)
    events.sort(key=lambda event: event.emit_at)
    return events


def generate_run(config: SimulationConfig, *, now: datetime) -> SimulatedRun:
    """:func:`generate_journeys` and the customer feedback written on them by ``now`` (at
    ``config.feedback_rate``; the journeys are the same whatever the rate)."""
    journeys = generate_journeys(config, now=now)
    return SimulatedRun(journeys, generate_feedback(journeys, config, now=now))


def journey_events(
    rng: random.Random,
    index: int,
    ordered_at: datetime,
    *,
    config: SimulationConfig | None = None,
) -> list[SimulatedEvent]:
    """The whole life of one shipment ordered at ``ordered_at`` (not cut), sorted by ``emit_at``.

    ``index`` numbers the merchant's orders (it becomes the order id). Storms come from the
    calendar of ``config.seed``.
    """
    if ordered_at.tzinfo is None:
        raise ValueError("ordered_at must be timezone-aware")
    config = config if config is not None else SimulationConfig()
    ordered_at = _whole_seconds(ordered_at.astimezone(UTC))
    lane = _draw_lane(rng)
    carrier = _draw_carrier(rng, lane)
    service = _weighted(rng, _service_weights(lane))
    plan = _Plan(
        index=index,
        carrier=carrier,
        service=service,
        origin=lane.origin,
        destination=lane.destination,
        destination_postal=_postal_code(rng, lane.destination),
        km=lane.km,
        international=lane.international,
        nominal_days=_nominal_days(service, lane.km, lane.international),
        tracking=_tracking_number(rng, carrier, service, lane.international),
    )
    order = _order(rng, plan, ordered_at)
    steps = _Journey(rng, plan, config, ordered_at).steps()
    scans = [_scan(plan, number, step) for number, step in enumerate(steps, start=1)]
    return _emitted(rng, plan, order, scans, config)


def _order_time(rng: random.Random, now: datetime, window_days: float) -> datetime:
    """An order time in the window, more often in the daytime (US Eastern as the shop's clock)."""
    span = window_days * 86400 - 180
    while True:
        at = now - timedelta(seconds=120 + rng.random() * span)
        hour = at.astimezone(_zone(_NY)).hour
        if rng.random() < (0.2 if hour < 7 else 1.0 if hour < 23 else 0.5):
            return _whole_seconds(at)
