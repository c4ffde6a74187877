"""Feedback flags: what a customer wrote, judged against what really happened to the shipment.

Pure: the pipeline passes in the analysed text, the shipment's state at the moment of the join (or
None when no shipment of the order was found within the wait) and the clock.

``decide_flag`` takes the first row that applies, top to bottom:

================================  =========================================  ======================
reason                            when                                       severity
================================  =========================================  ======================
unmatched                         no shipment was joined                     warning if the text is
                                                                             negative (overall or
                                                                             about delivery), else
                                                                             info
disputed_delivery                 the text says not received (topic          critical
                                  not_received with confidence >= 0.5, or
                                  delivery-negative with that topic) and
                                  the carrier's status is delivered
logistics_pain                    delivery-negative, and the history shows   critical when a lost or
                                  trouble: late, an exception, a failed      damaged exception was
                                  attempt, a troubled status (exception,     seen or it is late by
                                  attempt_failed, returning or returned to   more than 72 h, else
                                  sender) or any alert kind ever raised      warning
                                  (stalled, forgotten, expired,
                                  missed_promise, carrier_exception,
                                  attempt_failed, delay_risk, returned)
unexplained_delivery_complaint    delivery-negative, nothing wrong on        warning
                                  record
product_issue                     product-negative: product_sentiment        warning when the topic
                                  negative, or overall negative with         return_or_refund is
                                  product_quality or price the strongest     listed too, else info
                                  topic; and delivery not negative
recovered                         positive overall although the shipment     info
                                  was late, had an exception or a failed
                                  attempt (or raised carrier_exception,
                                  attempt_failed or missed_promise)
praise                            positive overall                           info
neutral                           anything else                              info
================================  =========================================  ======================

*Delivery-negative*: ``delivery_sentiment`` is negative, or the text says not received (topic
``not_received`` with confidence >= 0.5: "where is my order?" is a complaint whatever its words), or
the overall sentiment is negative and a delivery topic is listed (late_delivery, not_received,
damaged, wrong_or_missing_item, courier_behaviour). Elsewhere a listed topic counts whatever its
confidence: the analyzer lists only the topics it found.

So a negative text that names neither delivery nor product (say, only customer service) is
``neutral`` when its shipment is known, and a neutral text about a late parcel is ``neutral`` too:
flags follow what the customer says, the shipment explains it.

``shipment_context`` reads lateness as follows (``late``, ``late_by_hours``):

* no promise: None, None;
* delivered: whether ``delivered_at`` is after the promise, and by how many hours (0 when on time);
* cancelled, never delivered: None, None (nothing was due any more);
* otherwise not delivered (returns included): past the promise at ``now`` is late so far (True and
  the hours since the promise); before the promise it is not known yet: None, None, as for no
  promise (the parcel may still arrive in time).
"""

from __future__ import annotations

from datetime import datetime

from parcelwatch.schemas.feedback import (
    Feedback,
    FeedbackFlag,
    FeedbackTally,
    FeedbackTopic,
    FlaggedFeedback,
    FlagReason,
    SentimentLabel,
    ShipmentContext,
    TextAnalysis,
)
from parcelwatch.schemas.ids import deterministic_id
from parcelwatch.schemas.state import ScanRecord, ShipmentState
from parcelwatch.schemas.types import (
    AlertKind,
    ExceptionReason,
    Location,
    NotificationKind,
    Severity,
    ShipmentStatus,
)

UNKNOWN = "unknown"  # the tally's carrier or region when the shipment does not say
# "Not received" on its own, without a negative delivery sentiment, needs at least this confidence.
NOT_RECEIVED_CONFIDENCE = 0.5
CRITICAL_LATE_HOURS = 72.0

DELIVERY_TOPICS = frozenset(
    {
        FeedbackTopic.LATE_DELIVERY,
        FeedbackTopic.NOT_RECEIVED,
        FeedbackTopic.DAMAGED,
        FeedbackTopic.WRONG_OR_MISSING_ITEM,
        FeedbackTopic.COURIER_BEHAVIOUR,
    }
)
PRODUCT_TOPICS = frozenset({FeedbackTopic.PRODUCT_QUALITY, FeedbackTopic.PRICE})
# Alert kinds that are trouble on record, whether or not their episode is still open.
TROUBLE_KINDS = frozenset(
    {
        AlertKind.STALLED,
        AlertKind.FORGOTTEN,
        AlertKind.EXPIRED,
        AlertKind.MISSED_PROMISE,
        AlertKind.CARRIER_EXCEPTION,
        AlertKind.ATTEMPT_FAILED,
        AlertKind.DELAY_RISK,
        AlertKind.RETURNED,
    }
)
TROUBLE_STATUSES = frozenset(
    {
        ShipmentStatus.EXCEPTION,
        ShipmentStatus.ATTEMPT_FAILED,
        ShipmentStatus.RETURNING_TO_SENDER,
        ShipmentStatus.RETURNED_TO_SENDER,
    }
)
# Setbacks a happy customer got over: the alert kinds stand for the facts themselves once the
# bounded scan trail has forgotten them.
SETBACK_KINDS = frozenset(
    {AlertKind.CARRIER_EXCEPTION, AlertKind.ATTEMPT_FAILED, AlertKind.MISSED_PROMISE}
)
CRITICAL_EXCEPTIONS = frozenset({ExceptionReason.LOST, ExceptionReason.DAMAGED})


