"""Verify-only mode: tokens from an external issuer (Auth0, OIDC), checked against
its JWKS, which the tests serve on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.issuer import (
    AUDIENCE,
    ISSUER,
    Clock,
    FakeIssuer,
    issuer_token,
    jwk_of,
    rsa_key,
)
from tests.support import connected_client, refusal, server_url
from tornado_socketio_jwt import (
    AuthSettings,
    JWKSKeySource,
    TokenInvalidError,
    authenticator_for,
)

INTERVAL = 30.0
ROUTES = ("socketio", "login", "logout", "health", "jwks")


@pytest.fixture(scope="module")
def issuer_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture(scope="module")
def next_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture
def issuer(io_loop: Any, issuer_key: Any) -> Any:
    fake = FakeIssuer()
    fake.publish(jwk_of(issuer_key))
    yield fake
    io_loop.run_sync(fake.close)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings() -> AuthSettings:
    return AuthSettings(
        algorithms=("RS256", "RS384"),
        issuer=ISSUER,
        audience=AUDIENCE,
        required_claims=("exp", "iat", "sub"),
    )


@pytest.fixture
def keys(issuer: FakeIssuer, clock: Clock, settings: AuthSettings) -> JWKSKeySource:
    return JWKSKeySource(
        issuer.url, settings.algorithms, min_refresh_interval=INTERVAL, clock=clock
    )


@pytest.fixture
def attach_options(keys: JWKSKeySource) -> dict[str, Any]:
    return {"keys": keys, "users": None, "routes": ROUTES}


def kid(key: Any) -> str:
    return str(jwk_of(key)["kid"])


async def handshake(port: int, token: str) -> tuple[bool, Any]:
    """Whether the socket connected, and the refusal's ``data`` if it did not."""
    async with connected_client(server_url(port), auth={"token": token}) as result:
        errors = [error["data"] for error in result.connect_errors]
        return result.connected, errors[0] if errors else None


@pytest.mark.gen_test
async def test_issuer_token_is_accepted_without_a_jti(
    http_port: int, http_server: Any, issuer_key: Any
) -> None:
    token = issuer_token(issuer_key, kid(issuer_key))
    async with connected_client(server_url(http_port), auth={"token": token}) as result:
        assert result.connected
        claims = await result.client.call("whoami", timeout=5)
    assert (claims["sub"], claims["iss"]) == ("auth0|42", ISSUER)


@pytest.mark.gen_test
async def test_verify_only_mode_issues_no_tokens(
    http_client: Any, http_port: int, http_server: Any
) -> None:
    response = await http_client.fetch(
        f"{server_url(http_port)}/login",
        method="POST",
        body='{"username": "a", "password": "b"}',
        raise_error=False,
    )
    assert response.code == 404


@pytest.mark.gen_test
async def test_key_rotated_in_at_the_issuer_is_fetched_for_its_first_token(
    http_port: int,
    http_server: Any,
    issuer: FakeIssuer,
    clock: Clock,
    issuer_key: Any,
    next_key: Any,
) -> None:
    assert (await handshake(http_port, issuer_token(issuer_key, kid(issuer_key))))[0]
    issuer.publish(jwk_of(issuer_key), jwk_of(next_key))
    clock.advance(INTERVAL)
    connected, _ = await handshake(http_port, issuer_token(next_key, kid(next_key)))
    assert connected
    assert issuer.requests == 2


@pytest.mark.gen_test
async def test_key_removed_at_the_issuer_stops_verifying_after_the_cache_expires(
    http_port: int,
    http_server: Any,
    issuer: FakeIssuer,
    clock: Clock,
    keys: JWKSKeySource,
    issuer_key: Any,
    next_key: Any,
) -> None:
    assert (await handshake(http_port, issuer_token(issuer_key, kid(issuer_key))))[0]
    issuer.publish(jwk_of(next_key))
    clock.advance(keys.max_age)
    # Stale-while-revalidate: the known kid does not wait for the refetch...
    await handshake(http_port, issuer_token(issuer_key, kid(issuer_key)))

    async def refetched() -> None:
        while kid(issuer_key) in keys.kids:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(refetched(), 5)
    # ...and once the refetch has landed, the removed key no longer verifies.
    connected, error = await handshake(
        http_port, issuer_token(issuer_key, kid(issuer_key))
    )
    assert not connected
    assert error["code"] == "invalid_token"


@pytest.mark.gen_test
async def test_a_known_kid_never_waits_for_a_stale_cache_refetch(
    http_port: int,
    http_server: Any,
    issuer: FakeIssuer,
    clock: Clock,
    keys: JWKSKeySource,
    issuer_key: Any,
) -> None:
    assert await keys.refresh()
    issuer.stop()
    clock.advance(keys.max_age + keys.min_refresh_interval)
    token = issuer_token(issuer_key, kid(issuer_key))
    assert (await asyncio.wait_for(handshake(http_port, token), 2))[0]


