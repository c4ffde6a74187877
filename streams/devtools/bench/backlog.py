"""The backlog every contender reads: simulated journeys (orders and scans in publish order),
produced once per contender onto that contender's own input topics."""

from __future__ import annotations

import math
from dataclasses import dataclass

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.timestamps import utc_now
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.streams.devtools.chaos.kafka_io import Message, produce
from parcelwatch.streams.simulation import SimulationConfig, generate_journeys

# About the simulator's mean journey length: sizes the first simulation; the backlog is then cut
# to exactly the events asked for.
EVENTS_PER_SHIPMENT = 9.3


@dataclass(frozen=True)
class Backlog:
    """Encoded inputs in publish order: (is_order, key, value)."""

    events: tuple[tuple[bool, bytes, bytes], ...]

    @classmethod
    def simulate(cls, events: int, seed: int) -> Backlog:
        now = utc_now()
        shipments = max(1, math.ceil(events / EVENTS_PER_SHIPMENT))
        while True:
            # feedback_rate=0: the backlog is what the tracking agent reads (orders and scans).
            simulated = generate_journeys(
                SimulationConfig(shipments=shipments, seed=seed, feedback_rate=0.0), now=now
            )
            kept = [item for item in simulated if item.topic_kind in ("order", "scan")]
            if len(kept) >= events:
                break
            shipments = math.ceil(shipments * events / max(len(kept), 1) * 1.02) + 1
        # Cut in publish order: the newest events of the latest journeys are left out.
        return cls(
            tuple(
                (item.topic_kind == "order", item.key, encode(item.event)) for item in kept[:events]
            )
        )

    @property
    def shipments(self) -> int:
        return len({key for _, key, _ in self.events})

    def messages(self, topics: TopicNames) -> list[Message]:
        return [
            Message(topics.orders if is_order else topics.carrier_scans, key, value)
            for is_order, key, value in self.events
        ]

    def input_topics(self, topics: TopicNames) -> tuple[str, str]:
        return topics.orders, topics.carrier_scans


async def produce_backlog(bootstrap: str, topics: TopicNames, backlog: Backlog) -> None:
    await produce(bootstrap, backlog.messages(topics), window=5000)
