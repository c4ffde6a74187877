"""Topic names: the defaults of the contract, with an optional deployment prefix."""

from __future__ import annotations

from dataclasses import dataclass

CARRIER_SCANS = "carrier-scans"
CARRIER_RAW = "carrier-raw"
ORDERS = "orders"
SHIPMENT_ALERTS = "shipment-alerts"
DEAD_LETTER = "dead-letter"
MODEL_UPDATES = "model-updates"
CUSTOMER_NOTIFICATIONS = "customer-notifications"
SHIPMENT_CHECKS = "shipment-checks"
CUSTOMER_FEEDBACK = "customer-feedback"
FEEDBACK_FLAGGED = "feedback-flagged"
ORDER_SHIPMENTS = "order-shipments"
SHIPMENT_FEEDBACK = "shipment-feedback"
FEEDBACK_TALLIES = "feedback-tallies"
PAIN_POINTS = "pain-points"
PAIN_POINT_SPIKES = "pain-point-spikes"
MODEL_OUTCOMES = "model-outcomes"
MODEL_MONITORING = "model-monitoring"
RETURNS = "returns"
SUPPORT_ESCALATIONS = "support-escalations"
RETURN_PARCELS = "return-parcels"
RETURN_SCANS = "return-scans"
# The feedback join's and the returns' internal topics: parcelwatch writes them itself (an applied
# order sends its shipment's link), so counts of a deployment's inputs leave them out.
FEEDBACK_JOIN_TOPICS = (ORDER_SHIPMENTS, SHIPMENT_FEEDBACK, RETURN_PARCELS, RETURN_SCANS)


@dataclass(frozen=True)
class TopicNames:
    carrier_scans: str = CARRIER_SCANS
    carrier_raw: str = CARRIER_RAW  # raw carrier payloads, normalised into carrier_scans
    orders: str = ORDERS
    shipment_alerts: str = SHIPMENT_ALERTS
    dead_letter: str = DEAD_LETTER
    model_updates: str = MODEL_UPDATES
    customer_notifications: str = CUSTOMER_NOTIFICATIONS
    shipment_checks: str = SHIPMENT_CHECKS  # internal: timers -> the partition's owner
    customer_feedback: str = CUSTOMER_FEEDBACK
    feedback_flagged: str = FEEDBACK_FLAGGED
    order_shipments: str = ORDER_SHIPMENTS  # internal: order id -> its shipments
    shipment_feedback: str = SHIPMENT_FEEDBACK  # internal: analysed feedback -> one shipment
    feedback_tallies: str = FEEDBACK_TALLIES  # internal: flagged feedback -> its carrier's windows
    pain_points: str = PAIN_POINTS
    pain_point_spikes: str = PAIN_POINT_SPIKES
    model_outcomes: str = MODEL_OUTCOMES  # internal: outcomes -> their model version's windows
    model_monitoring: str = MODEL_MONITORING
    returns: str = RETURNS  # input keyed by order id: return and refund steps
    support_escalations: str = SUPPORT_ESCALATIONS  # cases for people, keyed by order id
    return_parcels: str = RETURN_PARCELS  # internal: an order's return label -> its parcel
    return_scans: str = RETURN_SCANS  # internal: a return parcel's scans -> its order

    @classmethod
    def with_prefix(cls, prefix: str) -> TopicNames:
        """``prefix`` is prepended as is: ``"staging."`` gives ``staging.carrier-scans``."""
        return cls(
            carrier_scans=prefix + CARRIER_SCANS,
            carrier_raw=prefix + CARRIER_RAW,
            orders=prefix + ORDERS,
            shipment_alerts=prefix + SHIPMENT_ALERTS,
            dead_letter=prefix + DEAD_LETTER,
            model_updates=prefix + MODEL_UPDATES,
            customer_notifications=prefix + CUSTOMER_NOTIFICATIONS,
            shipment_checks=prefix + SHIPMENT_CHECKS,
            customer_feedback=prefix + CUSTOMER_FEEDBACK,
            feedback_flagged=prefix + FEEDBACK_FLAGGED,
            order_shipments=prefix + ORDER_SHIPMENTS,
            shipment_feedback=prefix + SHIPMENT_FEEDBACK,
            feedback_tallies=prefix + FEEDBACK_TALLIES,
            pain_points=prefix + PAIN_POINTS,
            pain_point_spikes=prefix + PAIN_POINT_SPIKES,
            model_outcomes=prefix + MODEL_OUTCOMES,
            model_monitoring=prefix + MODEL_MONITORING,
            returns=prefix + RETURNS,
            support_escalations=prefix + SUPPORT_ESCALATIONS,
            return_parcels=prefix + RETURN_PARCELS,
            return_scans=prefix + RETURN_SCANS,
        )

    @property
    def inputs(self) -> tuple[str, ...]:
        """What producers outside parcelwatch write to."""
        return (self.carrier_scans, self.orders, self.customer_feedback, self.returns)

    @property
    def internal(self) -> tuple[str, ...]:
        """parcelwatch's own co-partitioned topics: timers' checks, the feedback join, and the
        link between an order's return and its return parcel."""
        return (
            self.shipment_checks,
            self.order_shipments,
            self.shipment_feedback,
            self.return_parcels,
            self.return_scans,
        )

    @property
    def consumed(self) -> tuple[str, ...]:
        """What the tracking agent reads: the inputs and the internal topics, all co-partitioned
        with the shipments table."""
        return (*self.inputs, *self.internal)

    @property
    def outputs(self) -> tuple[str, ...]:
        return (
            self.shipment_alerts,
            self.customer_notifications,
            self.dead_letter,
            self.feedback_flagged,
            self.feedback_tallies,
            self.pain_points,
            self.pain_point_spikes,
            self.model_outcomes,
            self.model_monitoring,
            self.support_escalations,
        )

    @property
    def pain_point_topics(self) -> tuple[str, str, str]:
        """The pain-point windows' input (internal, keyed by carrier) and their two outputs."""
        return (self.feedback_tallies, self.pain_points, self.pain_point_spikes)

    @property
    def model_monitoring_topics(self) -> tuple[str, str]:
        """The monitoring windows' input (internal, keyed by model version) and their output."""
        return (self.model_outcomes, self.model_monitoring)

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.consumed, *self.outputs, self.model_updates, self.carrier_raw)
