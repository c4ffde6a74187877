"""Small synthetic order histories with a knob for each shape real histories take (issue 12).

Lateness is driven by how tight the promise is against the lane's typical transit: each lane has
a typical transit, a shipment's transit varies around it, and its promise sits at a random
quantile of that variation whose centre moves with ``late_rate_start`` -> ``late_rate_end`` over
the order period (drift). Exception scans, when enabled, add delay.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import NormalDist

import orjson

from parcelwatch.schemas.codec import to_jsonable
from parcelwatch.schemas.types import (
    Customer,
    ExceptionReason,
    Location,
    Order,
    Place,
    Scan,
    ShipmentStatus,
)
from parcelwatch.streams.offline.ml_commands import HistoryFiles

# Well before today: weeks-long transits of the last orders must not end in the future.
DATA_END = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PROMISE_SPREAD = 1.0  # how much promises vary in tightness (in units of the transit's spread)
TRANSIT_SPREAD = 0.25  # log-normal spread of a shipment's transit around its lane's


@dataclass(frozen=True)
class HistoryShape:
    shipments: int = 800
    days: float = 120.0  # orders spread over this many days before DATA_END - 30 days
    carriers: tuple[str, ...] = ("ups", "dhl", "fedex")
    service_levels: tuple[str, ...] = ("ground", "express")
    regions: tuple[str, ...] = ("CA", "NY", "TX", "WA")
    time_zones: tuple[str, ...] = ("America/New_York", "America/Los_Angeles")
    transit_days: tuple[float, float] = (2.0, 6.0)  # range of the lanes' typical transits
    late_rate_start: float = 0.15
    late_rate_end: float = 0.15
    exceptions: bool = True  # some shipments get an exception scan that delays them
    three_scans: bool = False  # label, pickup, delivered: nothing in between
    carrier_estimates: str = "always"  # "always", "never" or "test_only" (the latest 25%)
    places: bool = True  # orders carry origin and destination
    seed: int = 7


def _late_quantile(rate: float) -> float:
    """Centre of the promise's quantile so that about ``rate`` of shipments end late."""
    rate = min(max(rate, 1e-4), 1 - 1e-4)
    return math.sqrt(1 + PROMISE_SPREAD**2) * NormalDist().inv_cdf(1 - rate)


def generate(shape: HistoryShape) -> tuple[list[Order], list[Scan]]:
    rng = random.Random(shape.seed)
    first_order = DATA_END - timedelta(days=30 + shape.days)
    lanes = {
        (origin, destination, service): rng.uniform(*shape.transit_days)
        * (0.6 if service == "express" else 1.0)
        for origin in shape.regions
        for destination in shape.regions
        for service in shape.service_levels
    }
    orders: list[Order] = []
    scans: list[Scan] = []
    for index in range(shape.shipments):
        progress = index / max(shape.shipments - 1, 1)
        jitter = timedelta(minutes=rng.randint(0, 600))
        ordered_at = first_order + timedelta(days=shape.days * progress) + jitter
        number = f"SYN{shape.seed:03d}{index:07d}"
        carrier = rng.choice(shape.carriers)
        service = rng.choice(shape.service_levels)
        origin, destination = rng.choice(shape.regions), rng.choice(shape.regions)
        typical = lanes[(origin, destination, service)] * 24.0
        late_rate = shape.late_rate_start + (shape.late_rate_end - shape.late_rate_start) * progress
        promise_quantile = rng.gauss(_late_quantile(late_rate), PROMISE_SPREAD)
        promised_hours = typical * math.exp(TRANSIT_SPREAD * promise_quantile)
        transit = typical * math.exp(TRANSIT_SPREAD * rng.gauss(0, 1))
        exception_at = None
        if shape.exceptions and rng.random() < 0.1:
            exception_at = ordered_at + timedelta(hours=transit * 0.5)
            transit += rng.uniform(12, 72)
        zone = rng.choice(shape.time_zones)
        orders.append(
            Order(
                event_id=f"{number}-order",
                order_id=f"O-{number}",
                tracking_number=number,
                carrier=carrier,
                service_level=service,
                ordered_at=ordered_at,
                promised_by=ordered_at + timedelta(hours=promised_hours),
                origin=Place(region=origin, country="US") if shape.places else None,
                destination=Place(region=destination, country="US") if shape.places else None,
                customer=Customer(id=f"c-{index}", locale="en-US", timezone=zone),
            )
        )
        delivered_at = ordered_at + timedelta(hours=transit)
        in_test = progress >= 0.75
        estimate = shape.carrier_estimates == "always" or (
            shape.carrier_estimates == "test_only" and in_test
        )
        pickup_at = ordered_at + timedelta(hours=min(transit * 0.1, 20.0))
        moments = [
            (ShipmentStatus.INFO_RECEIVED, ordered_at + timedelta(hours=min(transit * 0.02, 2.0))),
            (ShipmentStatus.PICKED_UP, pickup_at),
        ]
        if not shape.three_scans:
            moments.append((ShipmentStatus.IN_TRANSIT, pickup_at + (delivered_at - pickup_at) / 3))
            if exception_at is not None:
                moments.append((ShipmentStatus.EXCEPTION, exception_at))
            out_for_delivery = delivered_at - timedelta(hours=min(6, transit / 10))
            moments.append((ShipmentStatus.OUT_FOR_DELIVERY, out_for_delivery))
        moments.sort(key=lambda item: item[1])
        moments.append((ShipmentStatus.DELIVERED, delivered_at))
        for step, (status, moment) in enumerate(moments):
            scans.append(
                Scan(
                    event_id=f"{number}-{step}",
                    tracking_number=number,
                    carrier=carrier,
                    status=status,
                    occurred_at=moment,
                    reason=ExceptionReason.CARRIER_DELAY
                    if status is ShipmentStatus.EXCEPTION
                    else None,
                    location=Location(region=origin, country="US") if shape.places else None,
                    estimated_delivery=delivered_at + timedelta(hours=rng.gauss(0, 12))
                    if estimate and status is not ShipmentStatus.DELIVERED
                    else None,
                )
            )
    return orders, scans


def write_synthetic_history(folder: Path, shape: HistoryShape) -> HistoryFiles:
    """Write ``shape``'s history as orders.jsonl and scans.jsonl in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    orders, scans = generate(shape)
    for name, events in (("orders.jsonl", orders), ("scans.jsonl", scans)):
        (folder / name).write_bytes(
            b"".join(orjson.dumps(to_jsonable(event)) + b"\n" for event in events)
        )
    return HistoryFiles(orders=[folder / "orders.jsonl"], scans=[folder / "scans.jsonl"])


def issue_shaped(shipments: int = 3000, seed: int = 12) -> HistoryShape:
    """Like the issue's history: one carrier, three scans, weeks of transit, late rate 7% -> 3%."""
    return HistoryShape(
        shipments=shipments,
        days=600.0,
        carriers=("correios",),
        service_levels=("standard",),
        transit_days=(10.0, 25.0),
        late_rate_start=0.07,
        late_rate_end=0.03,
        exceptions=False,
        three_scans=True,
        carrier_estimates="never",
        seed=seed,
    )
