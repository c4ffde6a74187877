"""Signed tracking-page links: HMAC-SHA256 of the tracking number, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from parcelwatch.streams.runtime.page_links import (
    link_signature,
    signature_matches,
    signed_link,
)

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
TRACKING = "1Z999AA10123456784"


def test_the_signature_is_the_documented_hmac_a_shop_can_compute():
    # The README's snippet for shops, computed independently.
    expected = hmac.new(KEY, TRACKING.encode(), hashlib.sha256).hexdigest()
    assert link_signature(KEY, TRACKING) == expected


@pytest.mark.parametrize(
    ("offered", "matches"),
    [
        (lambda: link_signature(KEY, TRACKING), True),
        (lambda: link_signature(KEY, TRACKING).upper(), True),
        (lambda: link_signature(OTHER_KEY, TRACKING), False),  # signed with another key
        (lambda: link_signature(KEY, TRACKING + "1"), False),  # another shipment's link
        (lambda: link_signature(KEY, TRACKING)[:-1], False),
        (lambda: "", False),
        (lambda: None, False),
        (lambda: "é" * 64, False),
    ],
)
def test_only_the_links_own_signature_matches(offered, matches):
    assert signature_matches(KEY, TRACKING, offered()) is matches


def test_the_signature_is_compared_in_constant_time(monkeypatch):
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr("parcelwatch.streams.runtime.page_links.hmac.compare_digest", spy)
    assert not signature_matches(KEY, TRACKING, "0" * 64)
    assert compared == [(b"0" * 64, link_signature(KEY, TRACKING).encode())]


def test_a_signed_link_opens_the_page_of_its_shipment():
    link = signed_link(KEY, TRACKING, "https://track.example.com/")
    assert link == f"https://track.example.com/track/{TRACKING}?sig={link_signature(KEY, TRACKING)}"