@pytest.mark.gen_test
async def test_issuer_down_with_a_warm_cache_still_verifies_known_keys(
    http_port: int,
    http_server: Any,
    issuer: FakeIssuer,
    clock: Clock,
    keys: JWKSKeySource,
    issuer_key: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert await keys.refresh()
    issuer.stop()
    clock.advance(keys.max_age)  # stale: a refetch is attempted, fails, the cache stays
    token = issuer_token(issuer_key, kid(issuer_key))

    def fetch_failure_logged() -> bool:
        return any(
            "JWKS fetch" in r.getMessage() and "failed" in r.getMessage()
            for r in caplog.records
        )

    async def logged() -> None:
        while not fetch_failure_logged():
            await asyncio.sleep(0.01)

    with caplog.at_level(logging.WARNING, logger="tornado_socketio_jwt"):
        connected, _ = await handshake(http_port, token)
        await asyncio.wait_for(logged(), 15)  # the background refetch failed
    assert connected
    assert token not in caplog.text


@pytest.mark.gen_test
async def test_issuer_down_refuses_an_unknown_kid_with_invalid_token(
    http_port: int,
    http_server: Any,
    issuer: FakeIssuer,
    keys: JWKSKeySource,
    next_key: Any,
) -> None:
    assert await keys.refresh()
    issuer.stop()
    connected, error = await handshake(http_port, issuer_token(next_key, kid(next_key)))
    assert not connected
    assert error == refusal(
        TokenInvalidError, "The token's signing key (kid) is unknown."
    )


@pytest.mark.gen_test
async def test_flood_of_unknown_kids_fetches_at_most_once_per_interval(
    http_port: int,
    http_server: Any,
    sio: Any,
    issuer: FakeIssuer,
    clock: Clock,
    keys: JWKSKeySource,
    next_key: Any,
) -> None:
    assert await keys.refresh()
    authenticator = authenticator_for(sio)
    flood = [issuer_token(next_key, secrets.token_hex(8)) for _ in range(50)]
    fetched = []
    for _ in range(3):
        results = await asyncio.gather(
            *(authenticator.verify(t) for t in flood), return_exceptions=True
        )
        assert all(isinstance(r, TokenInvalidError) for r in results)
        fetched.append(issuer.requests)
        clock.advance(INTERVAL / 2)
    # warm-up = 1; within the first interval, none; in the next, exactly one
    assert fetched == [1, 1, 2]


@pytest.mark.gen_test
async def test_handshake_flood_of_unknown_kids_makes_one_fetch(
    http_port: int,
    http_server: Any,
    issuer: FakeIssuer,
    clock: Clock,
    keys: JWKSKeySource,
    next_key: Any,
) -> None:
    assert await keys.refresh()
    clock.advance(INTERVAL)
    tokens = [issuer_token(next_key, secrets.token_hex(8)) for _ in range(4)]
    outcomes = await asyncio.gather(*(handshake(http_port, t) for t in tokens))
    assert [connected for connected, _ in outcomes] == [False] * 4
    assert issuer.requests == 2


@pytest.mark.parametrize(
    "claims, check",
    [
        ({"aud": "https://other-api.example.com/"}, "audience"),
        ({"iss": "https://evil.example.com/"}, "issuer"),
    ],
)
@pytest.mark.gen_test
async def test_wrong_audience_or_issuer_is_refused_with_invalid_token(
    http_port: int,
    http_server: Any,
    issuer_key: Any,
    claims: dict[str, Any],
    check: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = issuer_token(issuer_key, kid(issuer_key), **claims)
    async with connected_client(server_url(http_port), auth={"token": token}) as result:
        assert not result.connected
        [error] = result.connect_errors
        assert error["data"] == refusal(TokenInvalidError, error["message"])
    assert token not in caplog.text


@pytest.mark.gen_test
async def test_wrong_audience_refusal_message_names_the_audience_check(
    http_port: int,
    http_server: Any,
    sio: Any,
    issuer_key: Any,
) -> None:
    token = issuer_token(
        issuer_key, kid(issuer_key), aud="https://other-api.example.com/"
    )
    with pytest.raises(TokenInvalidError, match=r"audience \(aud\)"):
        await authenticator_for(sio).verify(token)


@pytest.mark.gen_test
async def test_token_alg_differing_from_the_jwks_key_alg_is_refused(
    http_port: int,
    http_server: Any,
    issuer_key: Any,
) -> None:
    # The JWK says RS256; the same RSA key signs RS384, which the settings allow.
    connected, error = await handshake(
        http_port, issuer_token(issuer_key, kid(issuer_key), alg="RS384")
    )
    assert not connected
    assert error["code"] == "invalid_token"


@pytest.mark.gen_test
async def test_jwk_whose_own_alg_is_not_allowed_is_never_used(
    http_port: int,
    http_server: Any,
    issuer: FakeIssuer,
    next_key: Any,
) -> None:
    # CVE-2026-48523: a key's own alg must not widen the configured allow-list.
    issuer.publish(jwk_of(next_key, "RS512"))
    connected, error = await handshake(
        http_port, issuer_token(next_key, kid(next_key), "RS512")
    )
    assert not connected
    assert error["code"] == "invalid_token"


@pytest.mark.gen_test
async def test_malformed_jwks_is_logged_as_a_server_fault_and_refused_as_invalid_token(
    http_port: int,
    http_server: Any,
    issuer: FakeIssuer,
    issuer_key: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    issuer.body = "<html>gateway timeout</html>"
    token = issuer_token(issuer_key, kid(issuer_key))
    with caplog.at_level(logging.WARNING, logger="tornado_socketio_jwt"):
        connected, error = await handshake(http_port, token)
    assert (connected, error["code"]) == (False, "invalid_token")
    assert [r.levelno for r in caplog.records if "JWKS fetch" in r.getMessage()] == [
        logging.WARNING
    ]
    assert token not in caplog.text
