"""Carriers and services: who carries which lane, and tracking numbers in each carrier's format."""

from __future__ import annotations

from parcelwatch.schemas.types import Order
from parcelwatch.streams.simulation import SimulatedEvent

from tests.streams.simulation.journeys import orders_of


def _mod10_valid(number: str) -> bool:
    """The 3-1 weighted mod 10 check digit of USPS IMpb and FedEx Ground numbers."""
    body, check = number[:-1], int(number[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def _ups_valid(number: str) -> bool:
    """UPS: letters count as (code - 63) mod 10, every second character double, mod 10."""
    body, check = number[2:-1], int(number[-1])
    values = [int(c) if c.isdigit() else (ord(c) - 63) % 10 for c in body]
    total = sum(value * (2 if position % 2 else 1) for position, value in enumerate(values))
    return (10 - total % 10) % 10 == check


def _fedex_express_valid(number: str) -> bool:
    """FedEx Express: weights 1, 3, 7 from the right, mod 11 (10 counts as 0)."""
    body, check = number[:-1], int(number[-1])
    weights = [1, 3, 7] * 4
    return sum(int(d) * w for d, w in zip(reversed(body), weights, strict=False)) % 11 % 10 == check


def _valid(order: Order) -> bool:
    number = order.tracking_number
    if order.carrier == "ups":
        return number.startswith("1Z") and len(number) == 18 and _ups_valid(number)
    if order.carrier == "fedex":
        if order.service_level in ("ground", "economy"):
            return len(number) == 15 and number.isdigit() and _mod10_valid(number)
        return len(number) == 12 and number.isdigit() and _fedex_express_valid(number)
    if order.carrier == "usps":
        return len(number) == 22 and number.isdigit() and _mod10_valid(number)
    return len(number) == 10 and number.isdigit() and int(number[:-1]) % 7 == int(number[-1])


def test_tracking_numbers_have_the_carriers_formats_and_check_digits(
    big: list[SimulatedEvent],
) -> None:
    orders = orders_of(big).values()
    assert {order.carrier for order in orders} == {"ups", "fedex", "usps", "dhl"}
    assert [order.tracking_number for order in orders if not _valid(order)] == []


def test_carriers_serve_their_own_countries_and_international_lanes(
    big: list[SimulatedEvent],
) -> None:
    domestic: dict[str, set[str]] = {}
    for order in orders_of(big).values():
        assert order.origin is not None and order.destination is not None
        if order.origin.country == order.destination.country:
            domestic.setdefault(order.origin.country, set()).add(order.carrier)
        else:
            assert order.carrier != "usps"  # international lanes go by DHL, UPS or FedEx
            assert order.service_level != "2day"
    assert domestic["US"] == {"ups", "fedex", "usps"}
    assert "dhl" in domestic["DE"] and "usps" not in domestic["DE"]
