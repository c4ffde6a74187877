"""Carriers and their services: who carries a lane, how fast, with what tracking numbers, and
how often and for how long exception episodes hold parcels."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from parcelwatch.schemas.types import ExceptionReason
from parcelwatch.streams.simulation.chance import _weighted
from parcelwatch.streams.simulation.geography import _Lane

_R = ExceptionReason


@dataclass(frozen=True, slots=True)
class _Carrier:
    late: float  # chance to run a business day behind its own transit standard
    early: float  # chance to beat it by a day on multi-day ground lanes
    exception_factor: float  # relative propensity for exception episodes
    report_minutes: float  # mean delay between a scan and its publication
    saturday: frozenset[str]  # countries where it delivers on Saturdays
    cancels: bool  # whether voided labels show up in tracking


_CARRIERS = {
    "ups": _Carrier(0.025, 0.20, 0.80, 6.0, frozenset(), True),
    "fedex": _Carrier(0.030, 0.15, 0.90, 4.0, frozenset(), True),
    "usps": _Carrier(0.050, 0.10, 1.30, 45.0, frozenset({"US"}), False),
    "dhl": _Carrier(0.035, 0.15, 1.00, 10.0, frozenset({"DE"}), False),
}
_DOMESTIC_CARRIERS = {
    "US": {"ups": 32, "fedex": 28, "usps": 40},
    "DE": {"dhl": 70, "ups": 30},
    "GB": {"ups": 55, "dhl": 45},
    "CA": {"ups": 50, "fedex": 50},
}
_INTERNATIONAL_CARRIERS = {"dhl": 45, "ups": 30, "fedex": 25}


def _draw_carrier(rng: random.Random, lane: _Lane) -> str:
    if lane.international:
        return _weighted(rng, _INTERNATIONAL_CARRIERS)
    return _weighted(rng, _DOMESTIC_CARRIERS[lane.origin.country])


def _service_weights(lane: _Lane) -> dict[str, float]:
    if lane.international:
        if {lane.origin.country, lane.destination.country} == {"US", "CA"}:
            return {"ground": 40, "express": 25, "economy": 35}
        return {"express": 45, "economy": 55}
    if lane.origin.country == "US":
        return {"ground": 50, "economy": 20, "2day": 18, "express": 12}
    return {"ground": 70, "express": 20, "economy": 10}


def _nominal_days(service: str, km: float, international: bool) -> int:
    """The service's published transit time in business days for this distance."""
    ground = 1 if km < 300 else 2 if km < 900 else 3 if km < 1700 else 4 if km < 2800 else 5
    if international:
        return {"express": 2 if km < 4000 else 3, "ground": ground + 1}.get(
            service, 6 if km < 4000 else 8
        )
    return {"express": 1, "2day": 2, "ground": ground}.get(service, ground + 2)


def _tracking_number(rng: random.Random, carrier: str, service: str, international: bool) -> str:
    """A number in the carrier's own format, with its check digit."""
    if carrier == "ups":  # 1Z + shipper account + service code + package number + check digit
        alnum = "0123456789ABCDEFGHJKLMNPRSTVWXYZ"
        shipper = "".join(rng.choice(alnum) for _ in range(6))
        code = "66" if international and service == "express" else _UPS_SERVICE[service]
        body = f"{shipper}{code}{rng.randrange(10**7):07d}"
        return f"1Z{body}{_ups_check_digit(body)}"
    if carrier == "fedex":
        if service in ("ground", "economy"):  # FedEx Ground: 15 digits
            body = f"{rng.randrange(10**13, 10**14)}"
            return body + _mod10_check_digit(body)
        body = f"7{rng.randrange(10**10):010d}"  # FedEx Express: 12 digits
        weighted = sum(int(d) * w for d, w in zip(reversed(body), [1, 3, 7] * 4, strict=False))
        return body + str(weighted % 11 % 10)
    if carrier == "usps":  # IMpb: service type code + mailer id + serial + mod 10 check digit
        body = f"{_USPS_PREFIX[service]}1{rng.randrange(10**8, 10**9)}{rng.randrange(10**7):07d}"
        return body + _mod10_check_digit(body)
    body = f"{rng.randrange(10**8, 10**9)}"  # DHL Express waybill: 9 digits + mod 7 check digit
    return body + str(int(body) % 7)


_UPS_SERVICE = {"express": "01", "2day": "02", "ground": "03", "economy": "03"}
_USPS_PREFIX = {"express": "9270", "2day": "9205", "ground": "9400", "economy": "9400"}


def _ups_check_digit(body: str) -> str:
    total = 0
    for position, char in enumerate(body):
        value = int(char) if char.isdigit() else (ord(char) - 63) % 10
        total += value * (2 if position % 2 else 1)
    return str((10 - total % 10) % 10)


def _mod10_check_digit(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


# Exception episodes: how common each reason is, and the business days it costs.
_DOMESTIC_REASONS = {
    _R.WEATHER_DELAY: 25,
    _R.CARRIER_DELAY: 30,
    _R.MISSORTED: 12,
    _R.ADDRESS_ISSUE: 10,
    _R.DAMAGED: 8,
    _R.LOST: 5,
    _R.OTHER: 6,
}
_INTERNATIONAL_REASONS = {**_DOMESTIC_REASONS, _R.CUSTOMS_DELAY: 45, _R.HELD_FOR_PAYMENT: 10}
_DELAY_DAYS: dict[ExceptionReason, Sequence[int]] = {
    _R.WEATHER_DELAY: (0, 1, 1, 2),
    _R.CARRIER_DELAY: (0, 1, 1, 2),
    _R.MISSORTED: (1, 1, 2),
    _R.ADDRESS_ISSUE: (0, 1, 1),
    _R.DAMAGED: (1, 1, 2),
    _R.LOST: (2, 3, 4),  # when the parcel turns up again
    _R.OTHER: (0, 1),
    _R.CUSTOMS_DELAY: (1, 1, 2, 3),
    _R.HELD_FOR_PAYMENT: (2, 3, 4),
}
_LOST_FOR_GOOD = 0.6
