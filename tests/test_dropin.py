"""What socketio-jwt users rely on beyond its own suite: ``unauthorized``'s
acknowledgement (its ``callback`` option), ``additional_auth``, a header-only
server, ``SecretCallback``, and the command line's namespace policies."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.lifecycle_support import assert_no_token_logged, capture_logs
from tests.support import connected_client, server_url, sign
from tornado_socketio_jwt import (
    AuthSettings,
    ForbiddenError,
    SecretCallback,
    TokenInvalidError,
)
from tornado_socketio_jwt.cli import build_settings, make_parser
from tornado_socketio_jwt.cli.errors import ConfigurationError

SECRET = "s" * 40


class Inactive(ForbiddenError):
    code = "user_inactive"
    message = "This account is disabled."


async def lookup_user(claims: Mapping[str, Any], environ: Mapping[str, Any]) -> None:
    """An app's ``additional_auth``: user 13 is disabled, 66 breaks the lookup."""
    if claims["sub"] == "13":
        raise Inactive()
    if claims["sub"] == "66":
        raise RuntimeError("the user database is down")


@pytest.fixture
def attach_options() -> dict[str, Any]:
    return {"additional_auth": lookup_user}


@pytest.mark.gen_test(timeout=20)
async def test_additional_auth_admits_refuses_with_its_code_and_fails_closed(
    http_server: Any, http_port: int, make_token: Callable[..., str], caplog: Any
) -> None:
    capture_logs(caplog)
    url = server_url(http_port)
    tokens = {sub: make_token(sub=sub) for sub in ("1", "13", "66")}
    async with connected_client(url, auth={"token": tokens["1"]}) as result:
        assert result.connected
    async with connected_client(url, auth={"token": tokens["13"]}) as result:
        assert not result.connected
        assert result.connect_errors[0]["data"] == {
            "message": "This account is disabled.",
            "code": "user_inactive",
            "type": "UnauthorizedError",
        }
    async with connected_client(url, auth={"token": tokens["66"]}) as result:
        assert not result.connected
        data = result.connect_errors[0]["data"]
        assert (data["code"], data["message"]) == (
            "unauthorized",
            "The server could not complete authentication.",
        )
    assert any("additional_auth" in r.getMessage() for r in caplog.records)
    assert_no_token_logged(caplog, *tokens.values())


@pytest.mark.parametrize(
    "attach_options", [{"token_sources": ("header",)}], ids=["header-only"]
)
@pytest.mark.gen_test(timeout=20)
async def test_a_header_only_server_names_the_missing_header(
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    attach_options: dict[str, Any],
) -> None:
    token = make_token()
    url = server_url(http_port)
    async with connected_client(url, auth={"token": token}) as result:
        assert (
            result.connect_errors[0]["data"]["code"] == "missing_authorization_header"
        )
    async with connected_client(url + "?token=" + token) as result:
        assert (
            result.connect_errors[0]["data"]["code"] == "missing_authorization_header"
        )
    async with connected_client(url) as result:  # nothing sent at all
        assert result.connect_errors[0]["data"]["code"] == "credentials_required"
    headers = {"Authorization": "Bearer " + token}
    async with connected_client(url, headers=headers) as result:
        assert result.connected


@pytest.mark.gen_test
async def test_secret_callback_gets_the_header_only_and_fails_closed() -> None:
    given: list[dict[str, Any]] = []

    async def lookup(header: Mapping[str, Any]) -> str | None:
        given.append(dict(header))
        return {"good": "g" * 32, "short": "too short"}.get(header.get("kid", ""))

    keys = SecretCallback(lookup)
    for kid, expected in (("good", b"g" * 32), ("short", None), ("nobody", None)):
        header = {"alg": "HS256", "kid": kid}
        await keys.prepare(header)
        if expected is None:
            with pytest.raises(TokenInvalidError):
                keys.verification_key(header)
        else:
            assert keys.verification_key(header) == expected
    assert given == [{"alg": "HS256", "kid": k} for k in ("good", "short", "nobody")]
    with pytest.raises(RuntimeError):
        keys.signing_key()


