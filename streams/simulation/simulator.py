"""Simulated shipments: orders and carrier scan journeys as real carriers report them.

Everything here is pure and deterministic: randomness comes from a seeded ``random.Random`` (one per
shipment, derived from the seed and the shipment's index) and the clock is the ``now`` the caller
passes. Only :func:`produce` does I/O.

What the simulation models (see ``/work/shared/design/DOMAIN.md`` for the facts behind it):

* lanes between a merchant's warehouses and recipients, mostly US domestic plus DE, GB and CA, with
  distance driving ground transit time and a regional hub route;
* four carriers (``ups``, ``fedex``, ``usps``, ``dhl``) with their own reliability, reporting
  latency, Saturday delivery and status codes (UPS ``M``/``P``/``I``/``O``/``D``/``X``, FedEx
  ``OC``/``PU``/``AR``/``DP``/``OD``/``DL``/``DE``, USPS ``GX``/``OA``/``OF``/``01``, DHL
  ``PU``/``AF``/``WC``/``OK``...);
* service levels (``express``, ``2day``, ``ground``, ``economy``) with nominal transit in business
  days, a merchant promise of "ships within one business day" plus that nominal transit, due at the
  end of the day in the destination's time zone;
* the troubles peers detect: carrier exception episodes and their recovery, failed delivery
  attempts, parcels held for pickup, returns to sender, parcels never handed over, lost parcels;
* regional storms that delay many shipments at once: a seeded calendar (:func:`storm_calendar`,
  a function of the seed and the dates only, more storms in winter) of one- to three-day storms,
  each over one region; parcels picked up in, passing through or delivered into that region
  while it lasts are held (hours to days) and most get a ``weather_delay`` exception scan;
* public holidays (:func:`public_holidays`, rule-based for US, DE, GB and CA, any year): no
  deliveries on them in the destination, and merchants and carriers skip them when counting
  business days, as they do weekends;
* the transport: carriers report each scan minutes to hours after it happened, re-send some
  (same ``event_id``) and report some late, after a later scan.
"""

from __future__ import annotations

import asyncio
import calendar
import functools
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Literal, Protocol, TypeVar
from zoneinfo import ZoneInfo

from parcelwatch.schemas.codec import encode
from parcelwatch.schemas.topics import TopicNames
from parcelwatch.schemas.types import (
    Customer,
    ExceptionReason,
    Item,
    Location,
    NotificationChannel,
    Order,
    Place,
    Scan,
    ShipmentStatus,
)

_T = TypeVar("_T")


# ---------------------------------------------------------------------------------------------
# Public API


@dataclass(frozen=True)
class SimulatedEvent:
    """One input message as a real system would publish it."""

    topic_kind: Literal["order", "scan"]  # which input topic: orders or carrier-scans
    key: bytes  # the tracking number, UTF-8
    event: Order | Scan
    emit_at: datetime  # when it is published (aware, UTC): occurred time plus reporting delay

    def topic(self, topics: TopicNames) -> str:
        return topics.orders if self.topic_kind == "order" else topics.carrier_scans


