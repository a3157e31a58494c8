"""The handshake gate, end to end with python-socketio's AsyncClient."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest
import socketio

from tests.lifecycle_support import wait_until
from tests.support import ALICE, BOB, connected_client, server_url
from tests.support import refusal as refusal_of
from tornado_socketio_jwt import (
    CredentialsBadFormatError,
    TokenExpiredError,
    TokenRevokedError,
    UnauthorizedError,
    authenticator_for,
    current_user,
    user_room,
)

UNAUTHORIZED = "UnauthorizedError"


def refusal(result):
    assert not result.connected, "the handshake should have been refused"
    assert len(result.connect_errors) == 1
    return result.connect_errors[0]


@pytest.mark.gen_test
async def test_handshake_with_auth_token_is_accepted(
    http_server, http_port, make_token
):
    async with connected_client(
        server_url(http_port), auth={"token": make_token()}
    ) as c:
        assert c.connected


@pytest.mark.gen_test
async def test_handshake_with_query_token_is_accepted(
    http_server, http_port, make_token
):
    url = f"{server_url(http_port)}?token={make_token()}"
    async with connected_client(url) as c:
        assert c.connected


@pytest.mark.gen_test
async def test_handshake_with_bearer_header_is_accepted(
    http_server, http_port, make_token
):
    headers = {"Authorization": f"Bearer {make_token()}"}
    async with connected_client(server_url(http_port), headers=headers) as c:
        assert c.connected


@pytest.mark.gen_test
async def test_auth_payload_is_preferred_over_query_string(
    http_server, http_port, make_token
):
    url = f"{server_url(http_port)}?token={make_token()}"
    async with connected_client(url, auth={"token": "garbage"}) as c:
        assert refusal(c)["data"]["code"] == "invalid_token"


@pytest.mark.gen_test
async def test_handshake_without_token_is_refused_with_credentials_required(
    http_server, http_port
):
    async with connected_client(server_url(http_port)) as c:
        error = refusal(c)
    assert error == {
        "message": "No authorization token was found.",
        "data": {
            "message": "No authorization token was found.",
            "code": "credentials_required",
            "type": UNAUTHORIZED,
        },
    }


@pytest.mark.parametrize(
    "auth, headers",
    [
        ({"token": 12345}, None),
        ({"token": ""}, None),
        ({"token": "Basic abc"}, None),
        ({"token": "a b c"}, None),
        (None, {"Authorization": "Basic dXNlcjpwYXNz"}),
        (None, {"Authorization": "Bearer"}),
    ],
)
@pytest.mark.gen_test
async def test_malformed_credentials_are_refused_with_credentials_bad_format(
    http_server, http_port, auth, headers
):
    async with connected_client(server_url(http_port), auth=auth, headers=headers) as c:
        assert refusal(c)["data"] == refusal_of(CredentialsBadFormatError)


@pytest.mark.gen_test
async def test_handshake_with_bad_signature_is_refused_with_invalid_token(
    http_server, http_port, make_token
):
    token = make_token()[:-4] + "AAAA"
    async with connected_client(server_url(http_port), auth={"token": token}) as c:
        error = refusal(c)
    assert error["data"] == {
        "message": "The token is invalid.",
        "code": "invalid_token",
        "type": UNAUTHORIZED,
    }
    assert error["message"] == "The token is invalid."


@pytest.mark.gen_test
async def test_handshake_with_expired_token_is_refused_with_token_expired(
    http_server, http_port, make_token
):
    now = int(time.time())
    token = make_token(iat=now - 120, exp=now - 60)
    async with connected_client(server_url(http_port), auth={"token": token}) as c:
        assert refusal(c)["data"] == refusal_of(TokenExpiredError)


@pytest.mark.gen_test
async def test_handshake_with_revoked_token_is_refused_with_token_revoked(
    http_server, http_port, make_token, sio
):
    token = make_token(jti="revoked-jti")
    authenticator_for(sio).revocations.revoke("revoked-jti", time.time() + 60)
    async with connected_client(server_url(http_port), auth={"token": token}) as c:
        assert refusal(c)["data"] == refusal_of(TokenRevokedError)


@pytest.mark.gen_test
async def test_whoami_answers_the_verified_claims(http_server, http_port, make_token):
    token = make_token(sub="2", email=BOB["email"])
    async with connected_client(server_url(http_port), auth={"token": token}) as c:
        claims = await c.client.call("whoami", timeout=5)
    assert claims["sub"] == "2" and claims["email"] == BOB["email"]
    assert claims["iss"] == "tornado-socketio-jwt"


@pytest.mark.gen_test
async def test_claims_are_kept_once_and_current_user_hands_out_a_copy(
    http_server, http_port, make_token, sio
):
    async with connected_client(
        server_url(http_port), auth={"token": make_token(sub="2")}
    ) as c:
        sid = c.client.get_sid()
        claims = await current_user(sio, sid)
        assert claims is not None
        claims["sub"] = "forged"
        again = await current_user(sio, sid)
        session = await sio.get_session(sid)
    assert again is not None and again["sub"] == "2"
    assert session == {}  # nothing of the token in the Socket.IO session
    await wait_until(lambda: len(authenticator_for(sio).live) == 0)
    assert await current_user(sio, sid) is None  # gone with the socket


@pytest.mark.parametrize(
    "attach_options",
    [{"namespaces": ("/open",), "exempt_namespaces": ("/open",)}],
)
@pytest.mark.gen_test
async def test_chat_in_an_exempt_namespace_refuses_an_unauthenticated_sender(
    http_server, http_port, attach_options
):
    async with connected_client(server_url(http_port), namespaces=["/open"]) as c:
        assert c.connected
        ack = await c.client.call("message", {"text": "hi"}, namespace="/open")
    assert ack == {"ok": False, **refusal_of(UnauthorizedError)}


@pytest.mark.gen_test
async def test_its_disconnect_handler_still_learns_who_the_socket_was(
    http_server, http_port, make_token, sio
):
    seen: list[Any] = []

    @sio.event
    async def disconnect(sid, reason):
        seen.append(await current_user(sio, sid))

    async with connected_client(
        server_url(http_port), auth={"token": make_token(sub="7")}
    ):
        pass
    await wait_until(lambda: seen != [])
    assert [claims and claims["sub"] for claims in seen] == ["7"]
    assert len(authenticator_for(sio).live) == 0


@pytest.mark.gen_test
async def test_a_socket_cut_by_a_revocation_is_still_named_to_its_disconnect_handler(
    http_server, http_port, make_token, sio
):
    seen: list[Any] = []

    @sio.event
    async def disconnect(sid, reason):
        seen.append((await current_user(sio, sid), await current_user(sio, "other")))

    authenticator = authenticator_for(sio)
    token = make_token(sub="8")
    async with connected_client(
        server_url(http_port), auth={"token": token}, record=("token_revoked",)
    ) as c:
        await authenticator.revoke(await authenticator.verify(token))
        await c.next_event("token_revoked")
    await wait_until(lambda: seen != [])
    [(claims, other)] = seen
    assert claims is not None and claims["sub"] == "8" and other is None


@pytest.mark.gen_test
async def test_current_user_is_none_on_a_server_without_the_gate() -> None:
    bare = socketio.AsyncServer(async_mode="tornado")
    assert await current_user(bare, "any-sid") is None


@pytest.mark.gen_test
async def test_message_sender_identity_comes_from_the_token_not_the_payload(
    http_server, http_port, make_token
):
    url = server_url(http_port)
    alice_token = make_token(sub="1", email=ALICE["email"])
    bob_token = make_token(sub="2", email=BOB["email"])
    async with (
        connected_client(
            url, auth={"token": alice_token}, record=("message",)
        ) as alice,
        connected_client(url, auth={"token": bob_token}, record=("message",)) as bob,
    ):
        forged = {"text": "hello", "from": {"sub": "2", "email": BOB["email"]}}
        ack = await alice.client.call("message", forged, timeout=5)
        received = await bob.next_event("message")
        echoed = await alice.next_event("message")
    assert ack == {"ok": True}
    assert received["from"] == {"sub": "1", "email": ALICE["email"]}
    assert received["text"] == "hello" and received == echoed
    assert abs(received["ts"] - time.time()) < 10


@pytest.mark.parametrize(
    "payload", [None, "text", {"text": ""}, {"text": 5}, {"text": "x" * 5000}]
)
@pytest.mark.gen_test
async def test_malformed_chat_message_is_refused_in_the_ack(
    http_server, http_port, make_token, payload
):
    async with connected_client(
        server_url(http_port), auth={"token": make_token()}
    ) as c:
        ack = await c.client.call("message", payload, timeout=5)
    assert ack == {"ok": False, "error": "bad_request"}


@pytest.mark.gen_test
async def test_authenticated_socket_is_in_its_user_room(
    http_server, http_port, make_token, sio
):
    async with connected_client(
        server_url(http_port),
        auth={"token": make_token(sub="7")},
        record=("ping_user",),
    ) as c:
        await sio.emit("ping_user", {"n": 1}, room=user_room("7"))
        assert await c.next_event("ping_user") == {"n": 1}


@pytest.mark.gen_test
async def test_refusal_is_logged_with_code_and_without_token(
    http_server, http_port, make_token, caplog
):
    caplog.set_level(logging.INFO, logger="tornado_socketio_jwt")
    now = int(time.time())
    token = make_token(iat=now - 120, exp=now - 60)
    async with connected_client(server_url(http_port), auth={"token": token}) as c:
        refusal(c)
    messages = [r.getMessage() for r in caplog.records]
    assert any("socket refused" in m and "code=token_expired" in m for m in messages)
    assert all(token not in m for m in messages)


@pytest.mark.gen_test
async def test_query_token_is_redacted_from_the_access_log(
    http_server, http_port, make_token, caplog
):
    caplog.set_level(logging.INFO, logger="tornado.access")
    token = make_token()
    async with connected_client(
        f"{server_url(http_port)}?token={token}", transports=["websocket"]
    ) as c:
        assert c.connected
    access = [r.getMessage() for r in caplog.records if r.name == "tornado.access"]
    assert any("token=[REDACTED]" in m for m in access)
    assert all(token not in r.getMessage() for r in caplog.records)


@pytest.mark.gen_test
async def test_events_sent_before_a_refused_handshake_never_reach_a_handler(
    http_server, http_port, http_client, sio
):
    reached = []
    sio.on("probe", lambda sid, data=None: reached.append(sid))
    base = f"{server_url(http_port)}/socket.io/?EIO=4&transport=polling"
    opened = await http_client.fetch(base)
    sid = opened.body.decode()[1:].split('"sid":"')[1].split('"')[0]
    url = f"{base}&sid={sid}"
    connect = b'40{"token":"not-a-token"}\x1e42["probe",{"a":1}]'
    # Two concurrent long-polling POSTs: the refused CONNECT and a bare event.
    posts = [
        http_client.fetch(url, method="POST", body=connect, raise_error=False),
        http_client.fetch(
            url, method="POST", body=b'42["probe",{"b":2}]', raise_error=False
        ),
    ]
    await asyncio.gather(*posts)
    answer = (await http_client.fetch(url, request_timeout=5)).body.decode()
    assert answer.startswith("44{")
    assert '"code":"invalid_token"' in answer.replace(" ", "")
    assert reached == []
    await http_client.fetch(url, method="POST", body=b"1", raise_error=False)  # close


@pytest.mark.gen_test
async def test_failure_and_success_hooks_get_code_sid_and_address_never_the_token(
    http_server, http_port, make_token, sio
):
    seen: list[tuple[Any, ...]] = []
    outcomes = authenticator_for(sio).outcomes
    outcomes._on_failure = lambda code, sid, addr: seen.append(("fail", code, addr))
    outcomes._on_success = lambda sid, claims: seen.append(("ok", claims["sub"]))
    async with connected_client(server_url(http_port), auth={"token": "bad"}):
        pass
    async with connected_client(
        server_url(http_port), auth={"token": make_token(sub="9")}
    ):
        pass
    assert seen == [("fail", "invalid_token", "127.0.0.1"), ("ok", "9")]
