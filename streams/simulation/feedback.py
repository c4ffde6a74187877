"""Customer feedback on simulated shipments: what shoppers write back, and when, following what
happened to their parcel, with the flag the simulator expects for it (its ground truth).

For a share of shipments (``SimulationConfig.feedback_rate``) the customer writes once: a
complaint after a late or damaged delivery, "where is my order" while a late parcel is still on
its way, "never arrived" about a parcel the carrier delivered, a remark on the courier, a
complaint about the product alone, thanks for a delay they were told about, plain praise, a
question, or only a rating. A few write seconds after ordering, before the order reaches the
``orders`` topic (the worker must wait for it), and a few name an order that is never sent.

Randomness comes from a stream of its own per order (seeded by the simulation's seed and the
order id), so the journeys themselves are the same with or without feedback. Pure: the journeys
and ``now`` in, feedback out.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from parcelwatch.schemas.feedback import Feedback, FeedbackChannel, FlagReason
from parcelwatch.schemas.types import ExceptionReason, Order, Scan, ShipmentStatus
from parcelwatch.streams.simulation.chance import _weighted
from parcelwatch.streams.simulation.clock import _fixed_offset, _whole_seconds, _zone
from parcelwatch.streams.simulation.config import SimulatedEvent, SimulationConfig
from parcelwatch.streams.simulation.feedback_wording import feedback_text

_C = FeedbackChannel


class Situation(StrEnum):
    """Why the customer writes (each has its templates, except ``rating_only``)."""

    LATE_COMPLAINT = "late_complaint"  # delivered after the promise
    DAMAGED_COMPLAINT = "damaged_complaint"
    WHERE_IS_MY_ORDER = "where_is_my_order"  # past the promise and not delivered
    NEVER_ARRIVED = "never_arrived"  # the carrier says delivered
    COURIER_COMPLAINT = "courier_complaint"  # left outside, did not ring, rude
    PRODUCT_COMPLAINT = "product_complaint"  # nothing about the delivery
    RECOVERED_PRAISE = "recovered_praise"  # late or held, but kept informed
    PRAISE = "praise"
    QUESTION_IN_TRANSIT = "question_in_transit"
    QUESTION_AFTER_DELIVERY = "question_after_delivery"
    RATING_ONLY = "rating_only"  # a review or survey answer without words
    UNKNOWN_ORDER = "unknown_order"  # names an order that is never sent


# Shares of the customers who write: those who write within seconds of ordering (before the
# order is published), and those who quote an order number nobody sends.
EARLY_SHARE = 0.02
UNKNOWN_ORDER_SHARE = 0.02
MAX_DAYS_AFTER_DELIVERY = 5.0
MIN_LATE_WINDOW = timedelta(hours=1)  # "where is my order" needs this long between promise and now
KNOWN_FOR = timedelta(minutes=30)  # feedback on a delivery comes this long after it is known

_CHANNELS = {_C.REVIEW: 34, _C.SURVEY: 26, _C.CHAT: 14, _C.EMAIL: 12, _C.SOCIAL: 8}
_CHANNELS[_C.CALL_TRANSCRIPT] = 6
_ASKING_CHANNELS = {_C.CHAT: 40, _C.EMAIL: 30, _C.SOCIAL: 10, _C.CALL_TRANSCRIPT: 20}
_RATED_CHANNELS = {_C.REVIEW: 1.0, _C.SURVEY: 0.75}  # chance the answer carries a rating
_QUESTIONS = (Situation.QUESTION_IN_TRANSIT, Situation.QUESTION_AFTER_DELIVERY)
# Ratings a customer gives in each situation (drawn uniformly).
_RATINGS = {
    Situation.LATE_COMPLAINT: (1, 1, 2, 2, 3),
    Situation.DAMAGED_COMPLAINT: (1, 1, 2),
    Situation.WHERE_IS_MY_ORDER: (1,),
    Situation.NEVER_ARRIVED: (1,),
    Situation.COURIER_COMPLAINT: (1, 2, 2, 3),
    Situation.PRODUCT_COMPLAINT: (1, 2, 2, 3),
    Situation.RECOVERED_PRAISE: (4, 5, 5),
    Situation.PRAISE: (4, 5, 5, 5),
    Situation.RATING_ONLY: (3, 4, 4, 5, 5, 5),
    Situation.UNKNOWN_ORDER: (1, 2, 3),
}
# Where customers in the US write in Spanish or Portuguese (a share of them; the order's locale
# still says en-US, so their language hint is often wrong).
_SPANISH_REGIONS = frozenset({"FL", "TX", "CA", "AZ", "NM", "NV"})
_PORTUGUESE_REGIONS = frozenset({"MA", "NJ", "FL"})


@dataclass(frozen=True, slots=True)
class SimulatedFeedback:
    """One piece of feedback to publish, with the simulator's truth about it."""

    item: SimulatedEvent  # on customer-feedback, keyed by order id
    situation: Situation
    expected_flag: FlagReason  # what the worker should flag it as
    language: str  # the language it is written in (the hint may say otherwise)

    @property
    def feedback(self) -> Feedback:
        assert isinstance(self.item.event, Feedback)
        return self.item.event


