"""Small builders of contract events for tests: valid by default, every field overridable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from parcelwatch.schemas.types import (
    Customer,
    ExceptionReason,
    NotificationChannel,
    Order,
    Scan,
    ShipmentStatus,
)

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TRACKING = "1ZTEST0000000001"


def at(hours: float) -> datetime:
    """T0 plus ``hours``: keeps event times in tests readable."""
    return T0 + timedelta(hours=hours)


def scan(
    status: ShipmentStatus | str,
    hours: float,
    event_id: str | None = None,
    *,
    reason: ExceptionReason | str | None = None,
    tracking_number: str = TRACKING,
    **extra: Any,
) -> Scan:
    status = ShipmentStatus(status)
    return Scan(
        event_id=event_id or f"{tracking_number}-{status.value}-{hours}",
        tracking_number=tracking_number,
        carrier=extra.pop("carrier", "ups"),
        status=status,
        occurred_at=at(hours),
        reason=ExceptionReason(reason) if reason else None,
        **extra,
    )


def order(
    promised_in_hours: float = 72,
    event_id: str = "order-1",
    *,
    tracking_number: str = TRACKING,
    **extra: Any,
) -> Order:
    return Order(
        event_id=event_id,
        order_id=extra.pop("order_id", "A-1001"),
        tracking_number=tracking_number,
        carrier=extra.pop("carrier", "ups"),
        service_level=extra.pop("service_level", "ground"),
        ordered_at=extra.pop("ordered_at", at(-2)),
        promised_by=at(promised_in_hours),
        **extra,
    )


def order_at(
    tracking: str,
    now: datetime,
    *,
    promise_in_hours: float = 72,
    locale: str = "en-GB",
    timezone: str = "Europe/London",
) -> Order:
    """An order placed 3 h before ``now`` (integration tests work on the live clock)."""
    return Order(
        event_id=f"{tracking}-order",
        order_id=f"A-{tracking[-6:]}",
        tracking_number=tracking,
        carrier="ups",
        service_level="ground",
        ordered_at=now - timedelta(hours=3),
        promised_by=now + timedelta(hours=promise_in_hours),
        customer=Customer("cust-1", locale, timezone, (NotificationChannel.EMAIL,)),
    )


def scan_at(tracking: str, status: str, moment: datetime, suffix: str = "") -> Scan:
    """A scan at a real moment (integration tests work on the live clock)."""
    return Scan(
        event_id=f"{tracking}-{status}{suffix}",
        tracking_number=tracking,
        carrier="ups",
        status=ShipmentStatus(status),
        occurred_at=moment,
    )


def scan_json(**overrides: Any) -> dict[str, Any]:
    """A valid carrier-scans payload as a producer would send it."""
    payload = {
        "schema_version": 1,
        "event_id": "evt-1",
        "tracking_number": TRACKING,
        "carrier": "ups",
        "status": "in_transit",
        "occurred_at": "2026-11-20T10:00:00-05:00",
        "location": {"city": "Louisville", "region": "KY", "country": "US"},
    }
    payload.update(overrides)
    return payload


def order_json(**overrides: Any) -> dict[str, Any]:
    payload = {
        "schema_version": 1,
        "event_id": "ord-evt-1",
        "order_id": "A-1001",
        "tracking_number": TRACKING,
        "carrier": "ups",
        "service_level": "ground",
        "ordered_at": "2026-11-18T12:00:00+01:00",
        "promised_by": "2026-11-22T23:59:59+01:00",
        "destination": {"postal_code": "10115", "region": "BE", "country": "DE"},
        "customer": {
            "id": "cust-42",
            "locale": "de-DE",
            "timezone": "Europe/Berlin",
            "channels": ["email", "push"],
        },
        "items": [{"sku": "SKU-1", "quantity": 2, "category": "shoes"}],
    }
    payload.update(overrides)
    return payload
