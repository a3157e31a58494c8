"""``on_failure``/``on_success`` hooks: called on every path, never given the token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support import connected_client, refusal, server_url
from tornado_socketio_jwt import TokenMismatchError


@pytest.fixture
def calls() -> list[tuple[str, tuple[Any, ...]]]:
    return []


@pytest.fixture
def attach_options(calls: list[tuple[str, tuple[Any, ...]]]) -> dict[str, Any]:
    async def on_failure(*args: Any) -> None:  # coroutine hooks are awaited
        calls.append(("failure", args))

    def on_success(*args: Any) -> None:
        calls.append(("success", args))

    return {"on_failure": on_failure, "on_success": on_success}


def assert_token_absent(calls: list[tuple[str, tuple[Any, ...]]], token: str) -> None:
    assert token not in repr(calls) and token.split(".")[2] not in repr(calls)


@pytest.mark.gen_test
async def test_a_refused_handshake_calls_on_failure_with_code_sid_and_address(
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    calls: list[tuple[str, tuple[Any, ...]]],
) -> None:
    token = make_token(exp=1)
    async with connected_client(server_url(http_port), auth={"token": token}) as result:
        assert not result.connected

    [(kind, (code, sid, remote))] = calls
    assert (kind, code, remote) == ("failure", "token_expired", "127.0.0.1")
    assert isinstance(sid, str) and sid
    assert_token_absent(calls, token)


@pytest.mark.gen_test
async def test_an_admitted_handshake_calls_on_success_with_sid_and_claims(
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    calls: list[tuple[str, tuple[Any, ...]]],
) -> None:
    token = make_token()
    async with connected_client(server_url(http_port), auth={"token": token}) as result:
        sid = result.client.get_sid()

    [(kind, (hook_sid, claims))] = calls
    assert (kind, hook_sid, claims["sub"]) == ("success", sid, "1")
    assert_token_absent(calls, token)


@pytest.mark.gen_test
async def test_a_refused_refresh_calls_on_failure_and_not_on_success(
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    calls: list[tuple[str, tuple[Any, ...]]],
) -> None:
    token, other = make_token(), make_token(sub="2")
    async with connected_client(server_url(http_port), auth={"token": token}) as result:
        ack = await result.client.call("refresh", {"token": other}, timeout=5)
        sid = result.client.get_sid()

    assert ack == {"ok": False, **refusal(TokenMismatchError)}
    assert [kind for kind, _ in calls] == ["success", "failure"]
    assert calls[1][1] == ("token_mismatch", sid, "127.0.0.1")
    assert_token_absent(calls, other)


@pytest.mark.gen_test
async def test_a_successful_refresh_calls_no_hook(
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    calls: list[tuple[str, tuple[Any, ...]]],
) -> None:
    import time

    async with connected_client(
        server_url(http_port), auth={"token": make_token()}
    ) as result:
        newer = make_token(exp=int(time.time()) + 120)
        ack = await result.client.call("refresh", {"token": newer}, timeout=5)
    assert ack["ok"] is True
    assert [kind for kind, _ in calls] == ["success"]


@pytest.mark.gen_test
async def test_http_refusals_call_no_hook(
    http_server: Any,
    http_port: int,
    http_client: Any,
    calls: list[tuple[str, tuple[Any, ...]]],
) -> None:
    for path in ("/logout", "/token/refresh"):
        response = await http_client.fetch(
            server_url(http_port) + path,
            method="POST",
            body=b"",
            headers={"Authorization": "Bearer not-a-token"},
            raise_error=False,
        )
        assert response.code == 401
    assert calls == []
