"""Where parcels go: areas with carrier facilities, lanes between them and the hub routes."""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from parcelwatch.streams.simulation.chance import _weighted
from parcelwatch.streams.simulation.clock import _zone

if TYPE_CHECKING:
    from parcelwatch.streams.simulation.journey import _Plan


@dataclass(frozen=True, slots=True)
class _Area:
    """A city with a carrier facility; ``weight`` is its share of recipients (0: never one)."""

    city: str
    region: str
    country: str
    postal: tuple[str, ...]  # postal code prefixes (US, DE), outward codes (GB) or FSAs (CA)
    lat: float
    lon: float
    tz: str
    weight: float = 0.0

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.tz)


_NY, _CHI, _DEN, _PHX, _LA = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
)

_BERLIN, _LONDON, _TORONTO = "Europe/Berlin", "Europe/London", "America/Toronto"

_AREAS = {
    area.city: area
    for area in (
        _Area("New York", "NY", "US", ("100", "101", "104", "112"), 40.71, -74.01, _NY, 9),
        _Area("Secaucus", "NJ", "US", ("070", "071"), 40.79, -74.06, _NY, 3),
        _Area("Boston", "MA", "US", ("021", "022"), 42.36, -71.06, _NY, 3),
        _Area("Philadelphia", "PA", "US", ("191",), 39.95, -75.17, _NY, 3),
        _Area("Atlanta", "GA", "US", ("303",), 33.75, -84.39, _NY, 3),
        _Area("Miami", "FL", "US", ("331",), 25.76, -80.19, _NY, 3),
        _Area("Charlotte", "NC", "US", ("282",), 35.23, -80.84, _NY, 2),
        _Area("Columbus", "OH", "US", ("432",), 39.96, -83.00, _NY, 2),
        _Area("Hebron", "KY", "US", ("410",), 39.07, -84.70, _NY),
        _Area("Louisville", "KY", "US", ("402",), 38.25, -85.76, "America/Kentucky/Louisville"),
        _Area("Chicago", "IL", "US", ("606",), 41.88, -87.63, _CHI, 5),
        _Area("Minneapolis", "MN", "US", ("554",), 44.98, -93.27, _CHI, 2),
        _Area("Memphis", "TN", "US", ("381",), 35.15, -90.05, _CHI, 1),
        _Area("Dallas", "TX", "US", ("752",), 32.78, -96.80, _CHI, 4),
        _Area("Houston", "TX", "US", ("770",), 29.76, -95.37, _CHI, 3),
        _Area("Denver", "CO", "US", ("802",), 39.74, -104.99, _DEN, 2),
        _Area("Phoenix", "AZ", "US", ("850",), 33.45, -112.07, _PHX, 2),
        _Area("Los Angeles", "CA", "US", ("900", "902"), 34.05, -118.24, _LA, 6),
        _Area("San Francisco", "CA", "US", ("941",), 37.77, -122.42, _LA, 3),
        _Area("Portland", "OR", "US", ("972",), 45.52, -122.68, _LA, 1),
        _Area("Seattle", "WA", "US", ("981",), 47.61, -122.33, _LA, 2),
        _Area("Berlin", "BE", "DE", ("10", "12", "13"), 52.52, 13.40, _BERLIN, 3),
        _Area("Hamburg", "HH", "DE", ("20", "22"), 53.55, 9.99, _BERLIN, 2),
        _Area("Munich", "BY", "DE", ("80", "81"), 48.14, 11.58, _BERLIN, 2),
        _Area("Cologne", "NW", "DE", ("50", "51"), 50.94, 6.96, _BERLIN, 2),
        _Area("Frankfurt", "HE", "DE", ("60",), 50.11, 8.68, _BERLIN, 1),
        _Area("Leipzig", "SN", "DE", ("04",), 51.34, 12.37, _BERLIN, 1),
        _Area("London", "ENG", "GB", ("EC1A", "SW1A", "N1", "E2", "SE1"), 51.51, -0.13, _LONDON, 4),
        _Area("Birmingham", "ENG", "GB", ("B1", "B5"), 52.49, -1.89, _LONDON, 1),
        _Area("Manchester", "ENG", "GB", ("M1", "M4"), 53.48, -2.24, _LONDON, 2),
        _Area("Castle Donington", "ENG", "GB", ("DE74",), 52.83, -1.33, _LONDON),
        _Area("Edinburgh", "SCT", "GB", ("EH1", "EH3"), 55.95, -3.19, _LONDON, 1),
        _Area("Toronto", "ON", "CA", ("M5V", "M4C"), 43.65, -79.38, _TORONTO, 2),
        _Area("Mississauga", "ON", "CA", ("L5T",), 43.59, -79.64, _TORONTO),
        _Area("Montreal", "QC", "CA", ("H2X", "H3B"), 45.50, -73.57, _TORONTO, 1),
        _Area("Calgary", "AB", "CA", ("T2P",), 51.05, -114.07, "America/Edmonton", 1),
        _Area("Vancouver", "BC", "CA", ("V6B",), 49.28, -123.12, "America/Vancouver", 1),
    )
}

