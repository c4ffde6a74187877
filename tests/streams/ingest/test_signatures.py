from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parcelwatch.schemas.types import CarrierSource
from parcelwatch.streams.ingest.signatures import (
    DEFAULT_SHIPPO_TOLERANCE_SECONDS,
    WEBHOOK_PLATFORMS,
    Verdict,
    header,
    verifiers,
    verify_aftership,
    verify_easypost,
    verify_seventeen_track,
    verify_shippo,
)
from tests.webhook_signing import (
    aftership_headers,
    easypost_headers,
    seventeen_track_headers,
    shippo_headers,
    signed_headers,
)

BODY = b'{"description": "tracker.updated", "result": {"tracking_code": "EZ1000000001"}}'
SECRET = "s3cr3t-webhook-key"
NOW = 1_795_000_000.0

# RFC 4231, test case 2: HMAC-SHA256(key "Jefe", "what do ya want for nothing?").
RFC4231_KEY = "Jefe"
RFC4231_DATA = b"what do ya want for nothing?"
RFC4231_HEX = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_the_four_platforms_have_a_verifier():
    assert set(WEBHOOK_PLATFORMS) == {
        CarrierSource.EASYPOST,
        CarrierSource.AFTERSHIP,
        CarrierSource.SHIPPO,
        CarrierSource.SEVENTEEN_TRACK,
    }


def test_header_lookup_ignores_case():
    assert header({"X-HMAC-Signature": "a"}, "x-hmac-signature") == "a"
    assert header({"other": "a"}, "x-hmac-signature") is None


# -- EasyPost ------------------------------------------------------------------------------------


def test_easypost_known_answer():
    headers = {"X-Hmac-Signature": f"hmac-sha256-hex={RFC4231_HEX}"}
    assert verify_easypost(headers, RFC4231_DATA, RFC4231_KEY) is Verdict.VALID


def test_easypost_valid_and_header_case_insensitive():
    assert verify_easypost(easypost_headers(BODY, SECRET), BODY, SECRET) is Verdict.VALID
    (value,) = easypost_headers(BODY, SECRET).values()
    assert verify_easypost({"x-hmac-signature": value}, BODY, SECRET) is Verdict.VALID


def test_easypost_wrong_secret_and_tampered_body():
    headers = easypost_headers(BODY, SECRET)
    assert verify_easypost(headers, BODY, SECRET + "x") is Verdict.MISMATCH
    assert verify_easypost(headers, BODY.replace(b"EZ1", b"EZ2"), SECRET) is Verdict.MISMATCH
    assert verify_easypost(headers, BODY + b" ", SECRET) is Verdict.MISMATCH


def test_easypost_missing_header():
    assert verify_easypost({}, BODY, SECRET) is Verdict.MISSING
    # the newer timestamped header alone is not accepted (its scheme is not published)
    assert verify_easypost({"x-hmac-signature-v2": "x"}, BODY, SECRET) is Verdict.MISSING


def test_easypost_wrong_encoding():
    digest = hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()
    as_base64 = base64.b64encode(digest).decode()
    hex_digest = digest.hex()
    assert verify_easypost({"X-Hmac-Signature": hex_digest}, BODY, SECRET) is Verdict.MALFORMED
    assert (
        verify_easypost({"X-Hmac-Signature": f"hmac-sha256-hex={as_base64}"}, BODY, SECRET)
        is Verdict.MISMATCH
    )
    assert (
        verify_easypost({"X-Hmac-Signature": f"hmac-sha256-hex={hex_digest.upper()}"}, BODY, SECRET)
        is Verdict.VALID
    )
    assert verify_easypost({"X-Hmac-Signature": "hmac-sha256-hex=é"}, BODY, SECRET) is (
        Verdict.MISMATCH
    )


def test_easypost_normalises_the_secret_with_nfkd():
    ligature_secret = "\ufb01le-key"  # "ﬁle-key": NFKD turns the ligature into "fi"
    by_nfkd = hmac.new(b"file-key", BODY, hashlib.sha256).hexdigest()
    headers = {"X-Hmac-Signature": f"hmac-sha256-hex={by_nfkd}"}
    assert verify_easypost(headers, BODY, ligature_secret) is Verdict.VALID
    raw = hmac.new(ligature_secret.encode(), BODY, hashlib.sha256).hexdigest()
    assert (
        verify_easypost({"X-Hmac-Signature": f"hmac-sha256-hex={raw}"}, BODY, ligature_secret)
        is Verdict.MISMATCH
    )


