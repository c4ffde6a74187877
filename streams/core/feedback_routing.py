"""Which shipments a piece of feedback goes to: the order side of the feedback join.

Feedback names an order (sometimes a tracking number too); an order can have several shipments.
The order's state (``OrderFeedbackState``) learns its shipments from ``order-shipments`` links and
keeps feedback that came before them waiting, for at most the configured wait. Every function
here is pure: it returns the new state and what to send, and the pipeline sends it.

* Feedback for a known order goes to the shipment it names, if the order has it, else to every
  shipment of the order.
* Feedback for an order with no shipment yet waits. When the first link comes, everything waiting
  goes to the shipments known then. Shipments linked later do not get feedback already forwarded:
  the feedback was about the parcels the customer had.
* At ``wait_until`` waiting feedback goes out unmatched; so does feedback beyond the order's
  bounds (never dropped, never kept without limit).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from parcelwatch.schemas.feedback import Feedback, OrderShipmentLink, TextAnalysis
from parcelwatch.schemas.order_state import (
    MAX_ORDER_SHIPMENTS,
    MAX_SEEN_FEEDBACK_IDS,
    MAX_WAITING_FEEDBACK,
    MAX_WAITING_TEXT_CHARS,
    LinkedShipment,
    OrderFeedbackState,
    WaitingFeedback,
)


@dataclass(frozen=True, slots=True)
class Forward:
    """Send this feedback to this shipment (on its partition)."""

    shipment: LinkedShipment
    item: WaitingFeedback


@dataclass(frozen=True, slots=True)
class Routed:
    state: OrderFeedbackState
    forwards: tuple[Forward, ...] = ()
    unmatched: tuple[WaitingFeedback, ...] = ()


def receive_feedback(
    state: OrderFeedbackState | None,
    feedback: Feedback,
    analysis: TextAnalysis,
    analyzer_version: str,
    *,
    now: datetime,
    wait: timedelta,
) -> Routed | None:
    """Route one piece of feedback; None when it is a duplicate (its event id was seen)."""
    state = state or OrderFeedbackState(order_id=feedback.order_id)
    if state.has_seen(feedback.event_id):
        return None
    item = WaitingFeedback(feedback, analysis, analyzer_version, wait_until=now + wait)
    seen = (*state.seen_feedback_ids, feedback.event_id)[-MAX_SEEN_FEEDBACK_IDS:]
    state = replace(state, seen_feedback_ids=seen)
    if state.shipments:
        return Routed(state, forwards=_forwards(state.shipments, item))
    if not _room_for(state.waiting, item):
        return Routed(state, unmatched=(item,))
    return Routed(_with_waiting(state, (*state.waiting, item)))


def link_shipment(state: OrderFeedbackState | None, link: OrderShipmentLink) -> Routed | None:
    """Learn one shipment of the order and release what waited for it; None when known."""
    state = state or OrderFeedbackState(order_id=link.order_id)
    if state.linked(link.tracking_number):
        return None
    shipment = LinkedShipment(link.tracking_number, link.shipment_partition)
    if len(state.shipments) >= MAX_ORDER_SHIPMENTS:
        return None  # feedback goes to the first shipments: enough to join it with reality
    shipments = (*state.shipments, shipment)
    forwards = tuple(fwd for item in state.waiting for fwd in _forwards(shipments, item))
    return Routed(_with_waiting(replace(state, shipments=shipments), ()), forwards=forwards)


def expire_waiting(state: OrderFeedbackState, now: datetime) -> Routed:
    """Feedback whose wait is over goes out unmatched."""
    expired = tuple(item for item in state.waiting if item.wait_until <= now)
    if not expired:
        return Routed(state)
    kept = tuple(item for item in state.waiting if item.wait_until > now)
    return Routed(_with_waiting(state, kept), unmatched=expired)


def _forwards(shipments: tuple[LinkedShipment, ...], item: WaitingFeedback) -> tuple[Forward, ...]:
    named = item.feedback.tracking_number
    chosen = [shipment for shipment in shipments if shipment.tracking_number == named]
    return tuple(Forward(shipment, item) for shipment in (chosen or shipments))


def _room_for(waiting: tuple[WaitingFeedback, ...], item: WaitingFeedback) -> bool:
    chars = sum(len(entry.feedback.text or "") for entry in (*waiting, item))
    return len(waiting) < MAX_WAITING_FEEDBACK and chars <= MAX_WAITING_TEXT_CHARS


def _with_waiting(
    state: OrderFeedbackState, waiting: tuple[WaitingFeedback, ...]
) -> OrderFeedbackState:
    next_check = min((item.wait_until for item in waiting), default=None)
    return replace(state, waiting=waiting, timer=replace(state.timer, next_check_at=next_check))