@dataclass(frozen=True)
class SimulationConfig:
    """How many shipments, the seed, and how often each kind of trouble happens."""

    shipments: int = 100
    seed: int = 7
    duplicate_rate: float = 0.03  # share of scans re-sent with the same event_id
    out_of_order_rate: float = 0.05  # share of scans reported after a later scan
    exception_rate: float = 0.06  # shipments with a carrier exception episode
    failed_attempt_rate: float = 0.05  # shipments with at least one failed delivery attempt
    return_rate: float = 0.01  # shipments returned to sender (refused or undeliverable)
    never_picked_up_rate: float = 0.015  # labels created but the parcel never handed over
    window_days: float = 10.0  # orders are placed within this many days before ``now``
    storm_rate: float = 1.0  # how often storms form, relative to the usual climate (0: never)

    def __post_init__(self) -> None:
        if self.shipments < 0:
            raise ValueError("shipments must not be negative")
        if self.window_days <= 0:
            raise ValueError("window_days must be positive")
        if self.storm_rate < 0:
            raise ValueError("storm_rate must not be negative")
        for name in (
            "duplicate_rate",
            "out_of_order_rate",
            "exception_rate",
            "failed_attempt_rate",
            "return_rate",
            "never_picked_up_rate",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")


def generate_journeys(config: SimulationConfig, *, now: datetime) -> list[SimulatedEvent]:
    """All events of ``config.shipments`` shipments ordered within ``window_days`` before ``now``.

    Journeys still under way are cut at ``now``: only events published by then are included, so
    every ``emit_at`` (and hence every event time) is at or before ``now``. Every shipment keeps at
    least its order. Sorted by ``emit_at``.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    events: list[SimulatedEvent] = []
    tracking_numbers: set[bytes] = set()
    for index in range(config.shipments):
        attempt = 0
        while True:  # a tracking number drawn twice (very rare) is drawn again, deterministically
            rng = random.Random(f"parcelwatch.simulate/{config.seed}/{index}/{attempt}")
            ordered_at = _order_time(rng, now, config.window_days)
            journey = journey_events(rng, index, ordered_at, config=config)
            if journey[0].key not in tracking_numbers:
                break
            attempt += 1
        tracking_numbers.add(journey[0].key)
        events.extend(event for event in journey if event.emit_at <= now)
    events.sort(key=lambda event: event.emit_at)
    return events


def journey_events(
    rng: random.Random,
    index: int,
    ordered_at: datetime,
    *,
    config: SimulationConfig | None = None,
) -> list[SimulatedEvent]:
    """The whole life of one shipment ordered at ``ordered_at`` (not cut), sorted by ``emit_at``.

    ``index`` numbers the merchant's orders (it becomes the order id). Storms come from the
    calendar of ``config.seed``.
    """
    if ordered_at.tzinfo is None:
        raise ValueError("ordered_at must be timezone-aware")
    config = config if config is not None else SimulationConfig()
    ordered_at = _whole_seconds(ordered_at.astimezone(UTC))
    lane = _draw_lane(rng)
    carrier = _draw_carrier(rng, lane)
    service = _weighted(rng, _service_weights(lane))
    plan = _Plan(
        index=index,
        carrier=carrier,
        service=service,
        origin=lane.origin,
        destination=lane.destination,
        destination_postal=_postal_code(rng, lane.destination),
        km=lane.km,
        international=lane.international,
        nominal_days=_nominal_days(service, lane.km, lane.international),
        tracking=_tracking_number(rng, carrier, service, lane.international),
    )
    order = _order(rng, plan, ordered_at)
    steps = _Journey(rng, plan, config, ordered_at).steps()
    scans = [_scan(plan, number, step) for number, step in enumerate(steps, start=1)]
    return _emitted(rng, plan, order, scans, config)


class Producer(Protocol):
    """What :func:`produce` needs of a producer (``aiokafka.AIOKafkaProducer`` has it)."""

    async def send_and_wait(self, topic: str, *, key: bytes, value: bytes) -> object: ...


async def produce(
    events: Iterable[SimulatedEvent],
    *,
    producer: Producer,
    topics: TopicNames,
    rate: float | None,
) -> int:
    """Send each event in the given order; ``rate`` events per second (None: as fast as possible).

    Returns how many events were sent.
    """
    if rate is not None and rate <= 0:
        raise ValueError("rate must be positive (or None for as fast as possible)")
    loop = asyncio.get_running_loop()
    started = loop.time()
    sent = 0
    for event in events:
        if rate is not None:
            wait = started + sent / rate - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
        await producer.send_and_wait(event.topic(topics), key=event.key, value=encode(event.event))
        sent += 1
    return sent


# ---------------------------------------------------------------------------------------------
# Geography


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


# ---------------------------------------------------------------------------------------------
# Calendars: public holidays and storms


def easter_sunday(year: int) -> date:
    """Western Easter Sunday of ``year`` (the anonymous Gregorian computus, Meeus/Jones/Butcher)."""
    golden = year % 19
    century, year_of_century = divmod(year, 100)
    leap_centuries, century_rest = divmod(century, 4)
    correction = (century + 8) // 25
    moon = (century - correction + 1) // 3
    epact = (19 * golden + century - leap_centuries - moon + 15) % 30
    leap_years, year_rest = divmod(year_of_century, 4)
    weekday = (32 + 2 * century_rest + 2 * leap_years - epact - year_rest) % 7
    shift = (golden + 11 * epact + 22 * weekday) // 451
    month, day = divmod(epact + weekday - 7 * shift + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """The ``nth`` ``weekday`` (0: Monday) of the month; ``nth`` -1: the last one."""
    if nth > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _with_substitutes(days: list[date], fixed: list[date], *, us_rule: bool) -> set[date]:
    """``days`` plus the weekday each weekend date in ``fixed`` is observed on instead.

    US federal rule: a Saturday holiday is observed on the Friday before, a Sunday one on the
    Monday after. GB and CA: the next weekday that is not already a holiday (so Christmas on a
    Saturday and Boxing Day on the Sunday give Monday the 27th and Tuesday the 28th).
    """
    observed = set(days)
    for holiday in fixed:
        if holiday.weekday() < 5:
            continue
        if us_rule:
            observed.add(holiday + timedelta(days=-1 if holiday.weekday() == 5 else 1))
            continue
        substitute = holiday + timedelta(days=1)
        while substitute.weekday() >= 5 or substitute in observed:
            substitute += timedelta(days=1)
        observed.add(substitute)
    return observed


def _holidays_of(country: str, year: int) -> set[date]:
    """The holidays that belong to ``year`` (their substitutes may fall into the next or the
    previous year: New Year's Day on a Saturday is observed on 31 December in the US)."""
    easter = easter_sunday(year)
    new_year, christmas, boxing_day = date(year, 1, 1), date(year, 12, 25), date(year, 12, 26)
    if country == "US":
        fixed = [new_year, date(year, 7, 4), christmas]
        movable = [
            _nth_weekday(year, 5, 0, -1),  # Memorial Day
            _nth_weekday(year, 9, 0, 1),  # Labor Day
            _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        ]
        return _with_substitutes(fixed + movable, fixed, us_rule=True)
    if country == "DE":  # nationwide holidays only; no substitute days in Germany
        return {
            new_year,
            easter - timedelta(days=2),  # Karfreitag
            easter + timedelta(days=1),  # Ostermontag
            date(year, 5, 1),  # Tag der Arbeit
            easter + timedelta(days=39),  # Christi Himmelfahrt
            easter + timedelta(days=50),  # Pfingstmontag
            date(year, 10, 3),  # Tag der Deutschen Einheit
            christmas,
            boxing_day,
        }
    if country == "GB":  # bank holidays of England and Wales
        fixed = [new_year, christmas, boxing_day]
        movable = [
            easter - timedelta(days=2),  # Good Friday
            easter + timedelta(days=1),  # Easter Monday
            _nth_weekday(year, 5, 0, 1),  # early May bank holiday
            _nth_weekday(year, 5, 0, -1),  # spring bank holiday
            _nth_weekday(year, 8, 0, -1),  # summer bank holiday
        ]
        return _with_substitutes(fixed + movable, fixed, us_rule=False)
    if country == "CA":  # federal statutory holidays that Canada Post and couriers observe
        may_24 = date(year, 5, 24)
        fixed = [new_year, date(year, 7, 1), date(year, 11, 11), christmas, boxing_day]
        movable = [
            easter - timedelta(days=2),  # Good Friday
            may_24 - timedelta(days=may_24.weekday()),  # Victoria Day: Monday before 25 May
            _nth_weekday(year, 9, 0, 1),  # Labour Day
            _nth_weekday(year, 10, 0, 2),  # Thanksgiving
        ]
        return _with_substitutes(fixed + movable, fixed, us_rule=False)
    raise ValueError(f"no holiday calendar for {country!r}")


@functools.cache
def public_holidays(country: str, year: int) -> frozenset[date]:
    """The public holidays in ``country`` (US, DE, GB or CA) that fall in ``year``.

    Nobody delivers on them and merchants do not count them as business days. A rule-based,
    nationwide subset (regional holidays such as Bavaria's or Quebec's are left out):

    * US (the six days UPS and FedEx close): New Year's Day, Memorial Day (last Monday in May),
      Independence Day, Labor Day (first Monday in September), Thanksgiving (fourth Thursday in
      November), Christmas Day; a date on a Saturday is also observed on the Friday before, on a
      Sunday on the Monday after.
    * DE: New Year's Day, Good Friday, Easter Monday, 1 May, Ascension Day, Whit Monday, German
      Unity Day (3 October), Christmas Day and 26 December; no substitutes.
    * GB (England and Wales bank holidays, used for Scotland too): New Year's Day, Good Friday,
      Easter Monday, the early May, spring and summer bank holidays (first and last Monday in May,
      last Monday in August), Christmas Day, Boxing Day; a date on a weekend gets the next free
      weekday as its substitute.
    * CA: New Year's Day, Good Friday, Victoria Day (the Monday before 25 May), Canada Day,
      Labour Day, Thanksgiving (second Monday in October), Remembrance Day, Christmas Day, Boxing
      Day; weekend dates get substitutes as in GB.
    """
    nearby = _holidays_of(country, year - 1) | _holidays_of(country, year)
    nearby |= _holidays_of(country, year + 1)
    return frozenset(day for day in nearby if day.year == year)


@dataclass(frozen=True, slots=True)
class Storm:
    """A regional disruption: severe weather over one region from ``start`` to ``end``.

    Parcels at a facility in the region (picked up there, passing one of its hubs, or out for
    delivery into it) while the storm is active sit out part of it and the backlog after it.
    """

    country: str
    region: str  # as in the shipments' places: a US state, a German Land, ENG, SCT, a province
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC
    severity: float  # 0.4 to 1.0: the share of the remaining storm that parcels caught sit out

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and self.end > start


def storm_calendar(seed: int, start: datetime, end: datetime, *, rate: float = 1.0) -> list[Storm]:
    """The storms active at some time between ``start`` and ``end``, ordered by their start.

    The calendar is a function of the seed and the dates alone: the storms beginning on each day
    are drawn from that day's own seeded generator, so any window shows the same storms on the
    same days, whatever the number of shipments. ``rate`` scales how often storms form (0: never;
    the default is about four a month over the four countries in summer and eight in deep
    winter).
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if rate < 0:
        raise ValueError("rate must not be negative")
    storms = [
        storm
        for day in _days(start - _STORM_REACH, end + timedelta(days=1))
        for storm in _storms_beginning(seed, day, rate)
        if storm.overlaps(start, end)
    ]
    return sorted(storms, key=lambda storm: (storm.start, storm.country, storm.region))


# How wintry each month is (1: snow and ice storms dominate; 0: thunderstorms and hurricanes).
_WINTER = {1: 1.0, 2: 1.0, 3: 0.6, 4: 0.25, 10: 0.25, 11: 0.6, 12: 1.0}
_STORMS_PER_MONTH = (4.0, 8.0)  # over all four countries, in summer and in deep winter
_STORM_HOURS = (20.0, 72.0)  # how long one lasts: roughly one to three days
_STORM_REACH = timedelta(days=4)  # one active at t began (its UTC date) at most 4 days before
# How prone each region is to storms in winter and in summer (relative weights).
_STORM_PRONENESS: dict[tuple[str, str], tuple[float, float]] = {
    ("US", "NY"): (3.0, 1.0),
    ("US", "NJ"): (2.0, 1.0),
    ("US", "MA"): (3.0, 1.0),
    ("US", "PA"): (2.0, 1.0),
    ("US", "GA"): (0.5, 1.5),
    ("US", "FL"): (0.2, 3.0),
    ("US", "NC"): (1.0, 2.0),
    ("US", "OH"): (2.0, 1.0),
    ("US", "KY"): (1.5, 1.0),
    ("US", "IL"): (3.0, 1.5),
    ("US", "MN"): (3.0, 1.0),
    ("US", "TN"): (1.0, 1.0),
    ("US", "TX"): (1.0, 2.5),
    ("US", "CO"): (2.5, 1.0),
    ("US", "AZ"): (0.2, 1.0),
    ("US", "CA"): (1.0, 0.3),
    ("US", "OR"): (1.0, 0.3),
    ("US", "WA"): (1.5, 0.3),
    ("DE", "BE"): (1.0, 0.7),
    ("DE", "HH"): (1.0, 0.7),
    ("DE", "BY"): (1.5, 1.0),
    ("DE", "NW"): (1.0, 0.8),
    ("DE", "HE"): (0.8, 0.7),
    ("DE", "SN"): (1.0, 0.8),
    ("GB", "ENG"): (2.0, 0.8),
    ("GB", "SCT"): (2.0, 0.5),
    ("CA", "ON"): (3.0, 1.0),
    ("CA", "QC"): (3.0, 1.0),
    ("CA", "AB"): (2.0, 0.8),
    ("CA", "BC"): (1.5, 0.3),
}
_REGION_ZONES = {(area.country, area.region): area.tz for area in reversed(list(_AREAS.values()))}


def _days(start: datetime, end: datetime) -> Iterable[date]:
    """The UTC dates from ``start``'s to ``end``'s, both included."""
    day, last = start.astimezone(UTC).date(), end.astimezone(UTC).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


@functools.lru_cache(maxsize=16384)
def _storms_beginning(seed: int, day: date, rate: float) -> tuple[Storm, ...]:
    """The storms that begin on ``day`` (local time in the region hit)."""
    if rate == 0:
        return ()
    rng = random.Random(f"parcelwatch.simulate/{seed}/storms/{day.isoformat()}")
    winter = _WINTER.get(day.month, 0.0)
    summer_rate, winter_rate = _STORMS_PER_MONTH
    count = _poisson(rng, rate * (summer_rate + (winter_rate - summer_rate) * winter) / 30.4)
    weights = {
        region: in_winter * winter + in_summer * (1.0 - winter)
        for region, (in_winter, in_summer) in _STORM_PRONENESS.items()
    }
    storms = []
    for _ in range(count):
        country, region = _weighted(rng, weights)
        midnight = datetime.combine(day, time(), tzinfo=_zone(_REGION_ZONES[country, region]))
        start = _whole_seconds(midnight.astimezone(UTC) + _hours(rng.uniform(0.0, 24.0)))
        end = _whole_seconds(start + _hours(rng.uniform(*_STORM_HOURS)))
        storms.append(Storm(country, region, start, end, round(rng.uniform(0.4, 1.0), 3)))
    return tuple(storms)


def _storm_over(
    seed: int, rate: float, area: _Area, start: datetime, end: datetime
) -> Storm | None:
    """The first storm active over ``area``'s region at some time between ``start`` and ``end``."""
    hits = [
        storm
        for day in _days(start - _STORM_REACH, end + timedelta(days=1))
        for storm in _storms_beginning(seed, day, rate)
        if storm.region == area.region
        and storm.country == area.country
        and storm.overlaps(start, end)
    ]
    return min(hits, key=lambda storm: storm.start, default=None)


# ---------------------------------------------------------------------------------------------
# Carriers and services


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


# What each carrier says, as (carrier_status_code, description). USPS is known by its texts more
# than by codes, so some of its events carry no code, as in its real feeds.
_Text = tuple[str | None, str]
_WORDS: dict[str, dict[str, _Text]] = {
    "ups": {
        "label": ("M", "Shipper created a label, UPS has not received the package yet."),
        "pickup": ("P", "Pickup Scan"),
        "arrive": ("I", "Arrived at Facility"),
        "depart": ("I", "Departed from Facility"),
        "cleared": ("I", "Import Scan: released by clearing agency"),
        "resumed": ("I", "Processing at UPS Facility"),
        "facility": ("I", "Destination Scan"),
        "ofd": ("O", "Out For Delivery Today"),
        "delivered": ("D", "Delivered"),
        "ready": ("I", "Delivered to UPS Access Point, awaiting customer pickup"),
        "collected": ("D", "Picked up by the customer at UPS Access Point"),
        "returned": ("RS", "Returned to Sender"),
        "cancelled": ("MV", "Shipment information voided"),
    },
    "fedex": {
        "label": ("OC", "Shipment information sent to FedEx"),
        "pickup": ("PU", "Picked up"),
        "arrive": ("AR", "Arrived at FedEx location"),
        "depart": ("DP", "Departed FedEx location"),
        "cleared": ("CC", "International shipment release - Import"),
        "resumed": ("IT", "In transit"),
        "facility": ("AR", "At local FedEx facility"),
        "ofd": ("OD", "On FedEx vehicle for delivery"),
        "delivered": ("DL", "Delivered"),
        "ready": ("HL", "Ready for recipient pickup"),
        "collected": ("DL", "Delivered - picked up at FedEx location"),
        "returned": ("RS", "Returned to shipper"),
        "cancelled": ("CA", "Shipment cancelled by sender"),
    },
    "usps": {
        "label": ("GX", "Shipping Label Created, USPS Awaiting Item"),
        "pickup": ("OA", "Accepted at USPS Origin Facility"),
        "arrive": ("10", "Arrived at USPS Regional Facility"),
        "depart": ("L1", "Departed USPS Regional Facility"),
        "cleared": (None, "Customs Clearance Processed"),
        "resumed": (None, "In Transit to Next Facility"),
        "facility": ("07", "Arrived at Post Office"),
        "ofd": ("OF", "Out for Delivery"),
        "delivered": ("01", "Delivered, Front Door/Porch"),
        "ready": ("16", "Available for Pickup"),
        "collected": ("01", "Delivered, Individual Picked Up at Post Office"),
        "returned": ("01", "Delivered, To Original Sender"),
        "cancelled": (None, "Label Cancelled"),
    },
    "dhl": {
        "label": (None, "Shipment information received"),
        "pickup": ("PU", "Shipment picked up"),
        "arrive": ("AF", "Arrived at DHL Sort Facility"),
        "depart": ("DF", "Departed Facility"),
        "cleared": ("CR", "Clearance processing complete"),
        "resumed": ("PL", "Processed"),
        "facility": ("AR", "Arrived at DHL Delivery Facility"),
        "ofd": ("WC", "Shipment is out with courier for delivery"),
        "delivered": ("OK", "Delivered"),
        "ready": ("CC", "Awaiting collection by recipient as requested"),
        "collected": ("OK", "Delivered - collected by recipient"),
        "returned": ("OK", "Delivered to shipper"),
        "cancelled": (None, "Shipment cancelled"),
    },
}
_R = ExceptionReason
_EXCEPTION_WORDS: dict[str, dict[ExceptionReason, _Text]] = {
    "ups": {
        _R.WEATHER_DELAY: ("X", "Severe weather conditions have delayed delivery."),
        _R.CARRIER_DELAY: ("X", "A mechanical failure has delayed delivery."),
        _R.CUSTOMS_DELAY: ("X", "The package is being held for a customs clearance review."),
        _R.HELD_FOR_PAYMENT: ("X", "Duties and taxes are due before the package can be released."),
        _R.ADDRESS_ISSUE: ("X", "The address is incomplete; we're updating it."),
        _R.DAMAGED: ("X", "Damage reported. The contents are being evaluated."),
        _R.LOST: ("X", "We're sorry, the package could not be located."),
        _R.MISSORTED: ("X", "The package was missorted and is being rerouted."),
        _R.OTHER: ("X", "An exception occurred; delivery may be delayed."),
    },
    "fedex": {
        _R.WEATHER_DELAY: ("DY", "Delay: Local weather conditions"),
        _R.CARRIER_DELAY: ("DY", "Delay: Operational delay"),
        _R.CUSTOMS_DELAY: ("CD", "Clearance delay - Import"),
        _R.HELD_FOR_PAYMENT: ("CD", "Clearance delay - duties and taxes due"),
        _R.ADDRESS_ISSUE: ("DE", "Incorrect address"),
        _R.DAMAGED: ("SE", "Package damaged"),
        _R.LOST: ("SE", "Package not located"),
        _R.MISSORTED: ("SE", "Package misrouted"),
        _R.OTHER: ("SE", "Shipment exception"),
    },
    "usps": {
        _R.WEATHER_DELAY: (None, "Delayed Due to Weather"),
        _R.CARRIER_DELAY: (None, "In Transit, Arriving Late"),
        _R.CUSTOMS_DELAY: (None, "Held in Customs"),
        _R.HELD_FOR_PAYMENT: (None, "Held in Customs - Payment Required"),
        _R.ADDRESS_ISSUE: (None, "Insufficient Address"),
        _R.DAMAGED: (None, "Damaged, Processed at Facility"),
        _R.LOST: (None, "Missing Mail Search Initiated"),
        _R.MISSORTED: (None, "Missent"),
        _R.OTHER: (None, "Alert"),
    },
    "dhl": {
        _R.WEATHER_DELAY: ("TD", "Delayed due to adverse weather conditions"),
        _R.CARRIER_DELAY: ("TD", "Scheduled for movement to next facility; delayed"),
        _R.CUSTOMS_DELAY: ("CD", "Clearance delay"),
        _R.HELD_FOR_PAYMENT: ("HP", "Held for payment of duties"),
        _R.ADDRESS_ISSUE: ("BA", "Bad address"),
        _R.DAMAGED: ("OH", "Shipment on hold: damaged packaging"),
        _R.LOST: ("OH", "Shipment on hold: could not be located"),
        _R.MISSORTED: ("MS", "Shipment mis-sorted"),
        _R.OTHER: ("OH", "Shipment on hold"),
    },
}
_ATTEMPT_WORDS: dict[str, dict[ExceptionReason, _Text]] = {
    "ups": {
        _R.RECIPIENT_UNAVAILABLE: (
            "X",
            "The receiver was not available for delivery. We'll make a second attempt.",
        ),
        _R.ADDRESS_ISSUE: ("X", "The street number is incorrect. This may delay delivery."),
    },
    "fedex": {
        _R.RECIPIENT_UNAVAILABLE: ("DE", "Customer not available or business closed"),
        _R.ADDRESS_ISSUE: ("DE", "Incorrect address - unable to deliver"),
    },
    "usps": {
        _R.RECIPIENT_UNAVAILABLE: ("02", "Notice Left (No Authorized Recipient Available)"),
        _R.ADDRESS_ISSUE: ("05", "Undeliverable as Addressed"),
    },
    "dhl": {
        _R.RECIPIENT_UNAVAILABLE: ("NH", "Delivery attempted; recipient not home"),
        _R.ADDRESS_ISSUE: ("BA", "Bad address"),
    },
}
_RETURN_WORDS: dict[str, dict[ExceptionReason, _Text]] = {
    "ups": {
        _R.REFUSED: ("RS", "Returning to Sender: The receiver refused the delivery."),
        _R.ADDRESS_ISSUE: ("RS", "Returning to Sender: The address could not be corrected."),
    },
    "fedex": {
        _R.REFUSED: ("RS", "Returning package to shipper: refused by recipient"),
        _R.ADDRESS_ISSUE: ("RS", "Returning package to shipper: incorrect address"),
    },
    "usps": {
        _R.REFUSED: ("04", "Refused"),
        _R.ADDRESS_ISSUE: (None, "Return to Sender Processed"),
    },
    "dhl": {
        _R.REFUSED: ("RD", "Recipient refused delivery"),
        _R.ADDRESS_ISSUE: ("RT", "Returned to shipper: bad address"),
    },
}

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


# ---------------------------------------------------------------------------------------------
# One shipment


@dataclass(frozen=True, slots=True)
class _Plan:
    index: int
    carrier: str
    service: str
    origin: _Area
    destination: _Area
    destination_postal: str
    km: float
    international: bool
    nominal_days: int
    tracking: str


@dataclass(slots=True)
class _Step:
    """A scan to be: what (``words`` key), status, when (UTC) and where."""

    words: str
    status: ShipmentStatus
    at: datetime
    area: _Area
    reason: ExceptionReason | None = None
    estimate: datetime | None = None
    postal_code: str | None = None


@dataclass(frozen=True, slots=True)
class _Hold:
    """A storm holding the parcel at a stop: 0 the origin, 1..n the hubs, n + 1 the destination."""

    stop: int
    area: _Area
    reached: datetime  # when the parcel got to the stop (nominally)
    left: datetime  # when it would have left without the storm
    began: datetime  # when the storm stopped it
    released: datetime  # when it moves on (the storm, or the parcel's share of it, and backlog)
    report: bool  # whether the carrier scans a weather exception


_CUTOFF_HOUR = 14  # orders placed before this (warehouse local time) on a business day ship today
_HANDLING_SLIP = 0.03  # chance the parcel misses its pickup and waits 1-2 business days


class _Journey:
    """Builds the scan steps of one shipment from its plan and the trouble drawn for it."""

    def __init__(
        self, rng: random.Random, plan: _Plan, config: SimulationConfig, ordered_at: datetime
    ) -> None:
        self.rng = rng
        self.plan = plan
        self.config = config
        self.ordered_at = ordered_at
        self.carrier = _CARRIERS[plan.carrier]
        self.saturday = plan.destination.country in self.carrier.saturday
        self.out: list[_Step] = []

    def steps(self) -> list[_Step]:
        rng, plan, config = self.rng, self.plan, self.config
        origin, dest = plan.origin, plan.destination
        # Outcomes are drawn first, in a fixed order, so each shipment's randomness is stable.
        never_picked_up = rng.random() < config.never_picked_up_rate
        returned = rng.random() < config.return_rate
        exception = rng.random() < min(1.0, config.exception_rate * self.carrier.exception_factor)
        failed_attempts = 0
        if rng.random() < config.failed_attempt_rate:
            failed_attempts = 1 if rng.random() < 0.75 else 2

        ordered_local = self.ordered_at.astimezone(origin.zone)
        home = origin.country  # the warehouse and the pickup keep the origin's holidays
        if _is_business_day(ordered_local.date(), home) and ordered_local.hour < _CUTOFF_HOUR:
            ship_day = ordered_local.date()
            latest = _at(ship_day, 15.5, origin)
            label_at = min(self.ordered_at + _hours(rng.uniform(0.5, 3.5)), latest)
        else:
            ship_day = _next_business_day(ordered_local.date(), home)
            label_at = _at(ship_day, rng.uniform(8.0, 13.0), origin)
        self.add("label", ShipmentStatus.INFO_RECEIVED, label_at, origin)
        if never_picked_up:
            if self.carrier.cancels and rng.random() < 0.3:
                voided = _at(
                    _add_days(ship_day, rng.randint(2, 5), False, home), rng.uniform(9, 17), origin
                )
                self.add("cancelled", ShipmentStatus.CANCELLED, voided, origin)
            return self.finish()

        pickup_day = ship_day
        if rng.random() < _HANDLING_SLIP:
            pickup_day = _add_days(ship_day, rng.choice((1, 1, 2)), False, home)
        pickup_at = _at(pickup_day, rng.uniform(16.5, 19.0), origin)

        transit = plan.nominal_days
        slip = rng.random()
        late_chance = self.carrier.late / (2 if plan.service == "express" else 1)
        if slip < late_chance * 0.2:
            transit += 2
        elif slip < late_chance:
            transit += 1
        elif (
            transit >= 2 and plan.service in ("ground", "economy") and slip > 1 - self.carrier.early
        ):
            transit -= 1
        reason, delay, lost_for_good = None, 0, False
        if exception:
            reasons = _INTERNATIONAL_REASONS if plan.international else _DOMESTIC_REASONS
            reason = _weighted(rng, reasons)
            delay = rng.choice(_DELAY_DAYS[reason])
            lost_for_good = reason is _R.LOST and rng.random() < _LOST_FOR_GOOD
        first_estimate = _at(self.add_days(pickup_day, plan.nominal_days), 21.0, dest)
        day = self.add_days(pickup_day, transit + delay)

        self.add("pickup", ShipmentStatus.PICKED_UP, pickup_at, origin, estimate=first_estimate)
        arrived = pickup_at + _hours(rng.uniform(1.0, 2.5))
        self.add("arrive", ShipmentStatus.IN_TRANSIT, arrived, origin)
        departed = arrived + _hours(rng.uniform(1.5, 4.0))
        at_destination = max(_at(day, rng.uniform(3.0, 6.5), dest), departed + _hours(2.0))
        hubs = _route(plan)
        # A storm on the way holds the parcel; the carrier reports it unless another exception
        # episode is already under way (one episode per shipment).
        hold = self.storm_hold(
            hubs, (pickup_at, arrived, departed), at_destination, day, report=reason is None
        )
        planned_day = day
        if hold is not None:
            if hold.stop == len(hubs) + 1:  # at the destination: the round waits for the storm
                day = _delivery_day_from(hold.released + _hours(0.5), dest, self.saturday)
            else:  # on the way: everything after the stop runs late by the hold, less some slack
                slack = _hours(rng.uniform(0.0, 8.0))
                earliest = max(
                    at_destination + max(hold.released - hold.left - slack, timedelta(0)),
                    hold.released + _hours(3.0),
                )
                day = _delivery_day_from(earliest, dest, self.saturday)
                at_destination = max(_at(day, rng.uniform(3.0, 6.5), dest), earliest)
        final_estimate = _at(day, 21.0, dest)

        transit_steps = self.transit_steps(hubs, departed, at_destination, hold)
        if reason is not None:
            transit_steps = self.with_exception(
                transit_steps, reason, delay, lost_for_good, departed, at_destination
            )
            if lost_for_good:
                self.out.extend(transit_steps)
                return self.finish()
        estimate = first_estimate
        for step in transit_steps:
            if step.words == "resumed" or step.status is ShipmentStatus.EXCEPTION:
                estimate = final_estimate
            if step.status is ShipmentStatus.IN_TRANSIT and rng.random() < 0.4:
                step.estimate = estimate
            self.out.append(step)
        if hold is not None and hold.stop == len(hubs) + 1:
            planned = _at(planned_day, 21.0, dest)
            self.add("facility", ShipmentStatus.IN_TRANSIT, at_destination, dest, estimate=planned)
            if hold.report:
                self.add("exception", ShipmentStatus.EXCEPTION, hold.began, dest, _R.WEATHER_DELAY)
                self.add(
                    "resumed",
                    ShipmentStatus.IN_TRANSIT,
                    hold.released,
                    dest,
                    estimate=final_estimate,
                )
        else:
            self.add(
                "facility", ShipmentStatus.IN_TRANSIT, at_destination, dest, estimate=final_estimate
            )

        if returned:
            self.deliver_or_return(day, 0, return_reason=rng.choice((_R.REFUSED, _R.ADDRESS_ISSUE)))
        else:
            self.deliver_or_return(day, failed_attempts, return_reason=None)
        return self.finish()

    def add(
        self,
        words: str,
        status: ShipmentStatus,
        at: datetime,
        area: _Area,
        reason: ExceptionReason | None = None,
        estimate: datetime | None = None,
        postal_code: str | None = None,
    ) -> None:
        self.out.append(_Step(words, status, at, area, reason, estimate, postal_code))

    def add_days(self, day: date, days: int) -> date:
        """``days`` delivery days after ``day`` in the destination."""
        return _add_days(day, days, self.saturday, self.plan.destination.country)

    def storm_hold(
        self,
        hubs: list[_Area],
        at_origin: tuple[datetime, datetime, datetime],
        at_destination: datetime,
        day: date,
        *,
        report: bool,
    ) -> _Hold | None:
        """Where the first storm on the way catches the parcel, if one does, and for how long.

        The stops are the origin (from the pickup to the departure from the carrier's facility
        there; ``at_origin`` is pickup, arrival at and departure from that facility), each hub
        (around its nominal arrival, spread as :meth:`hub_steps` spreads them) and the destination
        (from the arrival at the delivery facility to noon on the delivery day: the round is
        called off). Only the first storm met holds the parcel.
        """
        plan, config = self.plan, self.config
        if config.storm_rate == 0:
            return None
        picked_up, arrived, departed = at_origin
        slot = (at_destination - departed) / (len(hubs) + 1)
        stops = [(plan.origin, picked_up, departed)]
        for position, hub in enumerate(hubs, start=1):
            reached = departed + slot * position - slot * 0.3
            stops.append((hub, reached, reached + min(slot * 0.5, _hours(3.0))))
        noon = _at(day, 12.0, plan.destination)
        stops.append((plan.destination, at_destination, max(noon, at_destination)))
        for stop, (area, reached, left) in enumerate(stops):
            storm = _storm_over(config.seed, config.storm_rate, area, reached, left)
            if storm is None:
                continue
            rng = self.rng
            # the parcel is held where a facility can scan it: at the origin, once it arrived there
            at_facility = arrived if stop == 0 else reached
            began = max(at_facility, storm.start) + _hours(rng.uniform(0.25, 1.5))
            remaining = max(storm.end - began, timedelta(0))
            backlog = _hours(rng.uniform(3.0, 10.0))
            released = began + remaining * storm.severity * rng.uniform(0.6, 1.0) + backlog
            scanned = report and rng.random() < 0.55 + 0.4 * storm.severity
            return _Hold(stop, area, reached, left, began, released, scanned)
        return None

    def transit_steps(
        self, hubs: list[_Area], departed: datetime, at_destination: datetime, hold: _Hold | None
    ) -> list[_Step]:
        """The origin's departure and the hub scans, with the storm hold if it is on the way."""
        origin, dest = self.plan.origin, self.plan.destination
        if hold is None or hold.stop > len(hubs):
            depart = _Step("depart", ShipmentStatus.IN_TRANSIT, departed, origin)
            hub_steps = self.hub_steps(hubs, departed, at_destination, import_country=dest.country)
            return [depart, *hub_steps]
        steps: list[_Step] = []
        if hold.stop > 0:  # held at a hub: the hubs before it, then its arrival
            steps.append(_Step("depart", ShipmentStatus.IN_TRANSIT, departed, origin))
            before = hubs[: hold.stop - 1]
            steps += self.hub_steps(before, departed, hold.reached, import_country=dest.country)
            steps.append(_Step("arrive", ShipmentStatus.IN_TRANSIT, hold.reached, hold.area))
            if self.plan.international and hold.area.country == dest.country:
                cleared = hold.reached + (hold.began - hold.reached) * 0.5
                steps.append(_Step("cleared", ShipmentStatus.IN_TRANSIT, cleared, hold.area))
        if hold.report:
            weather = _R.WEATHER_DELAY
            steps.append(
                _Step("exception", ShipmentStatus.EXCEPTION, hold.began, hold.area, weather)
            )
            steps.append(_Step("resumed", ShipmentStatus.IN_TRANSIT, hold.released, hold.area))
        left = hold.released + _hours(self.rng.uniform(0.5, 1.5))
        steps.append(_Step("depart", ShipmentStatus.IN_TRANSIT, left, hold.area))
        after = hubs[hold.stop :]
        return steps + self.hub_steps(after, left, at_destination, import_country=dest.country)

    def hub_steps(
        self, hubs: list[_Area], start: datetime, end: datetime, *, import_country: str
    ) -> list[_Step]:
        """Arrival and departure scans at each hub, spread between ``start`` and ``end``.

        On international lanes the gateway in ``import_country`` also clears customs.
        """
        steps: list[_Step] = []
        slot = (end - start) / (len(hubs) + 1)
        for position, hub in enumerate(hubs, start=1):
            arrive = start + slot * position - slot * self.rng.uniform(0.2, 0.4)
            depart = arrive + min(slot * 0.5, _hours(self.rng.uniform(1.5, 4.0)))
            steps.append(_Step("arrive", ShipmentStatus.IN_TRANSIT, arrive, hub))
            if self.plan.international and hub.country == import_country:
                cleared = arrive + (depart - arrive) / 2
                steps.append(_Step("cleared", ShipmentStatus.IN_TRANSIT, cleared, hub))
            steps.append(_Step("depart", ShipmentStatus.IN_TRANSIT, depart, hub))
        return steps

    def with_exception(
        self,
        steps: list[_Step],
        reason: ExceptionReason,
        delay: int,
        lost_for_good: bool,
        start: datetime,
        end: datetime,
    ) -> list[_Step]:
        """Insert an exception episode: the exception, a hold, then the parcel moves on."""
        rng = self.rng
        window = end - start
        customs = reason in (_R.CUSTOMS_DELAY, _R.HELD_FOR_PAYMENT)
        gateway = next((i for i, s in enumerate(steps) if s.words == "cleared"), None)
        if customs and gateway is not None:  # held on arrival at the import gateway
            arrived, cleared = steps[gateway - 1].at, steps[gateway].at
            began = arrived + (cleared - arrived) * rng.uniform(0.3, 0.7)
        else:
            began = start + window * rng.uniform(0.05, 0.3)
        if delay:
            hold = _hours(24 * delay * rng.uniform(0.55, 0.9))
        else:
            hold = _hours(rng.uniform(2.0, 8.0))
        hold = min(hold, (end - began) * 0.8)
        kept_before = [s for s in steps if s.at < began]
        area = kept_before[-1].area if kept_before else self.plan.origin
        if gateway is not None and customs:
            area = steps[gateway].area
        elif reason is _R.ADDRESS_ISSUE:
            area = self.plan.destination
        exception = _Step("exception", ShipmentStatus.EXCEPTION, began, area, reason)
        if lost_for_good:
            return [*kept_before, exception]
        resumed_words = "cleared" if customs else "resumed"
        resumed = _Step(resumed_words, ShipmentStatus.IN_TRANSIT, began + hold, area)
        kept_after = [
            s for s in steps if s.at > resumed.at and not (customs and s.words == "cleared")
        ]
        moved_on: list[_Step] = []
        if area is not self.plan.destination:  # it leaves the facility where it was held
            following = kept_after[0].at if kept_after else end
            left = resumed.at + min(_hours(rng.uniform(1.0, 3.0)), (following - resumed.at) / 2)
            moved_on.append(_Step("depart", ShipmentStatus.IN_TRANSIT, left, area))
            kept_after = [s for s in kept_after if not (s.area is area and s.words == "depart")]
        return [*kept_before, exception, resumed, *moved_on, *kept_after]

    def deliver_or_return(
        self, day: date, failed_attempts: int, return_reason: ExceptionReason | None
    ) -> None:
        rng, dest, postal = self.rng, self.plan.destination, self.plan.destination_postal
        for _ in range(failed_attempts):
            out_at = _at(day, rng.uniform(7.0, 9.5), dest)
            self.add(
                "ofd", ShipmentStatus.OUT_FOR_DELIVERY, out_at, dest, estimate=_at(day, 21, dest)
            )
            why = _R.RECIPIENT_UNAVAILABLE if rng.random() < 0.8 else _R.ADDRESS_ISSUE
            failed = _at(day, rng.uniform(10.0, 19.0), dest)
            self.add(
                "attempt", ShipmentStatus.ATTEMPT_FAILED, failed, dest, why, postal_code=postal
            )
            day = self.add_days(day, 1)
        if return_reason is not None:
            out_at = _at(day, rng.uniform(7.0, 9.5), dest)
            self.add(
                "ofd", ShipmentStatus.OUT_FOR_DELIVERY, out_at, dest, estimate=_at(day, 21, dest)
            )
            at_door = _at(day, rng.uniform(10.0, 19.0), dest)
            if return_reason is _R.ADDRESS_ISSUE:
                self.add(
                    "attempt",
                    ShipmentStatus.ATTEMPT_FAILED,
                    at_door,
                    dest,
                    _R.ADDRESS_ISSUE,
                    None,
                    postal,
                )
                day = self.add_days(day, 1)
                at_door = _at(day, rng.uniform(8.0, 11.0), dest)
            self.add("return", ShipmentStatus.RETURNING_TO_SENDER, at_door, dest, return_reason)
            self.return_trip(day, at_door, return_reason)
            return
        if failed_attempts and rng.random() < 0.35:  # held at a pickup point or post office
            ready = _at(day, rng.uniform(9.0, 12.0), dest)
            self.add("ready", ShipmentStatus.AVAILABLE_FOR_PICKUP, ready, dest, postal_code=postal)
            collect_day = _add_days(day, rng.choice((0, 1, 1, 2, 3)), True, dest.country)
            earliest = 13.0 if collect_day == day else 9.0
            collected = _at(collect_day, rng.uniform(earliest, 19.0), dest)
            self.add("collected", ShipmentStatus.DELIVERED, collected, dest, postal_code=postal)
            return
        out_hour = rng.uniform(7.0, 9.5)
        out_at = _at(day, out_hour, dest)
        self.add("ofd", ShipmentStatus.OUT_FOR_DELIVERY, out_at, dest, estimate=_at(day, 21, dest))
        delivered = _at(day, rng.uniform(out_hour + 0.75, 19.5), dest)
        self.add("delivered", ShipmentStatus.DELIVERED, delivered, dest, postal_code=postal)

    def return_trip(self, day: date, started: datetime, reason: ExceptionReason) -> None:
        rng, plan = self.rng, self.plan
        back_day = _add_days(day, plan.nominal_days + 1, False, plan.origin.country)
        back_at = _at(back_day, rng.uniform(10.0, 16.0), plan.origin)
        departed = started + _hours(rng.uniform(3.0, 8.0))
        self.add("depart", ShipmentStatus.IN_TRANSIT, departed, plan.destination)
        hubs = _route(plan, reverse=True)
        self.out.extend(self.hub_steps(hubs, departed, back_at, import_country=plan.origin.country))
        self.add("returned", ShipmentStatus.RETURNED_TO_SENDER, back_at, plan.origin, reason)

    def finish(self) -> list[_Step]:
        """Make event times strictly increasing, whole seconds (scanners tick, clocks drift)."""
        previous: datetime | None = None
        for step in self.out:
            at = _whole_seconds(step.at)
            if previous is not None and at <= previous:
                at = previous + timedelta(seconds=self.rng.randint(60, 240))
            step.at = previous = at
        return self.out


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


# ---------------------------------------------------------------------------------------------
# Time and randomness helpers


def _order_time(rng: random.Random, now: datetime, window_days: float) -> datetime:
    """An order time in the window, more often in the daytime (US Eastern as the shop's clock)."""
    span = window_days * 86400 - 180
    while True:
        at = now - timedelta(seconds=120 + rng.random() * span)
        hour = at.astimezone(_zone(_NY)).hour
        if rng.random() < (0.2 if hour < 7 else 1.0 if hour < 23 else 0.5):
            return _whole_seconds(at)


def _is_business_day(day: date, country: str) -> bool:
    """Monday to Friday and not a public holiday in ``country``."""
    return day.weekday() < 5 and day not in public_holidays(country, day.year)


def _delivers(day: date, saturday: bool, country: str) -> bool:
    """Whether parcels go out for delivery on ``day`` in ``country``: never on a Sunday or a
    public holiday, on a Saturday only if ``saturday``."""
    weekday = day.weekday()
    return (weekday < 5 or (saturday and weekday == 5)) and day not in public_holidays(
        country, day.year
    )


def _next_business_day(day: date, country: str) -> date:
    day += timedelta(days=1)
    while not _is_business_day(day, country):
        day += timedelta(days=1)
    return day


def _add_days(day: date, days: int, saturday: bool, country: str) -> date:
    """``days`` delivery days after ``day`` in ``country`` (never a Sunday or a public holiday;
    Saturday only if ``saturday``)."""
    for _ in range(days):
        day += timedelta(days=1)
        while not _delivers(day, saturday, country):
            day += timedelta(days=1)
    return day


def _delivery_day_from(moment: datetime, area: _Area, saturday: bool) -> date:
    """The first delivery day in ``area`` whose morning round ``moment`` still makes: the same
    local day if it is a delivery day and ``moment`` is before 06:30 there, else the next one."""
    local = moment.astimezone(area.zone)
    day = local.date()
    if local.time() > time(6, 30):
        day += timedelta(days=1)
    while not _delivers(day, saturday, area.country):
        day += timedelta(days=1)
    return day


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; ``mean`` is small here)."""
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def _at(day: date, hour: float, area: _Area) -> datetime:
    """``hour`` (fractional) on ``day`` in the area's local time, as UTC."""
    local = datetime.combine(day, time()) + timedelta(hours=hour)
    return local.replace(tzinfo=area.zone).astimezone(UTC)


def _in_zone(moment: datetime, area: _Area) -> datetime:
    """The instant in the area's local time, with a fixed offset (as it reads on the wire)."""
    local = moment.astimezone(area.zone)
    offset = local.utcoffset()
    assert offset is not None
    return local.replace(tzinfo=_fixed_offset(offset))


def _hours(hours: float) -> timedelta:
    return timedelta(hours=hours)


def _whole_seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0) if moment.microsecond else moment


_zone = functools.cache(ZoneInfo)
_fixed_offset = functools.cache(timezone)


def _weighted(rng: random.Random, weights: dict[_T, float]) -> _T:
    choices = list(weights)
    return rng.choices(choices, weights=[weights[c] for c in choices])[0]
