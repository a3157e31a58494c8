"""AuthSettings validation: bad setup fails at construction, never at a handshake."""

from __future__ import annotations

import pytest

from tornado_socketio_jwt import AuthSettings, SharedSecretKey

SECRET = "x" * 32


def test_defaults_are_strict():
    settings = AuthSettings(secret=SECRET)
    assert settings.algorithms == ("HS256",)
    assert settings.required_claims == ("exp", "iat", "sub", "jti")
    assert settings.token_sources == ("auth", "query", "header")
    assert settings.cors_allowed_origins is None
    assert settings.auth_flow == "handshake"


def test_secret_shorter_than_32_bytes_is_refused():
    with pytest.raises(ValueError, match="32 bytes"):
        AuthSettings(secret="x" * 31)


def test_secret_must_be_as_long_as_the_hash_for_hs512():
    with pytest.raises(ValueError, match="64 bytes"):
        AuthSettings(algorithms=("HS512",), secret="x" * 63)


def test_secret_length_counts_utf8_bytes():
    assert AuthSettings(secret="é" * 16).secret_bytes == ("é" * 16).encode()


def test_shared_secret_key_refuses_short_secrets():
    with pytest.raises(ValueError):
        SharedSecretKey(b"short")


def test_shared_secret_key_repr_hides_the_secret():
    assert SECRET not in repr(SharedSecretKey(SECRET))


def test_settings_repr_hides_the_secret():
    assert SECRET not in repr(AuthSettings(secret=SECRET))


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"algorithms": ()}, ValueError),
        ({"algorithms": "HS256"}, TypeError),
        ({"algorithms": ("none",)}, ValueError),
        ({"algorithms": ("HS256", "RS256")}, ValueError),
        ({"algorithms": ("RS256",), "secret": SECRET}, ValueError),
        ({"token_sources": ("cookie",)}, ValueError),
        ({"token_sources": ()}, ValueError),
        ({"auth_flow": "magic"}, ValueError),
        ({"token_ttl": 0}, ValueError),
        ({"leeway": -1}, ValueError),
        ({"secret": 12345}, TypeError),
        ({"cors_allowed_origins": "*"}, TypeError),
    ],
)
def test_bad_configuration_raises_at_construction(kwargs, error):
    with pytest.raises(error):
        AuthSettings(**kwargs)
