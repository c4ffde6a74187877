"""Which shipments a piece of feedback goes to: the order side of the feedback join.

Feedback names an order (sometimes a tracking number too); an order can have several shipments.
The order's state (``OrderFeedbackState``) learns its shipments from ``order-shipments`` links and
keeps feedback that came before them waiting, for at most the configured wait. Every function
here is pure: it returns the new state and what to send, and the pipeline sends it.

* Feedback for a known order goes to the shipment it names, if the order has it, else to every
  shipment of the order.
* Feedback for an order with no shipment yet waits. When the first link comes, everything waiting
  goes to it.
* Forwarded feedback is kept until its ``wait_until`` too: a shipment of the same order linked
  later (a split order's second parcel, or a link that lost the race with the feedback) gets it
  as well, exactly once.
* At ``wait_until`` waiting feedback goes out unmatched and forwarded feedback is forgotten.
  Feedback beyond the order's bounds goes out unmatched at once (never dropped, never kept
  without limit); forwarded feedback beyond them is forgotten, oldest first.
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
        forwarded = _within_bounds((*state.forwarded, item), keep_newest=True)
        return Routed(_kept(state, state.waiting, forwarded), _forwards(state.shipments, item))
    if _within_bounds((*state.waiting, item)) != (*state.waiting, item):
        return Routed(state, unmatched=(item,))
    return Routed(_kept(state, (*state.waiting, item), state.forwarded))


def link_shipment(state: OrderFeedbackState | None, link: OrderShipmentLink) -> Routed | None:
    """Learn one shipment of the order (and its customer) and send it the feedback kept for the
    order; None when the order knew both already."""
    known = state or OrderFeedbackState(order_id=link.order_id)
    state = known
    if link.customer is not None and link.customer != known.customer:
        state = replace(known, customer=link.customer)  # the latest order event's customer
    if state.linked(link.tracking_number) or len(state.shipments) >= MAX_ORDER_SHIPMENTS:
        # Beyond the bound: feedback goes to the first shipments, enough to judge.
        return Routed(state) if state.customer != known.customer else None
    shipment = LinkedShipment(link.tracking_number, link.shipment_partition, link.carrier)
    shipments = (*state.shipments, shipment)
    kept = (*state.forwarded, *state.waiting)
    forwards = tuple(
        forward
        for item in kept
        for forward in _forwards(shipments, item)
        if forward.shipment == shipment
    )
    forwarded = _within_bounds(kept, keep_newest=True)
    return Routed(_kept(replace(state, shipments=shipments), (), forwarded), forwards)


def expire_waiting(state: OrderFeedbackState, now: datetime) -> Routed:
    """Waiting feedback whose wait is over goes out unmatched; forwarded feedback is forgotten."""
    expired = tuple(item for item in state.waiting if item.wait_until <= now)
    waiting = tuple(item for item in state.waiting if item.wait_until > now)
    forwarded = tuple(item for item in state.forwarded if item.wait_until > now)
    return Routed(_kept(state, waiting, forwarded), unmatched=expired)


def _forwards(shipments: tuple[LinkedShipment, ...], item: WaitingFeedback) -> tuple[Forward, ...]:
    named = item.feedback.tracking_number
    chosen = [shipment for shipment in shipments if shipment.tracking_number == named]
    return tuple(Forward(shipment, item) for shipment in (chosen or shipments))


def _within_bounds(
    items: tuple[WaitingFeedback, ...], *, keep_newest: bool = False
) -> tuple[WaitingFeedback, ...]:
    """The longest run of ``items`` (the oldest first, or the newest with ``keep_newest``) that
    fits the order's bounds on count and text."""
    ordered = list(reversed(items)) if keep_newest else list(items)
    kept: list[WaitingFeedback] = []
    chars = 0
    for item in ordered:
        chars += len(item.feedback.text or "")
        if len(kept) >= MAX_WAITING_FEEDBACK or chars > MAX_WAITING_TEXT_CHARS:
            break
        kept.append(item)
    return tuple(reversed(kept)) if keep_newest else tuple(kept)


def _kept(
    state: OrderFeedbackState,
    waiting: tuple[WaitingFeedback, ...],
    forwarded: tuple[WaitingFeedback, ...],
) -> OrderFeedbackState:
    next_check = min((item.wait_until for item in (*waiting, *forwarded)), default=None)
    timer = replace(state.timer, next_check_at=next_check)
    return replace(state, waiting=waiting, forwarded=forwarded, timer=timer)
