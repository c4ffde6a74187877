"""A simulator of orders, carrier scans and customer feedback, with its own ground truth (a tool,
not the world).

The public API: draw journeys (``generate_journeys``), with the feedback customers write on them
(``generate_run``), or one journey's events, and produce them.

Everything here is pure and deterministic: randomness comes from a seeded ``random.Random`` (one per
shipment, derived from the seed and the shipment's index) and the clock is the ``now`` the caller
passes. Only :func:`produce` does I/O.

What the simulation models (see ``/work/shared/design/DOMAIN.md`` for the facts behind it):

* lanes between a merchant's warehouses and recipients, mostly US domestic plus DE, GB and CA, with
  distance driving ground transit time and a regional hub route (``geography``);
* four carriers (``ups``, ``fedex``, ``usps``, ``dhl``) with their own reliability, reporting
  latency, Saturday delivery and status codes (UPS ``M``/``P``/``I``/``O``/``D``/``X``, FedEx
  ``OC``/``PU``/``AR``/``DP``/``OD``/``DL``/``DE``, USPS ``GX``/``OA``/``OF``/``01``, DHL
  ``PU``/``AF``/``WC``/``OK``...) (``carriers``, ``carrier_texts``);
* service levels (``express``, ``2day``, ``ground``, ``economy``) with nominal transit in business
  days, a merchant promise of "ships within one business day" plus that nominal transit, due at the
  end of the day in the destination's time zone (``output``);
* the troubles peers detect: carrier exception episodes and their recovery, failed delivery
  attempts, parcels held for pickup, returns to sender, parcels never handed over, lost parcels
  (``journey``);
* regional storms that delay many shipments at once: a seeded calendar (:func:`storm_calendar`,
  a function of the seed and the dates only, more storms in winter) of one- to three-day storms,
  each over one region; parcels picked up in, passing through or delivered into that region
  while it lasts are held (hours to days) and most get a ``weather_delay`` exception scan
  (``storms``);
* public holidays (:func:`public_holidays`, from the ``holidays`` package): no
  deliveries on them in the destination, and merchants and carriers skip them when counting
  business days, as they do weekends (``business_days``);
* customer feedback in five languages (en, pt, es, de, fr) whose tone and topics follow what
  happened to the parcel, with the flag a worker should raise for it (``feedback``), drawn from a
  random stream of its own so the journeys do not change with it;
* the transport: carriers report each scan minutes to hours after it happened, re-send some
  (same ``event_id``) and report some late, after a later scan (``output``).
"""

from parcelwatch.streams.simulation.business_days import public_holidays
from parcelwatch.streams.simulation.config import SimulatedEvent, SimulationConfig
from parcelwatch.streams.simulation.feedback import SimulatedFeedback, SimulatedRun
from parcelwatch.streams.simulation.generator import generate_journeys, generate_run, journey_events
from parcelwatch.streams.simulation.producer import produce
from parcelwatch.streams.simulation.storms import Storm, storm_calendar

__all__ = [
    "SimulatedEvent",
    "SimulatedFeedback",
    "SimulatedRun",
    "SimulationConfig",
    "Storm",
    "generate_journeys",
    "generate_run",
    "journey_events",
    "produce",
    "public_holidays",
    "storm_calendar",
]
