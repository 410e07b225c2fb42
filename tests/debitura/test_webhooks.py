"""Webhook signatures: X-Debitura-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t." + body>."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from debitura.webhooks import SignatureError, sign, verify

SECRET = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
OTHER_SECRET = base64.b64encode(b"another secret, another partner").decode()
BODY = b'{"id":"evt-1","event":"case.updated","data":{"caseId":"c-1"}}'
T = 1_700_000_000


def test_sign_computes_the_documented_hmac() -> None:
    key = base64.b64decode(SECRET)
    expected = hmac.new(key, f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, T) == f"t={T},v1={expected}"


def test_a_good_signature_verifies_and_returns_its_timestamp() -> None:
    assert verify(SECRET, BODY, sign(SECRET, BODY, T), now=T + 5) == T


def test_a_tampered_body_is_refused() -> None:
    header = sign(SECRET, BODY, T)
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, BODY.replace(b"c-1", b"c-2"), header, now=T)


def test_a_signature_made_with_another_secret_is_refused() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, BODY, sign(OTHER_SECRET, BODY, T), now=T)


def test_a_timestamp_swapped_into_a_valid_header_is_refused() -> None:
    digest = sign(SECRET, BODY, T).split("v1=")[1]
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, BODY, f"t={T + 1},v1={digest}", now=T)


@pytest.mark.parametrize("skew", [301, -301, 86_400])
def test_a_timestamp_more_than_five_minutes_away_is_refused(skew: int) -> None:
    with pytest.raises(SignatureError, match="300 seconds"):
        verify(SECRET, BODY, sign(SECRET, BODY, T), now=T + skew)


@pytest.mark.parametrize("skew", [300, -300, 0])
def test_a_timestamp_within_five_minutes_is_accepted(skew: int) -> None:
    assert verify(SECRET, BODY, sign(SECRET, BODY, T), now=T + skew) == T


def test_the_tolerance_can_be_tightened() -> None:
    with pytest.raises(SignatureError):
        verify(SECRET, BODY, sign(SECRET, BODY, T), now=T + 31, tolerance=30)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("garbage", "timestamp"),
        ("v1=abcdef", "timestamp"),
        ("t=soon,v1=abcdef", "timestamp"),
        (f"t={T}", "no v1"),
        (f"t={T},v0=abcdef", "no v1"),
        (f"t={T},v1=", "does not match"),
        (f"t={T},v1=ünïcödé", "does not match"),
    ],
)
def test_a_malformed_header_is_refused_with_a_reason(header: str | None, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        verify(SECRET, BODY, header, now=T)


def test_any_of_several_v1_values_may_match_during_secret_rotation() -> None:
    good = sign(SECRET, BODY, T).split("v1=")[1]
    stale = sign(OTHER_SECRET, BODY, T).split("v1=")[1]
    assert verify(SECRET, BODY, f"t={T},v1={stale},v1={good}", now=T) == T
    assert verify(SECRET, BODY, f"t={T}, v1={good}, v1={stale}", now=T) == T


def test_several_v1_values_none_matching_are_refused() -> None:
    stale = sign(OTHER_SECRET, BODY, T).split("v1=")[1]
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, BODY, f"t={T},v1={stale},v1={'0' * 64}", now=T)


def test_an_upper_case_hex_signature_still_matches() -> None:
    header = sign(SECRET, BODY, T)
    prefix, digest = header.split("v1=")
    assert verify(SECRET, BODY, f"{prefix}v1={digest.upper()}", now=T) == T


def test_a_secret_that_is_not_base64_is_reported_as_such() -> None:
    with pytest.raises(SignatureError, match="base64"):
        verify("not base64!!", BODY, sign(SECRET, BODY, T), now=T)