# -- AfterShip -----------------------------------------------------------------------------------


def test_aftership_known_answer():
    value = base64.b64encode(bytes.fromhex(RFC4231_HEX)).decode()
    headers = {"aftership-hmac-sha256": value}
    assert verify_aftership(headers, RFC4231_DATA, RFC4231_KEY) is Verdict.VALID


def test_aftership_valid_any_header_case():
    (value,) = aftership_headers(BODY, SECRET).values()
    assert verify_aftership({"Aftership-Hmac-Sha256": value}, BODY, SECRET) is Verdict.VALID


def test_aftership_wrong_secret_tampered_body_missing_header():
    headers = aftership_headers(BODY, SECRET)
    assert verify_aftership(headers, BODY, "other") is Verdict.MISMATCH
    assert verify_aftership(headers, BODY[:-1], SECRET) is Verdict.MISMATCH
    assert verify_aftership({}, BODY, SECRET) is Verdict.MISSING


def test_aftership_wrong_encoding():
    digest = hmac.new(SECRET.encode(), BODY, hashlib.sha256)
    hex_value = digest.hexdigest()
    assert verify_aftership({"aftership-hmac-sha256": hex_value}, BODY, SECRET) is (
        Verdict.MALFORMED
    )  # 64 hex characters decode as base64, to 48 bytes: not a SHA-256 digest
    assert verify_aftership({"aftership-hmac-sha256": "not base64!"}, BODY, SECRET) is (
        Verdict.MALFORMED
    )
    urlsafe = base64.urlsafe_b64encode(digest.digest()).decode()
    standard = base64.b64encode(digest.digest()).decode()
    if urlsafe != standard:  # only the standard alphabet is AfterShip's
        assert verify_aftership({"aftership-hmac-sha256": urlsafe}, BODY, SECRET) is (
            Verdict.MALFORMED
        )


# -- Shippo --------------------------------------------------------------------------------------


def test_shippo_valid():
    headers = shippo_headers(BODY, SECRET, int(NOW) - 10)
    assert verify_shippo(headers, BODY, SECRET, now=NOW) is Verdict.VALID


def test_shippo_wrong_secret_tampered_body_missing_header():
    headers = shippo_headers(BODY, SECRET, int(NOW))
    assert verify_shippo(headers, BODY, "other", now=NOW) is Verdict.MISMATCH
    assert verify_shippo(headers, BODY + b"\n", SECRET, now=NOW) is Verdict.MISMATCH
    assert verify_shippo({}, BODY, SECRET, now=NOW) is Verdict.MISSING


def test_shippo_signs_the_timestamp_too():
    (value,) = shippo_headers(BODY, SECRET, int(NOW)).values()
    moved = value.replace(f"t={int(NOW)}", f"t={int(NOW) - 1}")
    assert verify_shippo({"Shippo-Auth-Signature": moved}, BODY, SECRET, now=NOW) is (
        Verdict.MISMATCH
    )


def test_shippo_retry_with_the_original_timestamp_within_the_tolerance():
    # Shippo's retries reuse the first attempt's t: an hour later is still accepted by default.
    headers = shippo_headers(BODY, SECRET, int(NOW) - 3600)
    assert DEFAULT_SHIPPO_TOLERANCE_SECONDS >= 3600
    assert verify_shippo(headers, BODY, SECRET, now=NOW) is Verdict.VALID
    assert verify_shippo(headers, BODY, SECRET, now=NOW, tolerance_seconds=300) is (Verdict.EXPIRED)


def test_shippo_timestamp_far_in_the_future():
    headers = shippo_headers(BODY, SECRET, int(NOW) + 3600)
    assert verify_shippo(headers, BODY, SECRET, now=NOW) is Verdict.FROM_THE_FUTURE
    near = shippo_headers(BODY, SECRET, int(NOW) + 60)  # clock skew
    assert verify_shippo(near, BODY, SECRET, now=NOW) is Verdict.VALID