def feedback_id(feedback: Feedback, target: str) -> str:
    """The flagged feedback's id: one per input event and shipment (``target`` is the tracking
    number joined, or the order id when unmatched), so an order's shipments each get their own."""
    return deterministic_id("feedback", feedback.event_id, target)


# ---------------------------------------------------------------------------------------------
# The shipment's side


def shipment_context(state: ShipmentState, now: datetime) -> ShipmentContext:
    """What the shipment's state says happened to it, as of ``now``."""
    late, late_by_hours = _lateness(state, now)
    kept = state.tracking.exceptions  # exceptions and failed attempts, bounded, oldest first
    return ShipmentContext(
        tracking_number=state.tracking_number,
        carrier=state.carrier,
        service_level=state.order.service_level,
        status=state.tracking.status,
        promised_by=state.order.promised_by,
        delivered_at=state.tracking.delivered_at,
        late=late,
        late_by_hours=late_by_hours,
        alert_kinds=_alert_kinds(state),
        exceptions=_exception_reasons(kept),
        failed_attempts=sum(1 for record in kept if record.status is ShipmentStatus.ATTEMPT_FAILED),
        notifications=_notification_kinds(state.outputs.notified),
        last_location=_last_location((*state.tracking.recent_scans, *kept)),
        destination=state.order.destination,
    )


def _lateness(state: ShipmentState, now: datetime) -> tuple[bool | None, float | None]:
    promised_by, delivered_at = state.order.promised_by, state.tracking.delivered_at
    if promised_by is None:
        return None, None
    if delivered_at is not None:
        return delivered_at > promised_by, _hours_after(delivered_at, promised_by)
    if state.tracking.status is ShipmentStatus.CANCELLED or now <= promised_by:
        return None, None
    return True, _hours_after(now, promised_by)


def _hours_after(moment: datetime, promised_by: datetime) -> float:
    return round(max(0.0, (moment - promised_by).total_seconds() / 3600), 2)


def _alert_kinds(state: ShipmentState) -> tuple[AlertKind, ...]:
    # The open episodes too: a state stored before ``raised_kinds`` existed still knows those.
    open_kinds = (kind for kind, _ in state.outputs.open_episodes)
    return tuple(sorted({*state.outputs.raised_kinds, *open_kinds}))


def _exception_reasons(kept: tuple[ScanRecord, ...]) -> tuple[ExceptionReason, ...]:
    """Reasons of the carrier's exception scans, first seen first. A failed attempt is counted
    apart (``failed_attempts``); an exception scan without a reason is an unspecified one."""
    reasons = (
        record.reason or ExceptionReason.OTHER
        for record in kept
        if record.status is ShipmentStatus.EXCEPTION
    )
    return tuple(dict.fromkeys(reasons))


def _notification_kinds(notified: tuple[str, ...]) -> tuple[NotificationKind, ...]:
    """The kinds of the milestones recorded as told (keys such as ``delivered`` or
    ``exception/carrier_exception/<episode>``), first told first; other keys are ignored."""
    known = {kind.value: kind for kind in NotificationKind}
    kinds = (known.get(key.split("/", 1)[0]) for key in notified)
    return tuple(dict.fromkeys(kind for kind in kinds if kind is not None))


def _last_location(records: tuple[ScanRecord, ...]) -> Location | None:
    located = [record for record in records if record.location is not None]
    if not located:
        return None
    return max(located, key=lambda record: record.occurred_at).location


# ---------------------------------------------------------------------------------------------
# The flag


def decide_flag(analysis: TextAnalysis, context: ShipmentContext | None) -> FeedbackFlag:
    """The flag of one piece of feedback (the table in the module docstring)."""
    delivery_negative = _is_delivery_negative(analysis)
    if context is None:
        negative = delivery_negative or _label(analysis) is SentimentLabel.NEGATIVE
        return _flag(FlagReason.UNMATCHED, Severity.WARNING if negative else Severity.INFO)
    if _says_not_received(analysis, delivery_negative) and (
        context.status is ShipmentStatus.DELIVERED
    ):
        return _flag(FlagReason.DISPUTED_DELIVERY, Severity.CRITICAL)
    if delivery_negative:
        if _shows_trouble(context):
            critical = bool(CRITICAL_EXCEPTIONS.intersection(context.exceptions)) or (
                (context.late_by_hours or 0.0) > CRITICAL_LATE_HOURS
            )
            severity = Severity.CRITICAL if critical else Severity.WARNING
            return _flag(FlagReason.LOGISTICS_PAIN, severity)
        return _flag(FlagReason.UNEXPLAINED_DELIVERY_COMPLAINT, Severity.WARNING)
    if _is_product_negative(analysis):
        refund = _confidence(analysis, FeedbackTopic.RETURN_OR_REFUND) > 0.0
        return _flag(FlagReason.PRODUCT_ISSUE, Severity.WARNING if refund else Severity.INFO)
    if _label(analysis) is SentimentLabel.POSITIVE:
        reason = FlagReason.RECOVERED if _had_setback(context) else FlagReason.PRAISE
        return _flag(reason, Severity.INFO)
    return _flag(FlagReason.NEUTRAL, Severity.INFO)


