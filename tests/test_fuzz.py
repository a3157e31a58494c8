"""Property-based tests (hypothesis): whatever a client sends, every answer is a
documented one and nothing raises past the boundary."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.raw_socket import RawSocket
from tests.support import server_url
from tornado_socketio_jwt import AuthSettings, UnauthorizedError, verify_token
from tornado_socketio_jwt.credentials import extract_token
from tornado_socketio_jwt.keys import SharedSecretKey

FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
SOURCES = ("auth", "query", "header")
LOGIN_ANSWERS = {
    200: None,
    400: "bad_request",
    401: "invalid_credentials",
    413: "request_entity_too_large",
    429: "too_many_attempts",
}


def no_traceback(caplog: Any) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@settings(max_examples=300, deadline=None)
@given(auth=JSON, query=st.text(max_size=60), header=st.none() | st.text(max_size=60))
def test_token_extraction_returns_a_string_or_a_documented_refusal(
    auth: Any, query: str, header: str | None
) -> None:
    environ = {"QUERY_STRING": query}
    if header is not None:
        environ["HTTP_AUTHORIZATION"] = header
    try:
        token = extract_token(environ, auth, SOURCES)
    except UnauthorizedError as err:
        assert err.code in (
            "credentials_required",
            "credentials_bad_format",
            "invalid_token",
        )
    else:
        assert isinstance(token, str) and token


@settings(max_examples=300, deadline=None)
@given(token=st.text(max_size=200) | st.binary(max_size=200).map(repr) | JSON)
def test_verification_refuses_any_garbage_with_a_documented_code(token: Any) -> None:
    secret = "x" * 40
    with pytest.raises(UnauthorizedError) as info:
        verify_token(token, AuthSettings(secret=secret), SharedSecretKey(secret))
    assert info.value.code in (
        "invalid_token",
        "credentials_bad_format",
        "token_expired",
    )


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES)
@given(
    body=st.binary(max_size=300) | JSON.map(lambda v: json.dumps(v).encode()),
    content_type=st.sampled_from(
        ["application/json", "application/x-www-form-urlencoded", "text/plain", ""]
    ),
)
def test_the_login_body_parser_answers_only_documented_errors(
    http_server: Any,
    http_port: int,
    http_client: Any,
    io_loop: Any,
    body: bytes,
    content_type: str,
    caplog: Any,
) -> None:
    async def post() -> Any:
        return await http_client.fetch(
            server_url(http_port) + "/login",
            method="POST",
            body=body,
            headers={"Content-Type": content_type} if content_type else {},
            raise_error=False,
        )

    response = io_loop.run_sync(post)
    assert response.code in LOGIN_ANSWERS
    if response.code != 200:
        assert json.loads(response.body)["error"] == LOGIN_ANSWERS[response.code]
    no_traceback(caplog)


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES)
@given(name=st.text(max_size=12), args=st.lists(JSON, max_size=3))
def test_any_event_from_an_authenticated_socket_leaves_it_working(
    http_server: Any,
    http_port: int,
    io_loop: Any,
    make_token: Callable[..., str],
    name: str,
    args: list[Any],
    caplog: Any,
) -> None:
    async def exchange() -> Any:
        raw = await RawSocket.open(http_port)
        try:
            await raw.connect({"token": make_token()})
            await raw.emit(name, *args, ack=5)
            return await raw.call("whoami", ack=6)
        finally:
            raw.close()

    claims = io_loop.run_sync(exchange, timeout=10)
    assert claims[0]["sub"] == "1"
    no_traceback(caplog)


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES)
@given(frame=st.text(max_size=80))
def test_any_text_frame_leaves_the_server_answering(
    http_server: Any,
    http_port: int,
    io_loop: Any,
    make_token: Callable[..., str],
    frame: str,
    caplog: Any,
) -> None:
    async def attack_then_check() -> Any:
        raw = await RawSocket.open(http_port)
        try:
            await raw.connect({"token": make_token()})
            await raw.send(frame)
        finally:
            raw.close()
        fresh = await RawSocket.open(http_port)
        try:
            await fresh.connect({"token": make_token()})
            return await fresh.call("whoami")
        finally:
            fresh.close()

    claims = io_loop.run_sync(attack_then_check, timeout=10)
    assert claims[0]["sub"] == "1"
    no_traceback(caplog)