@pytest.mark.parametrize(
    "value",
    [
        "v1=abcd",  # no timestamp
        "t=123",  # no signature
        "t=12a,v1=abcd",
        "t=1,t=2,v1=abcd",
        "t=" + "9" * 5000 + ",v1=abcd",
        "garbage",
        "",
    ],
)
def test_shippo_malformed_headers(value):
    assert verify_shippo({"Shippo-Auth-Signature": value}, BODY, SECRET, now=NOW) is (
        Verdict.MALFORMED
    )


def test_shippo_wrong_encoding_and_rotation():
    timestamp = int(NOW)
    digest = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + BODY, hashlib.sha256)
    as_base64 = base64.b64encode(digest.digest()).decode()
    headers = {"Shippo-Auth-Signature": f"t={timestamp},v1={as_base64}"}
    assert verify_shippo(headers, BODY, SECRET, now=NOW) is Verdict.MISMATCH
    # During a secret rotation several v1 values may come: one matching is enough.
    rotating = {"Shippo-Auth-Signature": f"t={timestamp},v1={'0' * 64},v1={digest.hexdigest()}"}
    assert verify_shippo(rotating, BODY, SECRET, now=NOW) is Verdict.VALID


# -- 17TRACK -------------------------------------------------------------------------------------


def test_seventeen_track_valid():
    assert verify_seventeen_track(seventeen_track_headers(BODY, SECRET), BODY, SECRET) is (
        Verdict.VALID
    )


def test_seventeen_track_is_a_hash_of_body_slash_key():
    expected = hashlib.sha256(b'{"a":1}/KEY').hexdigest()
    assert verify_seventeen_track({"Sign": expected}, b'{"a":1}', "KEY") is Verdict.VALID


def test_seventeen_track_wrong_secret_tampered_body_missing_header_wrong_encoding():
    headers = seventeen_track_headers(BODY, SECRET)
    assert verify_seventeen_track(headers, BODY, "other") is Verdict.MISMATCH
    assert verify_seventeen_track(headers, BODY[1:], SECRET) is Verdict.MISMATCH
    assert verify_seventeen_track({}, BODY, SECRET) is Verdict.MISSING
    digest = hashlib.sha256(BODY + b"/" + SECRET.encode()).digest()
    as_base64 = {"sign": base64.b64encode(digest).decode()}
    assert verify_seventeen_track(as_base64, BODY, SECRET) is Verdict.MISMATCH
    hmac_instead = {"sign": hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()}
    assert verify_seventeen_track(hmac_instead, BODY, SECRET) is Verdict.MISMATCH


# -- all platforms through the common interface ----------------------------------------------------


@pytest.mark.parametrize("platform", WEBHOOK_PLATFORMS, ids=str)
def test_each_verifier_accepts_its_own_platforms_signature_only(platform):
    checks = verifiers()
    headers = signed_headers(platform, BODY, SECRET, timestamp=int(NOW))
    assert checks[platform](headers, BODY, SECRET, NOW) is Verdict.VALID
    for other in WEBHOOK_PLATFORMS:
        if other is not platform:
            other_headers = signed_headers(other, BODY, SECRET, timestamp=int(NOW))
            assert checks[platform](other_headers, BODY, SECRET, NOW) is not Verdict.VALID


@pytest.mark.parametrize("platform", WEBHOOK_PLATFORMS, ids=str)
def test_undecodable_header_bytes_are_a_refusal_not_a_crash(platform):
    # aiohttp decodes header values as UTF-8 with surrogate escapes
    value = b"hmac-sha256-hex=\xff\xfe t=1,v1=\xff".decode("utf-8", "surrogateescape")
    names = ("X-Hmac-Signature", "aftership-hmac-sha256", "Shippo-Auth-Signature", "sign")
    for name in names:
        verdict = verifiers()[platform]({name: value}, BODY, SECRET, NOW)
        assert verdict is not Verdict.VALID


@given(
    value=st.text(alphabet=st.characters(exclude_categories=()), max_size=100),
    body=st.binary(max_size=200),
    secret=st.text(min_size=1, max_size=40),
)
def test_any_header_value_gets_a_refusal_never_an_exception(value, body, secret):
    names = ("X-Hmac-Signature", "aftership-hmac-sha256", "Shippo-Auth-Signature", "sign")
    for verify in verifiers().values():
        for name in names:
            assert verify({name: value}, body, secret, NOW) is not Verdict.VALID