@dataclass(frozen=True, slots=True)
class ShipmentTruth:
    """What happened to one shipment, as its published events show (the journey cut at now)."""

    order: Order
    order_emit_at: datetime
    delivered_at: datetime | None  # when the delivery scan happened
    delivered_emit_at: datetime | None  # when the world heard of it
    # When the world had heard of everything up to the delivery (a scan may be reported late).
    history_known_at: datetime | None
    late_by: timedelta | None  # delivered after the promise by this much
    exceptions: tuple[ExceptionReason, ...]  # up to the delivery (or so far)
    failed_attempts: int

    @property
    def troubled(self) -> bool:
        """Whether the shipment's own history shows trouble (what logistics pain is made of)."""
        return self.late_by is not None or bool(self.exceptions) or self.failed_attempts > 0


def generate_feedback(
    journeys: Iterable[SimulatedEvent], config: SimulationConfig, *, now: datetime
) -> list[SimulatedFeedback]:
    """The feedback customers wrote on ``journeys`` (events of :func:`generate_journeys` with the
    same ``config`` and ``now``) by ``now``, sorted by publication."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    drawn: list[SimulatedFeedback] = []
    if config.feedback_rate == 0:
        return drawn
    for truth in shipment_truths(journeys):
        rng = random.Random(f"parcelwatch.simulate/{config.seed}/feedback/{truth.order.order_id}")
        writes = rng.random() < config.feedback_rate * _keenness(truth, now)
        early = rng.random() < EARLY_SHARE
        unknown = rng.random() < UNKNOWN_ORDER_SHARE
        if not writes:
            continue
        if unknown:
            piece = _about_unknown_order(rng, truth)
        elif early:
            piece = _right_after_ordering(rng, truth)
        else:
            piece = _after_what_happened(rng, truth, now)
        if piece is not None and piece.item.emit_at <= now:
            drawn.append(piece)
    drawn.sort(key=lambda piece: (piece.item.emit_at, piece.feedback.event_id))
    return drawn


def shipment_truths(journeys: Iterable[SimulatedEvent]) -> list[ShipmentTruth]:
    """Each shipment's truth, in the order of its order id."""
    orders: dict[bytes, tuple[Order, datetime]] = {}
    scans: dict[bytes, dict[str, tuple[Scan, datetime]]] = {}
    for item in journeys:
        if isinstance(item.event, Order):
            orders[item.key] = (item.event, item.emit_at)
        elif isinstance(item.event, Scan):  # first sends only (a redelivery repeats the event)
            first = scans.setdefault(item.key, {}).get(item.event.event_id)
            if first is None or item.emit_at < first[1]:
                scans[item.key][item.event.event_id] = (item.event, item.emit_at)
    truths = [
        _truth(order, emit_at, list(scans.get(key, {}).values()))
        for key, (order, emit_at) in orders.items()
    ]
    return sorted(truths, key=lambda truth: truth.order.order_id)


