"""Signed links to the customer tracking page: ``/track/{tracking_number}?sig=<hex>``.

A shop emails its customer a link; a browser cannot add a bearer header to it, so the link
carries its own proof: ``sig = HMAC-SHA256(PARCELWATCH_TRACKING_PAGE_KEY, tracking_number)`` in
hex. A link opens one shipment's page and no other, and nothing about it can be guessed without
the key. Shops sign with the same three lines (README, "Tracking page").
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

TRACKING_PAGE_PATH = "/track/"


def link_signature(key: bytes, tracking_number: str) -> str:
    return hmac.new(key, tracking_number.encode("utf-8"), hashlib.sha256).hexdigest()


def signature_matches(key: bytes, tracking_number: str, offered: str | None) -> bool:
    """Whether ``offered`` is the link's signature (hex, either case), compared in constant
    time so the time taken tells nothing about how close a guess came."""
    if not offered:
        return False
    expected = link_signature(key, tracking_number).encode("ascii")
    return hmac.compare_digest(offered.strip().lower().encode("utf-8", "replace"), expected)


def signed_link(key: bytes, tracking_number: str, base_url: str) -> str:
    """The page's full address under ``base_url`` (``https://track.example.com``)."""
    path = TRACKING_PAGE_PATH + quote(tracking_number, safe="")
    return f"{base_url.rstrip('/')}{path}?sig={link_signature(key, tracking_number)}"
