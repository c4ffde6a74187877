"""What a deployment produced: its output topics and its table's changelog, read to the end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from parcelwatch.schemas.state import stored_tracking_number
from parcelwatch.schemas.stored_value import load_stored
from parcelwatch.streams.devtools.chaos.deployment import Deployment
from parcelwatch.streams.devtools.chaos.kafka_io import read_to_end


@dataclass(frozen=True)
class Outputs:
    alerts: list[dict[str, Any]]
    notifications: list[dict[str, Any]]
    dead_letters: list[dict[str, Any]]
    states: dict[str, dict[str, Any]]  # tracking number -> last state in the changelog
    unreadable: int  # output or changelog records that are not JSON objects

    def counts(self) -> dict[str, int]:
        return {
            "alerts": len(self.alerts),
            "notifications": len(self.notifications),
            "dead_letters": len(self.dead_letters),
            "states": len(self.states),
        }


async def read_outputs(deployment: Deployment) -> Outputs:
    topics = deployment.topics
    records = await read_to_end(
        deployment.bootstrap,
        [topics.shipment_alerts, topics.customer_notifications, topics.dead_letter],
    )
    by_topic: dict[str, list[dict[str, Any]]] = {
        topics.shipment_alerts: [],
        topics.customer_notifications: [],
        topics.dead_letter: [],
    }
    unreadable = 0
    for record in records:
        value = _object_of(record.value, orjson.loads)
        if value is None:
            unreadable += 1
        else:
            by_topic[record.topic].append(value)
    states, unreadable_states = await read_states(deployment)
    return Outputs(
        alerts=by_topic[topics.shipment_alerts],
        notifications=by_topic[topics.customer_notifications],
        dead_letters=by_topic[topics.dead_letter],
        states=states,
        unreadable=unreadable + unreadable_states,
    )


async def read_states(deployment: Deployment) -> tuple[dict[str, dict[str, Any]], int]:
    """The last state per shipment in the table's changelog, and how many records were
    unreadable. Entries that are not a shipment's state (a worker may keep bookkeeping of its own
    in the table) are left out."""
    states: dict[str, dict[str, Any]] = {}
    unreadable = 0
    for record in await read_to_end(deployment.bootstrap, [deployment.changelog_topic]):
        key = _table_key(record.key)
        value = _object_of(record.value, load_stored)  # as the table stored it
        if key is None:
            unreadable += 1
        elif value is None:
            states.pop(key, None)  # a tombstone: the key was deleted
        else:
            states[key] = value
    shipments = {key: value for key, value in states.items() if _is_shipment_state(key, value)}
    return shipments, unreadable


def _is_shipment_state(key: str, value: dict[str, Any]) -> bool:
    return stored_tracking_number(value) == key


def _object_of(value: bytes | None, load: Callable[[bytes], Any]) -> dict[str, Any] | None:
    """``value`` decoded by ``load`` (``orjson.loads`` for a topic's events, ``load_stored`` for
    a table's changelog), or None when it is absent, unreadable or not an object."""
    if value is None:
        return None
    try:
        decoded = load(value)
    except ValueError:  # orjson.JSONDecodeError and StoredValueError are ValueErrors
        return None
    return decoded if isinstance(decoded, dict) else None


def _table_key(key: bytes | None) -> str | None:
    """Faust writes the table's ``str`` keys as JSON strings or raw UTF-8, by its serializer."""
    if key is None:
        return None
    try:
        decoded = orjson.loads(key)
    except orjson.JSONDecodeError:
        return key.decode("utf-8", errors="replace")
    return decoded if isinstance(decoded, str) else key.decode("utf-8", errors="replace")