def _truth(
    order: Order, order_emit_at: datetime, scans: list[tuple[Scan, datetime]]
) -> ShipmentTruth:
    scans.sort(key=lambda pair: pair[0].occurred_at)
    delivered = next(
        ((scan, at) for scan, at in scans if scan.status is ShipmentStatus.DELIVERED), None
    )
    before = [
        (scan, at)
        for scan, at in scans
        if delivered is None or scan.occurred_at <= delivered[0].occurred_at
    ]
    exceptions = tuple(
        scan.reason
        for scan, _ in before
        if scan.status is ShipmentStatus.EXCEPTION and scan.reason is not None
    )
    failed = sum(scan.status is ShipmentStatus.ATTEMPT_FAILED for scan, _ in before)
    late_by = None
    if delivered is not None and delivered[0].occurred_at > order.promised_by:
        late_by = delivered[0].occurred_at - order.promised_by
    return ShipmentTruth(
        order=order,
        order_emit_at=order_emit_at,
        delivered_at=None if delivered is None else delivered[0].occurred_at,
        delivered_emit_at=None if delivered is None else delivered[1],
        history_known_at=None if delivered is None else max(at for _, at in before),
        late_by=late_by,
        exceptions=exceptions,
        failed_attempts=failed,
    )


def expected_flag(situation: Situation, truth: ShipmentTruth, rating: int | None) -> FlagReason:
    """The flag a worker joining this feedback with the shipment's state should raise."""
    if situation is Situation.UNKNOWN_ORDER:
        return FlagReason.UNMATCHED
    if situation in (Situation.LATE_COMPLAINT, Situation.WHERE_IS_MY_ORDER):
        return FlagReason.LOGISTICS_PAIN
    if situation is Situation.NEVER_ARRIVED:
        return FlagReason.DISPUTED_DELIVERY
    if situation in (Situation.DAMAGED_COMPLAINT, Situation.COURIER_COMPLAINT):
        return (
            FlagReason.LOGISTICS_PAIN
            if truth.troubled
            else FlagReason.UNEXPLAINED_DELIVERY_COMPLAINT
        )
    if situation is Situation.PRODUCT_COMPLAINT:
        return FlagReason.PRODUCT_ISSUE
    if situation is Situation.RECOVERED_PRAISE:
        return FlagReason.RECOVERED
    if situation is Situation.RATING_ONLY and rating is not None and rating <= 3:
        return FlagReason.NEUTRAL
    if situation in (Situation.PRAISE, Situation.RATING_ONLY):
        return FlagReason.PRAISE
    return FlagReason.NEUTRAL  # the questions


def _keenness(truth: ShipmentTruth, now: datetime) -> float:
    """How much more (or less) often than the average customer this one writes: unhappy
    customers write more, those whose parcel is simply on its way less."""
    if truth.delivered_at is None:
        return 2.0 if _late_window(truth, now) is not None else 0.4
    return 2.0 if truth.troubled else 1.0


def situation_weights(truth: ShipmentTruth, now: datetime) -> dict[Situation, float]:
    """Why a customer with this shipment would write (relative weights), as of ``now``."""
    s = Situation
    if truth.delivered_at is None:
        if _late_window(truth, now) is not None:
            return {s.WHERE_IS_MY_ORDER: 85, s.QUESTION_IN_TRANSIT: 5}
        return {s.QUESTION_IN_TRANSIT: 1} if truth.order.promised_by > now else {}
    damaged = ExceptionReason.DAMAGED in truth.exceptions
    if not truth.troubled:
        return {
            s.PRAISE: 34,
            s.RATING_ONLY: 18,
            s.PRODUCT_COMPLAINT: 12,
            s.QUESTION_AFTER_DELIVERY: 10,
            s.COURIER_COMPLAINT: 7,
            s.DAMAGED_COMPLAINT: 6,
            s.NEVER_ARRIVED: 5,
        }
    weights = {
        s.RECOVERED_PRAISE: 20,
        s.PRODUCT_COMPLAINT: 6,
        s.QUESTION_AFTER_DELIVERY: 6,
        s.DAMAGED_COMPLAINT: 30 if damaged else 3,
        s.COURIER_COMPLAINT: 30 if truth.failed_attempts else 2,
        s.NEVER_ARRIVED: 2,
    }
    if truth.late_by is not None:
        weights[s.LATE_COMPLAINT] = 45
    return weights


