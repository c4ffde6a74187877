"""The crash loop's input: simulated journeys, the messages that carry them, and what the offline
replay says every shipment's state must end as."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from parcelwatch.schemas.codec import NO_MESSAGE_KEY, decode_order, decode_scan, encode
from parcelwatch.schemas.state import ShipmentState
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import Limits, Order, Scan
from parcelwatch.streams.devtools.chaos.kafka_io import Message
from parcelwatch.streams.offline.replay import replay
from parcelwatch.streams.simulation import SimulatedEvent, SimulationConfig, generate_journeys


@dataclass(frozen=True)
class Workload:
    """Orders and scans in the order they are produced (each list in publish order).

    Every order is produced and applied before any scan: the two live on different topics, so the
    order in which a worker interleaves them is not defined, and an order applied after its
    shipment's first scans gives other notifications (``order_confirmed`` only comes before the
    first physical scan). Orders first is also what the offline replay assumes.
    """

    orders: tuple[SimulatedEvent, ...]
    scans: tuple[SimulatedEvent, ...]
    generated_at: datetime

    @classmethod
    def simulate(cls, shipments: int, seed: int, now: datetime | None = None) -> Workload:
        # generate_journeys cuts every journey at ``now``: all event times are in the past, so
        # none is refused as "in the future" however long the run takes.
        now = now or utc_now()
        events = generate_journeys(SimulationConfig(shipments=shipments, seed=seed), now=now)
        return cls(
            orders=tuple(event for event in events if event.topic_kind == "order"),
            scans=tuple(event for event in events if event.topic_kind == "scan"),
            generated_at=now,
        )

    @property
    def shipments(self) -> int:
        return len({event.key for event in self.orders} | {event.key for event in self.scans})

    @property
    def events(self) -> int:
        return len(self.orders) + len(self.scans)

    def order_messages(self, topics: TopicNames) -> list[Message]:
        return [Message(topics.orders, event.key, self.encode(event)) for event in self.orders]

    def scan_messages(self, topics: TopicNames) -> list[Message]:
        return [
            Message(topics.carrier_scans, event.key, self.encode(event)) for event in self.scans
        ]

    @staticmethod
    def encode(event: SimulatedEvent) -> bytes:
        return encode(event.event)

    def input_ids(self) -> dict[str, list[str]]:
        """Each shipment's distinct event ids in the order they are first produced."""
        ids: dict[str, dict[str, None]] = {}
        for event in (*self.orders, *self.scans):
            ids.setdefault(event.event.tracking_number, {})[event.event.event_id] = None
        return {tracking: list(seen) for tracking, seen in ids.items()}

    def replayed_states(self) -> dict[str, ShipmentState]:
        """``offline.replay`` of the very bytes produced, decoded as the worker decodes them."""
        limits = Limits(max_payload_bytes=1 << 20)
        now = utc_now()
        orders: list[Order] = [
            decode_order(encode(event.event), key=NO_MESSAGE_KEY, now=now, limits=limits)
            for event in self.orders
        ]
        scans: list[Scan] = [
            decode_scan(encode(event.event), key=NO_MESSAGE_KEY, now=now, limits=limits)
            for event in self.scans
        ]
        return replay(orders, scans, now=now).final_states