_DESTINATION_COUNTRIES = {"US": 0.78, "DE": 0.09, "GB": 0.08, "CA": 0.05}
_WAREHOUSES = {
    "US": ("Secaucus", "Columbus", "Dallas", "Los Angeles"),
    "DE": ("Leipzig",),
    "GB": ("Birmingham",),
    "CA": ("Mississauga",),
}
_SHIPPED_DOMESTICALLY = {"US": 0.97, "DE": 0.88, "GB": 0.85, "CA": 0.55}
_IMPORTED_FROM = {"US": ("DE", "GB", "CA"), "DE": ("GB", "US"), "GB": ("DE", "US"), "CA": ("US",)}
# Carriers' air hubs and international gateways.
_GATEWAYS = {
    ("ups", "US"): "Louisville",
    ("fedex", "US"): "Memphis",
    ("dhl", "US"): "Hebron",
    ("ups", "DE"): "Cologne",
    ("fedex", "DE"): "Cologne",
    ("dhl", "DE"): "Leipzig",
}
_DEFAULT_GATEWAY = {"GB": "Castle Donington", "CA": "Mississauga", "DE": "Leipzig", "US": "Hebron"}
_LOCALES = {"US": "en-US", "DE": "de-DE", "GB": "en-GB", "CA": "en-CA"}


@dataclass(frozen=True, slots=True)
class _Lane:
    origin: _Area
    destination: _Area

    @property
    def international(self) -> bool:
        return self.origin.country != self.destination.country

    @property
    def km(self) -> float:
        return _distance_km(self.origin, self.destination)


def _distance_km(a: _Area, b: _Area) -> float:
    return _city_distance_km(a.city, b.city)


@functools.cache
def _city_distance_km(city_a: str, city_b: str) -> float:
    """Great-circle distance."""
    a, b = _AREAS[city_a], _AREAS[city_b]
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _draw_lane(rng: random.Random) -> _Lane:
    country = _weighted(rng, _DESTINATION_COUNTRIES)
    destination = _weighted(
        rng, {a.city: a.weight for a in _AREAS.values() if a.country == country and a.weight}
    )
    dest = _AREAS[destination]
    if rng.random() < _SHIPPED_DOMESTICALLY[country]:
        warehouses = [_AREAS[city] for city in _WAREHOUSES[country]]
        if rng.random() < 0.75:  # merchants ship from the nearest warehouse when it has stock
            origin = min(warehouses, key=lambda w: _distance_km(w, dest))
        else:
            origin = rng.choice(warehouses)
    else:
        origin = _AREAS[rng.choice(_WAREHOUSES[rng.choice(_IMPORTED_FROM[country])])]
    return _Lane(origin, dest)


def _postal_code(rng: random.Random, area: _Area) -> str:
    prefix = rng.choice(area.postal)
    if area.country == "US":
        return prefix + f"{rng.randrange(100):02d}"
    if area.country == "DE":
        return prefix + f"{rng.randrange(10 ** (5 - len(prefix))):0{5 - len(prefix)}d}"
    if area.country == "GB":
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        return f"{prefix} {rng.randrange(10)}{rng.choice(letters)}{rng.choice(letters)}"
    letters = "ABCEGHJKLMNPRSTVWXYZ"  # CA: FSA + LDU
    return f"{prefix} {rng.randrange(10)}{rng.choice(letters)}{rng.randrange(10)}"


def _route(plan: _Plan, *, reverse: bool = False) -> list[_Area]:
    """Facilities between origin and destination (exclusive), in travel order."""
    origin, dest = plan.origin, plan.destination
    if reverse:
        origin, dest = dest, origin
    return [_AREAS[city] for city in _hubs(plan.carrier, plan.service, origin.city, dest.city)]


@functools.cache
def _hubs(carrier: str, service: str, origin_city: str, dest_city: str) -> tuple[str, ...]:
    origin, dest = _AREAS[origin_city], _AREAS[dest_city]
    direct = _distance_km(origin, dest)
    if origin.country != dest.country:
        hubs = [_gateway(carrier, origin.country), _gateway(carrier, dest.country)]
    elif service == "express" and carrier != "usps" and direct > 250:
        hubs = [_gateway(carrier, origin.country)]
    else:  # ground network: the regional hubs with the least detour
        wanted = 0 if direct < 300 else 1 if direct < 1200 else 2
        candidates = [
            a
            for a in _AREAS.values()
            if a.country == origin.country
            and a not in (origin, dest)
            and min(_distance_km(origin, a), _distance_km(a, dest)) > 150
        ]
        candidates.sort(key=lambda a: _distance_km(origin, a) + _distance_km(a, dest))
        hubs = sorted(candidates[:wanted], key=lambda a: _distance_km(origin, a))
    return tuple(hub.city for hub in dict.fromkeys(hubs) if hub not in (origin, dest))


def _gateway(carrier: str, country: str) -> _Area:
    return _AREAS[_GATEWAYS.get((carrier, country), _DEFAULT_GATEWAY[country])]