def _after_what_happened(
    rng: random.Random, truth: ShipmentTruth, now: datetime
) -> SimulatedFeedback | None:
    weights = situation_weights(truth, now)
    if not weights:
        return None
    situation = _weighted(rng, weights)
    received_at = _received_at(rng, situation, truth, now)
    return _written(rng, truth, situation, received_at, order_id=truth.order.order_id)


def _right_after_ordering(rng: random.Random, truth: ShipmentTruth) -> SimulatedFeedback | None:
    """A question sent within seconds of ordering: published before the order itself."""
    ordered_at = truth.order.ordered_at.astimezone(UTC)
    gap = int((truth.order_emit_at - ordered_at).total_seconds())
    if gap < 2:
        return None
    received_at = ordered_at + timedelta(seconds=rng.randint(1, gap - 1))
    situation = Situation.QUESTION_IN_TRANSIT
    return _written(
        rng, truth, situation, received_at, order_id=truth.order.order_id, emit_at=received_at
    )


def _about_unknown_order(rng: random.Random, truth: ShipmentTruth) -> SimulatedFeedback:
    """A customer quoting an order number nobody sends (a typo, another shop's order)."""
    received_at = truth.order.ordered_at.astimezone(UTC) + timedelta(days=rng.uniform(1, 6))
    wrong_id = f"{truth.order.order_id}-x{rng.randrange(10, 99)}"
    return _written(rng, truth, Situation.UNKNOWN_ORDER, received_at, order_id=wrong_id)


def _written(
    rng: random.Random,
    truth: ShipmentTruth,
    situation: Situation,
    received_at: datetime,
    *,
    order_id: str,
    emit_at: datetime | None = None,
) -> SimulatedFeedback:
    order = truth.order
    unknown = situation is Situation.UNKNOWN_ORDER
    language = _language(rng, order)
    hint = _language_hint(rng, language, order)
    asking = situation in _QUESTIONS
    channel = _weighted(rng, _ASKING_CHANNELS if asking else _CHANNELS)
    if situation is Situation.RATING_ONLY:
        channel = rng.choice((_C.REVIEW, _C.SURVEY))
    rating = None
    ratings = _RATINGS.get(situation)
    if ratings is not None and rng.random() < _RATED_CHANNELS.get(channel, 0.0):
        rating = rng.choice(ratings)
    if situation is Situation.RATING_ONLY:
        rating = rng.choice(_RATINGS[situation])
        text = None
    else:
        text = feedback_text(
            rng,
            language,
            situation.value,
            category=order.items[0].category if order.items else None,
            carrier=order.carrier,
            late_days=_whole_days(truth.late_by),
            waited_days=max(1, round((received_at - order.ordered_at).total_seconds() / 86400)),
        )
    knows_tracking = channel in (_C.CHAT, _C.EMAIL, _C.CALL_TRANSCRIPT) and rng.random() < 0.3
    named_customer = order.customer is not None and rng.random() < 0.8
    received_at = _whole_seconds(received_at)
    if emit_at is None:
        emit_at = received_at + timedelta(seconds=rng.randint(1, 120))
    feedback = Feedback(
        event_id=f"{order_id}-f1",
        order_id=order_id,
        channel=channel,
        received_at=_local(received_at, order),
        # (about an unknown order, the customer knows no tracking number either: it would match)
        tracking_number=order.tracking_number if knows_tracking and not unknown else None,
        customer_id=order.customer.id if named_customer and order.customer else None,
        text=text,
        rating=rating,
        language=hint,
    )
    item = SimulatedEvent("feedback", order_id.encode(), feedback, _whole_seconds(emit_at))
    return SimulatedFeedback(item, situation, expected_flag(situation, truth, rating), language)