@pytest.mark.gen_test(timeout=10)
async def test_secret_callback_lookups_in_flight_at_once_each_get_their_secret() -> (
    None
):
    """Two verifications whose lookups finish in the reverse order: each gets
    the secret found for its own header, and the source keeps nothing after."""
    import asyncio

    release = {kid: asyncio.Event() for kid in ("a", "b")}

    async def lookup(header: Mapping[str, Any]) -> str:
        await release[header["kid"]].wait()
        return header["kid"] * 32

    keys = SecretCallback(lookup)

    async def verify(kid: str) -> Any:
        header = {"alg": "HS256", "kid": kid}
        await keys.prepare(header)
        return keys.verification_key(header)

    first, second = (
        asyncio.ensure_future(verify("a")),
        asyncio.ensure_future(verify("b")),
    )
    await asyncio.sleep(0)
    release["b"].set()
    assert await second == b"b" * 32
    release["a"].set()
    assert await first == b"a" * 32
    with pytest.raises(TokenInvalidError):  # prepared for another header object
        header = {"alg": "HS256", "kid": "a"}
        await keys.prepare(header)
        keys.verification_key(dict(header))
    assert list(vars(keys)) == ["_lookup"]


class TestASecretLookupThatRaises:
    """A lookup written the usual way, ``SECRETS[header["kid"]]``, meets a
    token naming an unknown kid: the client gets ``invalid_token``, the log
    one line and no traceback."""

    @pytest.fixture
    def attach_options(self) -> dict[str, Any]:
        secrets = {"a": "A" * 40}

        def lookup(header: Mapping[str, Any]) -> str:
            return secrets[header["kid"]]

        return {"keys": SecretCallback(lookup), "routes": ("socketio",)}

    @pytest.mark.gen_test(timeout=20)
    async def test_an_unknown_kid_is_refused_with_invalid_token(
        self, http_server: Any, http_port: int, caplog: Any
    ) -> None:
        capture_logs(caplog)
        url = server_url(http_port)
        good = sign("A" * 40, headers={"kid": "a"}, sub="alice")
        bad = sign("A" * 40, headers={"kid": "zzz"}, sub="mallory")
        async with connected_client(url, auth={"token": good}) as result:
            assert result.connected
        async with connected_client(url, auth={"token": bad}) as result:
            assert not result.connected
            assert result.connect_errors[0]["data"]["code"] == "invalid_token"
        assert not [r for r in caplog.records if r.exc_info]
        assert [r for r in caplog.records if "key source failed" in r.getMessage()]


def settings_from(tmp_path: Path, *args: str) -> AuthSettings:
    parser = make_parser(environ={"JWT_SECRET": SECRET})
    options = parser.parse_args(["--data-dir", str(tmp_path), *args])
    return build_settings(options, environ={"JWT_SECRET": SECRET})[0]


def test_the_command_line_sets_namespace_policies(tmp_path: Path) -> None:
    settings = settings_from(
        tmp_path,
        "--public-namespaces",
        "/news, /feeds",
        "--event-namespaces",
        "/legacy",
        "--unauthorized-ack-timeout",
        "0",
        "--token-sources",
        "header",
    )
    assert {ns: settings.policy_for(ns).flow for ns in settings.namespace_policies} == {
        "/news": "public",
        "/feeds": "public",
        "/legacy": "event",
    }
    assert settings.policy_for("/").flow == "handshake"
    assert settings.unauthorized_ack_timeout == 0
    assert settings.token_sources == ("header",)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--public-namespaces", "news"), "--public-namespaces (from the flag)"),
        (
            ("--public-namespaces", "/a", "--event-namespaces", "/a"),
            "--event-namespaces (from the flag) names /a, already public",
        ),
    ],
)
def test_a_bad_namespace_list_names_its_option(
    tmp_path: Path, args: tuple[str, ...], fragment: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        settings_from(tmp_path, *args)
    assert fragment in str(caught.value)
