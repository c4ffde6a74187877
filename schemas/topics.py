"""Topic names: the defaults of the contract, with an optional deployment prefix."""

from __future__ import annotations

from dataclasses import dataclass

CARRIER_SCANS = "carrier-scans"
ORDERS = "orders"
SHIPMENT_ALERTS = "shipment-alerts"
DEAD_LETTER = "dead-letter"
MODEL_UPDATES = "model-updates"


@dataclass(frozen=True)
class TopicNames:
    carrier_scans: str = CARRIER_SCANS
    orders: str = ORDERS
    shipment_alerts: str = SHIPMENT_ALERTS
    dead_letter: str = DEAD_LETTER
    model_updates: str = MODEL_UPDATES

    @classmethod
    def with_prefix(cls, prefix: str) -> TopicNames:
        """``prefix`` is prepended as is: ``"staging."`` gives ``staging.carrier-scans``."""
        return cls(
            carrier_scans=prefix + CARRIER_SCANS,
            orders=prefix + ORDERS,
            shipment_alerts=prefix + SHIPMENT_ALERTS,
            dead_letter=prefix + DEAD_LETTER,
            model_updates=prefix + MODEL_UPDATES,
        )

    @property
    def inputs(self) -> tuple[str, str]:
        return (self.carrier_scans, self.orders)

    @property
    def outputs(self) -> tuple[str, str]:
        return (self.shipment_alerts, self.dead_letter)

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.inputs, *self.outputs, self.model_updates)