def _received_at(
    rng: random.Random, situation: Situation, truth: ShipmentTruth, now: datetime
) -> datetime:
    """After the delivery (within days) for what is said of a delivered parcel; between the
    promise and the delivery for "where is my order"; on the way for a question in transit."""
    if situation is Situation.WHERE_IS_MY_ORDER:
        window = _late_window(truth, now)
        assert window is not None
        start, end = window
        return start + (end - start) * rng.random()
    if situation is Situation.QUESTION_IN_TRANSIT:
        start = truth.order_emit_at + timedelta(minutes=10)
        end = max(min(truth.order.promised_by.astimezone(UTC), now), start)
        return start + (end - start) * rng.random()
    assert truth.delivered_at is not None and truth.history_known_at is not None
    delivered_at = truth.delivered_at.astimezone(UTC)
    # Not before the world heard of the delivery and what led to it (the worker's state must
    # show them, and the flag depends on them).
    earliest = max(delivered_at, truth.history_known_at + KNOWN_FOR)
    latest = max(delivered_at + timedelta(days=MAX_DAYS_AFTER_DELIVERY), earliest)
    return earliest + (latest - earliest) * rng.random()


def _late_window(truth: ShipmentTruth, now: datetime) -> tuple[datetime, datetime] | None:
    """When a customer can ask where a late parcel is: past the promise, before the delivery is
    heard of (within four days), by now."""
    start = truth.order.promised_by.astimezone(UTC) + timedelta(hours=2)
    end = min(start + timedelta(days=4), now)
    if truth.delivered_emit_at is not None:
        end = min(end, truth.delivered_emit_at - timedelta(hours=1))
    return (start, end) if end - start >= MIN_LATE_WINDOW else None


def _language(rng: random.Random, order: Order) -> str:
    """The customer's language: the locale's, but some US customers write Spanish or Portuguese."""
    locale = order.customer.locale if order.customer and order.customer.locale else "en"
    language = locale[:2].lower()
    region = order.destination.region if order.destination else None
    if language == "en" and order.destination is not None and order.destination.country == "US":
        draw = rng.random()
        if draw < (0.25 if region in _SPANISH_REGIONS else 0.06):
            return "es"
        if draw > 1 - (0.12 if region in _PORTUGUESE_REGIONS else 0.03):
            return "pt"
    if language == "en" and order.destination is not None and order.destination.country == "CA":
        return "fr" if rng.random() < 0.08 else language
    return language if language in ("en", "pt", "es", "de", "fr") else "en"


def _language_hint(rng: random.Random, language: str, order: Order) -> str | None:
    """The BCP 47 hint the input carries: usually right, sometimes missing, sometimes wrong
    (a helpdesk that stamps the account's locale on whatever the customer wrote)."""
    locale = order.customer.locale if order.customer and order.customer.locale else None
    draw = rng.random()
    if draw < 0.15:
        return None
    if locale is not None and not locale.lower().startswith(language):
        return locale if draw < 0.6 else language  # the account's locale: wrong
    if draw > 0.95:
        return rng.choice([other for other in ("en", "pt", "es", "de", "fr") if other != language])
    return locale if locale is not None else language


def _local(moment: datetime, order: Order) -> datetime:
    """``moment`` in the customer's time zone, with a fixed offset, as a helpdesk would stamp it."""
    timezone = order.customer.timezone if order.customer else None
    if timezone is None:
        return moment
    offset = moment.astimezone(_zone(timezone)).utcoffset()
    assert offset is not None
    return moment.astimezone(_fixed_offset(offset))


def _whole_days(span: timedelta | None) -> int:
    if span is None:
        return 1
    return max(1, round(span.total_seconds() / 86400))


@dataclass(frozen=True, slots=True)
class SimulatedRun:
    """Journeys and the feedback written on them, as one simulation gives them."""

    journeys: list[SimulatedEvent]  # orders and scans, sorted by publication
    feedback: list[SimulatedFeedback]  # sorted by publication

    @property
    def events(self) -> list[SimulatedEvent]:
        """Every message in publication order (a journey's event before feedback at a tie)."""
        return sorted([*self.journeys, *(piece.item for piece in self.feedback)], key=_published)


def _published(item: SimulatedEvent) -> datetime:
    return item.emit_at
