"""Per-order feedback state: the order's shipments and the feedback waiting for them.

It lives in the ``shipments`` table under ``~order~<order id>`` (``~`` is not allowed in a tracking
number), on the partition of the order's feedback, so that the input ledger records it in the same
changelog as the partition's offsets: one table, one ordering, the same crash guarantees as a
shipment's state. Like ``ShipmentState`` it is a stored contract, with its own ``state_version``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from parcelwatch.schemas.codec import _Fields, to_jsonable
from parcelwatch.schemas.feedback import Feedback, TextAnalysis
from parcelwatch.schemas.feedback_codec import analysis_from_fields, feedback_from_fields
from parcelwatch.schemas.state import TimerSchedule, UnsupportedStateVersion, stored_customer
from parcelwatch.schemas.timestamps import parse_rfc3339
from parcelwatch.schemas.types import Customer, Limits

ORDER_STATE_VERSION = 1
ORDER_KEY_PREFIX = "~order~"
# An order's return and refund (streams/core/returns.py ``ReturnState``) lives beside its order
# index, on the same partition, under this prefix. Public: the lookup API reads it.
RETURN_KEY_PREFIX = "~return~"

# Bounds keep the table value far below a changelog message's 1 MB whatever customers write:
# feedback beyond them is not kept waiting but goes out unmatched at once (never dropped).
MAX_ORDER_SHIPMENTS = 50
MAX_WAITING_FEEDBACK = 20
MAX_WAITING_TEXT_CHARS = 100_000
MAX_SEEN_FEEDBACK_IDS = 200

# Stored values were validated on the way in; reading them back only needs generous bounds.
_STORED = Limits(max_payload_bytes=1 << 30)


def order_key(order_id: str) -> str:
    return ORDER_KEY_PREFIX + order_id


def is_order_key(key: str) -> bool:
    return key.startswith(ORDER_KEY_PREFIX)


def return_key(order_id: str) -> str:
    return RETURN_KEY_PREFIX + order_id


def is_return_key(key: str) -> bool:
    return key.startswith(RETURN_KEY_PREFIX)


def order_id_of(key: str) -> str | None:
    """The order id of an ``~order~`` or ``~return~`` key, else None."""
    for prefix in (ORDER_KEY_PREFIX, RETURN_KEY_PREFIX):
        if key.startswith(prefix):
            return key.removeprefix(prefix)
    return None


@dataclass(frozen=True, slots=True)
class LinkedShipment:
    tracking_number: str
    partition: int  # where the shipment's state lives: forwarded feedback is sent there
    carrier: str | None = None  # added within order state version 1 (absent: unknown)


@dataclass(frozen=True, slots=True)
class WaitingFeedback:
    """Feedback already read, kept for the order's shipments: waiting for the first one, or,
    once forwarded, for shipments of the order that come later (a split order's second parcel)."""

    feedback: Feedback
    analysis: TextAnalysis
    analyzer_version: str
    wait_until: datetime  # then, if still waiting, it goes out unmatched; if forwarded, forgotten


@dataclass(frozen=True, slots=True)
class OrderFeedbackState:
    order_id: str
    shipments: tuple[LinkedShipment, ...] = ()
    waiting: tuple[WaitingFeedback, ...] = ()  # no shipment of the order known yet
    forwarded: tuple[WaitingFeedback, ...] = ()  # sent to the shipments known; kept for later ones
    seen_feedback_ids: tuple[str, ...] = ()  # input event ids: a redelivery is a duplicate
    timer: TimerSchedule = field(default_factory=TimerSchedule)  # next check: earliest wait_until
    # The order's customer, from its shipments' links (added within order state version 1): the
    # return and refund notices are sent to them.
    customer: Customer | None = None
    # When the index last changed (the processing clock; added within order state version 1,
    # absent: unknown). Its retention runs from here (streams/core/retention.py).
    changed_at: datetime | None = None
    state_version: int = ORDER_STATE_VERSION

    def has_seen(self, event_id: str) -> bool:
        return event_id in self.seen_feedback_ids

    def linked(self, tracking_number: str) -> bool:
        return any(item.tracking_number == tracking_number for item in self.shipments)


def order_state_to_json(state: OrderFeedbackState) -> dict[str, Any]:
    return to_jsonable(state)


def order_state_from_json(data: dict[str, Any]) -> OrderFeedbackState:
    version = data.get("state_version")
    if version != ORDER_STATE_VERSION:
        raise UnsupportedStateVersion(
            f"order state_version {version!r} (this build reads {ORDER_STATE_VERSION})"
        )
    timer = data["timer"]
    return OrderFeedbackState(
        order_id=data["order_id"],
        shipments=tuple(LinkedShipment(**item) for item in data["shipments"]),
        waiting=tuple(_waiting(item) for item in data["waiting"]),
        forwarded=tuple(_waiting(item) for item in data["forwarded"]),
        seen_feedback_ids=tuple(data["seen_feedback_ids"]),
        timer=TimerSchedule(
            next_check_at=None
            if timer["next_check_at"] is None
            else parse_rfc3339(timer["next_check_at"]),
            home_partition=timer["home_partition"],
        ),
        customer=stored_customer(data.get("customer")),
        changed_at=None if data.get("changed_at") is None else parse_rfc3339(data["changed_at"]),
    )


def _waiting(item: dict[str, Any]) -> WaitingFeedback:
    return WaitingFeedback(
        feedback=feedback_from_fields(_Fields(item["feedback"]), _STORED),
        analysis=analysis_from_fields(_Fields(item["analysis"])),
        analyzer_version=item["analyzer_version"],
        wait_until=parse_rfc3339(item["wait_until"]),
    )
