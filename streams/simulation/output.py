"""The messages a journey publishes: its order, its scans and when each is emitted."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from parcelwatch.schemas.types import (
    Customer,
    Item,
    Location,
    NotificationChannel,
    Order,
    Place,
    Scan,
    ShipmentStatus,
)
from parcelwatch.streams.simulation.business_days import _add_days, _next_business_day
from parcelwatch.streams.simulation.carrier_texts import (
    _ATTEMPT_WORDS,
    _EXCEPTION_WORDS,
    _RETURN_WORDS,
    _WORDS,
)
from parcelwatch.streams.simulation.carriers import _CARRIERS
from parcelwatch.streams.simulation.chance import _weighted
from parcelwatch.streams.simulation.clock import _in_zone, _whole_seconds
from parcelwatch.streams.simulation.config import SimulatedEvent, SimulationConfig
from parcelwatch.streams.simulation.geography import _LOCALES, _postal_code
from parcelwatch.streams.simulation.journey import _Plan, _Step


def _order(rng: random.Random, plan: _Plan, ordered_at: datetime) -> Order:
    """The merchant's order: promise = ships within one business day + the service's transit."""
    dest = plan.destination
    order_day = ordered_at.astimezone(plan.origin.zone).date()
    # Handling in the warehouse's business days, transit in the destination's.
    handed_over = _next_business_day(order_day, plan.origin.country)
    promised_day = _add_days(handed_over, plan.nominal_days, False, dest.country)
    promised_by = _in_zone(datetime.combine(promised_day, time(23, 59, 59), tzinfo=dest.zone), dest)
    locale = "fr-CA" if dest.region == "QC" else _LOCALES[dest.country]
    channels = _weighted(
        rng,
        {
            (NotificationChannel.EMAIL,): 55,
            (NotificationChannel.EMAIL, NotificationChannel.SMS): 25,
            (NotificationChannel.PUSH, NotificationChannel.EMAIL): 12,
            (NotificationChannel.SMS,): 5,
            (): 3,
        },
    )
    items = tuple(
        Item(
            sku=f"{category[:3].upper()}-{rng.randrange(10000, 99999)}",
            quantity=quantity,
            category=category,
        )
        for category, quantity in (
            (rng.choice(_CATEGORIES), rng.choice((1, 1, 1, 1, 2, 2, 3)))
            for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))
        )
    )
    origin = plan.origin
    return Order(
        event_id=f"{plan.tracking}-o1",
        order_id=f"ord-{100000 + plan.index}",
        tracking_number=plan.tracking,
        carrier=plan.carrier,
        service_level=plan.service,
        ordered_at=ordered_at,
        promised_by=promised_by,
        origin=Place(
            _postal_code(random.Random(origin.city), origin), origin.region, origin.country
        ),
        destination=Place(plan.destination_postal, dest.region, dest.country),
        customer=Customer(
            id=f"cust-{rng.getrandbits(48):012x}",
            locale=locale,
            timezone=dest.tz,
            channels=channels,
        ),
        items=items,
    )


_CATEGORIES = ("apparel", "electronics", "home", "beauty", "books", "toys", "sports", "grocery")


def _scan(plan: _Plan, number: int, step: _Step) -> Scan:
    if step.status is ShipmentStatus.EXCEPTION:
        assert step.reason is not None
        code, text = _EXCEPTION_WORDS[plan.carrier][step.reason]
    elif step.status is ShipmentStatus.ATTEMPT_FAILED:
        assert step.reason is not None
        code, text = _ATTEMPT_WORDS[plan.carrier][step.reason]
    elif step.status is ShipmentStatus.RETURNING_TO_SENDER:
        assert step.reason is not None
        code, text = _RETURN_WORDS[plan.carrier][step.reason]
    else:
        code, text = _WORDS[plan.carrier][step.words]
    area = step.area
    if step.words not in ("label", "cancelled"):
        text = f"{text} ({area.city}, {area.region})" if plan.carrier != "usps" else text
    return Scan(
        event_id=f"{plan.tracking}-s{number}",
        tracking_number=plan.tracking,
        carrier=plan.carrier,
        status=step.status,
        occurred_at=_in_zone(step.at, area),
        reason=step.reason,
        carrier_status_code=code,
        description=text,
        location=Location(area.city, area.region, step.postal_code, area.country),
        estimated_delivery=None
        if step.estimate is None
        else _in_zone(step.estimate, plan.destination),
    )


def _emitted(
    rng: random.Random, plan: _Plan, order: Order, scans: list[Scan], config: SimulationConfig
) -> list[SimulatedEvent]:
    """Publication times: reporting delay, some scans reported late, some sent twice."""
    key = plan.tracking.encode()
    carrier = _CARRIERS[plan.carrier]
    emit = [_whole_seconds(order.ordered_at + timedelta(seconds=rng.uniform(2, 90)))]
    for scan in scans:
        delay = timedelta(minutes=0.3 + rng.expovariate(1 / carrier.report_minutes))
        reported = _whole_seconds(scan.occurred_at.astimezone(UTC) + delay)
        emit.append(max(reported, emit[-1] + timedelta(seconds=1)))
    scan_emits = emit[1:]
    # A late-reported scan must have a later scan to be late after: scale the chance so the share
    # over all scans matches the configured rate.
    if len(scans) > 1:
        late_chance = min(1.0, config.out_of_order_rate * len(scans) / (len(scans) - 1))
        for position in range(len(scans) - 2, -1, -1):
            if rng.random() < late_chance:
                extra = timedelta(minutes=1 + min(rng.expovariate(1 / 90), 720))
                scan_emits[position] = _whole_seconds(scan_emits[position + 1] + extra)
    events = [SimulatedEvent("order", key, order, emit[0])]
    for scan, emit_at in zip(scans, scan_emits, strict=True):
        events.append(SimulatedEvent("scan", key, scan, emit_at))
        if rng.random() < config.duplicate_rate:  # webhook redelivery with backoff
            again = timedelta(seconds=20 + min(rng.expovariate(1 / 1800), 6 * 3600))
            events.append(SimulatedEvent("scan", key, scan, _whole_seconds(emit_at + again)))
    events.sort(key=lambda event: event.emit_at)
    return events