def _flag(reason: FlagReason, severity: Severity) -> FeedbackFlag:
    return FeedbackFlag(reason=reason, severity=severity)


def _label(analysis: TextAnalysis) -> SentimentLabel:
    return analysis.sentiment.label


def _confidence(analysis: TextAnalysis, topic: FeedbackTopic) -> float:
    """The topic's confidence, 0.0 when it is not listed."""
    return max((item.confidence for item in analysis.topics if item.topic is topic), default=0.0)


def _listed(analysis: TextAnalysis, topics: frozenset[FeedbackTopic]) -> bool:
    return any(item.topic in topics for item in analysis.topics)


def _is_delivery_negative(analysis: TextAnalysis) -> bool:
    aspect = analysis.delivery_sentiment
    if aspect is not None and aspect.label is SentimentLabel.NEGATIVE:
        return True
    if _confidence(analysis, FeedbackTopic.NOT_RECEIVED) >= NOT_RECEIVED_CONFIDENCE:
        return True  # "where is my order?" is a complaint, whatever words it uses
    return _label(analysis) is SentimentLabel.NEGATIVE and _listed(analysis, DELIVERY_TOPICS)


def _says_not_received(analysis: TextAnalysis, delivery_negative: bool) -> bool:
    """A confident ``not_received``, or a weaker one in a text negative about the delivery."""
    confidence = _confidence(analysis, FeedbackTopic.NOT_RECEIVED)
    return confidence >= NOT_RECEIVED_CONFIDENCE or (delivery_negative and confidence > 0.0)


def _is_product_negative(analysis: TextAnalysis) -> bool:
    delivery = analysis.delivery_sentiment
    if delivery is not None and delivery.label is SentimentLabel.NEGATIVE:
        return False
    product = analysis.product_sentiment
    if product is not None and product.label is SentimentLabel.NEGATIVE:
        return True
    if _label(analysis) is not SentimentLabel.NEGATIVE or not _listed(analysis, PRODUCT_TOPICS):
        return False
    strongest_product = max(_confidence(analysis, topic) for topic in PRODUCT_TOPICS)
    strongest_other = max(
        (item.confidence for item in analysis.topics if item.topic not in PRODUCT_TOPICS),
        default=0.0,
    )
    return strongest_product >= strongest_other


def _shows_trouble(context: ShipmentContext) -> bool:
    return (
        context.late is True
        or bool(context.exceptions)
        or context.failed_attempts > 0
        or context.status in TROUBLE_STATUSES
        or bool(TROUBLE_KINDS.intersection(context.alert_kinds))
    )


def _had_setback(context: ShipmentContext) -> bool:
    return (
        context.late is True
        or bool(context.exceptions)
        or context.failed_attempts > 0
        or bool(SETBACK_KINDS.intersection(context.alert_kinds))
    )


# ---------------------------------------------------------------------------------------------
# The output


def flag_feedback(
    feedback: Feedback,
    analysis: TextAnalysis,
    state: ShipmentState | None,
    *,
    target: str,
    now: datetime,
    analyzer_version: str,
) -> FlaggedFeedback:
    """The ``feedback-flagged`` event of ``feedback`` joined with ``state`` (None: unmatched).

    ``target`` is the event's key: the joined tracking number, or the order id when unmatched.
    """
    context = shipment_context(state, now) if state is not None else None
    return FlaggedFeedback(
        feedback_id=feedback_id(feedback, target),
        event_id=feedback.event_id,
        order_id=feedback.order_id,
        tracking_number=state.tracking_number if state is not None else feedback.tracking_number,
        customer_id=feedback.customer_id,
        channel=feedback.channel,
        text=feedback.text,
        rating=feedback.rating,
        language=analysis.language,
        received_at=feedback.received_at,
        flagged_at=now,
        sentiment=analysis.sentiment,
        delivery_sentiment=analysis.delivery_sentiment,
        product_sentiment=analysis.product_sentiment,
        topics=analysis.topics,
        shipment=context,
        flag=decide_flag(analysis, context),
        analyzer_version=analyzer_version,
    )


def tally_of(flagged: FlaggedFeedback) -> FeedbackTally:
    """What the pain-point windows count of ``flagged``."""
    shipment = flagged.shipment
    destination = shipment.destination if shipment is not None else None
    region = (destination.region or destination.country) if destination is not None else None
    return FeedbackTally(
        feedback_id=flagged.feedback_id,
        carrier=(shipment.carrier if shipment is not None else None) or UNKNOWN,
        region=region or UNKNOWN,
        reason=flagged.flag.reason,
        topics=tuple(dict.fromkeys(item.topic for item in flagged.topics)),
        received_at=flagged.received_at,
    )
