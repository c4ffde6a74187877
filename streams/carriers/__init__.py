"""Carrier payloads in, canonical scans out: the pure side of ``carrier-raw``.

* ``payloads/<source>.py``: one parser per source (a carrier's tracking API or a tracking
  platform's webhook): a document (JSON or XML) → ``CarrierResponse`` with the source's own codes,
  words, local times and locations. Parsing only: no mapping, no time zones.
* ``mapping/<source>.json``: the source's codes → parcelwatch status and reason, each with the
  public document it was taken from (data, not code; ``mapping.py`` reads them).
* ``timezones.py``: the zone of a local time, from the event's location, else the carrier's home.
* ``normalize.py``: ``CarrierResponse`` → ``Scan``s with deterministic event ids.
* ``registry.py``: source names → parsers, and recognising a payload's source.
"""
