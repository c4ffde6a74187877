"""What the simulator takes (its configuration) and gives (events to publish)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from parcelwatch.schemas.carrier_raw import RawCarrierPayload
from parcelwatch.schemas.feedback import Feedback
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import Order, Scan


@dataclass(frozen=True)
class SimulatedEvent:
    """One input message as a real system would publish it."""

    # which input topic: orders, carrier-scans, customer-feedback or carrier-raw (a scan sent as
    # a source's own payload: ``raw_payloads``)
    topic_kind: Literal["order", "scan", "feedback", "raw"]
    key: bytes  # the tracking number, UTF-8 (the order id for feedback)
    event: Order | Scan | Feedback | RawCarrierPayload
    emit_at: datetime  # when it is published (aware, UTC): occurred time plus reporting delay

    def topic(self, topics: TopicNames) -> str:
        if self.topic_kind == "feedback":
            return topics.customer_feedback
        if self.topic_kind == "raw":
            return topics.carrier_raw
        return topics.orders if self.topic_kind == "order" else topics.carrier_scans


@dataclass(frozen=True)
class SimulationConfig:
    """How many shipments, the seed, and how often each kind of trouble happens."""

    shipments: int = 100
    seed: int = 7
    duplicate_rate: float = 0.03  # share of scans re-sent with the same event_id
    out_of_order_rate: float = 0.05  # share of scans reported after a later scan
    exception_rate: float = 0.06  # shipments with a carrier exception episode
    failed_attempt_rate: float = 0.05  # shipments with at least one failed delivery attempt
    return_rate: float = 0.01  # shipments returned to sender (refused or undeliverable)
    never_picked_up_rate: float = 0.015  # labels created but the parcel never handed over
    window_days: float = 10.0  # orders are placed within this many days before ``now``
    storm_rate: float = 1.0  # how often storms form, relative to the usual climate (0: never)
    # Shipments whose customer writes back (``feedback``); drawn from a random stream of its own,
    # so the journeys are the same whatever this is.
    feedback_rate: float = 0.3

    def __post_init__(self) -> None:
        if self.shipments < 0:
            raise ValueError("shipments must not be negative")
        if self.window_days <= 0:
            raise ValueError("window_days must be positive")
        if self.storm_rate < 0:
            raise ValueError("storm_rate must not be negative")
        for name in (
            "duplicate_rate",
            "out_of_order_rate",
            "exception_rate",
            "failed_attempt_rate",
            "return_rate",
            "never_picked_up_rate",
            "feedback_rate",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
