"""Token issue and verification: each PyJWT failure class to its code."""

from __future__ import annotations

import math
import time

import jwt
import pytest

from tests.support import sign
from tornado_socketio_jwt import (
    AuthSettings,
    CredentialsBadFormatError,
    SharedSecretKey,
    TokenExpiredError,
    TokenInvalidError,
    issue_token,
    verify_token,
)
from tornado_socketio_jwt.tokens import expires_at, is_expired

SECRET = "s" * 32
OTHER_SECRET = "o" * 32


@pytest.fixture
def settings() -> AuthSettings:
    return AuthSettings(secret=SECRET, token_ttl=60)


@pytest.fixture
def keys() -> SharedSecretKey:
    return SharedSecretKey(SECRET)


def test_issued_token_carries_the_contract_claims(settings, keys):
    token, payload = issue_token(
        settings, keys, "7", {"email": "a@example.com"}, now=1000
    )
    claims = jwt.decode(
        token,
        SECRET,
        algorithms=["HS256"],
        options={"verify_exp": False},
        issuer="tornado-socketio-jwt",
    )
    assert claims == payload
    assert claims["sub"] == "7" and claims["email"] == "a@example.com"
    assert claims["iat"] == 1000 and claims["exp"] == 1060
    assert claims["iss"] == "tornado-socketio-jwt" and len(claims["jti"]) == 32
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_default_lifetime_is_five_hours():
    assert AuthSettings(secret=SECRET).token_ttl == 5 * 3600


def test_each_token_gets_a_new_jti(settings, keys):
    first, _ = issue_token(settings, keys, "1")
    second, _ = issue_token(settings, keys, "1")
    assert (
        verify_token(first, settings, keys)["jti"]
        != verify_token(second, settings, keys)["jti"]
    )


def test_registered_claims_cannot_be_overridden_by_extra_claims(settings, keys):
    _, payload = issue_token(settings, keys, "1", {"sub": "0", "exp": 1, "iss": "evil"})
    assert (
        payload["sub"] == "1"
        and payload["exp"] > time.time()
        and payload["iss"] != "evil"
    )


def test_valid_token_verifies(settings, keys):
    assert verify_token(sign(SECRET, sub="3"), settings, keys)["sub"] == "3"


def test_expired_token_is_token_expired(settings, keys):
    token = sign(SECRET, iat=int(time.time()) - 100, exp=int(time.time()) - 10)
    with pytest.raises(TokenExpiredError) as info:
        verify_token(token, settings, keys)
    assert info.value.code == "token_expired"
    assert isinstance(info.value.__cause__, jwt.ExpiredSignatureError)


def test_leeway_accepts_a_token_just_past_exp(keys):
    lenient = AuthSettings(secret=SECRET, leeway=30)
    assert verify_token(sign(SECRET, exp=int(time.time()) - 5), lenient, keys)


@pytest.mark.parametrize("leeway, refused", [(30, False), (3, True)])
def test_the_expiry_rule_is_the_one_verification_applies(keys, leeway, refused):
    exp = int(time.time()) - 5
    claims = {"exp": exp}
    settings = AuthSettings(secret=SECRET, leeway=leeway)
    assert expires_at(claims, leeway) == exp + leeway
    assert is_expired(claims, leeway, time.time()) is refused
    if refused:
        with pytest.raises(TokenExpiredError):
            verify_token(sign(SECRET, exp=exp), settings, keys)
    else:
        assert verify_token(sign(SECRET, exp=exp), settings, keys)["exp"] == exp


def test_a_fractional_exp_expires_when_verification_says_so(keys):
    # PyJWT reads exp as whole seconds; so does the timer that cuts live sockets.
    now = int(time.time())
    exp, leeway = now - 10 + 0.99, 10
    with pytest.raises(TokenExpiredError):
        verify_token(
            sign(SECRET, exp=exp), AuthSettings(secret=SECRET, leeway=leeway), keys
        )
    assert expires_at({"exp": exp}, leeway) == now
    assert is_expired({"exp": exp}, leeway, time.time())


def test_without_exp_nothing_expires():
    assert expires_at({"sub": "1"}, 30) == math.inf
    assert not is_expired({"sub": "1"}, 30, time.time())


@pytest.mark.parametrize("token", [None, "", 42, b"abc", ["a"]])
def test_non_string_token_is_credentials_bad_format(settings, keys, token):
    with pytest.raises(CredentialsBadFormatError) as info:
        verify_token(token, settings, keys)
    assert info.value.code == "credentials_bad_format"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: "not-a-jwt", id="garbage"),
        pytest.param(lambda: "a.b.c", id="bad-segments"),
        pytest.param(lambda: sign(OTHER_SECRET), id="wrong-signature"),
        pytest.param(lambda: sign(SECRET, iss="someone-else"), id="wrong-issuer"),
        pytest.param(lambda: sign(SECRET, iss=None), id="missing-iss"),
        pytest.param(lambda: sign(SECRET, jti=None), id="missing-jti"),
        pytest.param(lambda: sign(SECRET, sub=None), id="missing-sub"),
        pytest.param(lambda: sign(SECRET, exp=None), id="missing-exp"),
        pytest.param(lambda: sign(SECRET, iat=None), id="missing-iat"),
        pytest.param(lambda: sign(SECRET, sub=123), id="non-string-sub"),
        pytest.param(
            lambda: sign(SECRET, nbf=int(time.time()) + 600), id="not-yet-valid"
        ),
        pytest.param(
            lambda: jwt.encode({"sub": "1"}, "", algorithm="none"), id="alg-none"
        ),
    ],
)
def test_bad_token_is_invalid_token(settings, keys, make):
    with pytest.raises(TokenInvalidError) as info:
        verify_token(make(), settings, keys)
    assert type(info.value) is TokenInvalidError
    assert info.value.code == "invalid_token"


def test_algorithm_is_pinned_by_configuration_not_by_the_header():
    long_secret = "L" * 64
    settings = AuthSettings(secret=long_secret)
    with pytest.raises(TokenInvalidError):
        verify_token(
            sign(long_secret, algorithm="HS512"), settings, SharedSecretKey(long_secret)
        )


def test_error_messages_never_contain_the_token(settings, keys):
    token = sign(OTHER_SECRET)
    with pytest.raises(TokenInvalidError) as info:
        verify_token(token, settings, keys)
    assert token not in str(info.value) and token not in info.value.message
