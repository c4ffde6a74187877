"""A carrier id as people read it: ``dhl_parcel_de`` → "DHL Paket".

The names are the first of each carrier in ``streams/carriers/data/carrier_names.json`` (the core
may not read the carriers' data; a test keeps the two the same). Any other id, a platform's slug
of a name, reads as its words in capitals.
"""

from __future__ import annotations

DISPLAY_NAMES = {
    "ups": "UPS",
    "fedex": "FedEx",
    "usps": "USPS",
    "dhl_express": "DHL Express",
    "dhl_parcel_de": "DHL Paket",
    "canadapost": "Canada Post",
    "royalmail": "Royal Mail",
    "dpd": "DPD",
    "gls": "GLS",
    "laposte": "La Poste",
    "postnl": "PostNL",
    "australiapost": "Australia Post",
    "correios": "Correios",
}


def carrier_display_name(carrier: str) -> str:
    known = DISPLAY_NAMES.get(carrier.lower())
    return known or " ".join(carrier.replace("_", " ").replace("-", " ").split()).upper()
