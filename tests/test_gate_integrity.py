"""The gate keeps its promises whatever order the app registers things in,
and whatever lands while the app's own connect handler is awaiting."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import AsyncExitStack
from typing import Any

import pytest
import tornado.web

from tests.lifecycle_support import wait_until
from tests.raw_socket import RawSocket
from tests.support import attach_with, connected_client, refusal, server_url
from tornado_socketio_jwt import (
    AuthNamespace,
    AuthSettings,
    ForbiddenError,
    Requirement,
    authenticator_for,
    authorize_namespace,
)
from tornado_socketio_jwt.keys import SharedSecretKey
from tornado_socketio_jwt.tokens import reissue_token

ran: list[Any] = []


@pytest.fixture
def attach_options() -> dict[str, Any]:
    ran.clear()
    return {"routes": ("socketio",), "namespaces": ("/", "/admin")}


@pytest.mark.gen_test
async def test_connect_handler_registered_after_attach_runs_after_the_gate(
    http_server, http_port, sio, make_token
):
    @sio.event
    async def connect(sid, environ, auth):
        ran.append("late-connect")

    async with connected_client(server_url(http_port)) as anonymous:
        assert anonymous.connect_errors[0]["data"]["code"] == "credentials_required"
    assert ran == []
    async with connected_client(
        server_url(http_port), auth={"token": make_token()}
    ) as c:
        assert c.connected
    assert ran == ["late-connect"]


@pytest.mark.gen_test
async def test_disconnect_handler_registered_after_attach_keeps_the_clean_up(
    http_server, http_port, sio, make_token
):
    @sio.event
    async def disconnect(sid, reason):
        ran.append("late-disconnect")

    authenticator = authenticator_for(sio)
    for _ in range(3):
        async with connected_client(
            server_url(http_port), auth={"token": make_token()}
        ):
            pass
    await wait_until(lambda: ran == ["late-disconnect"] * 3)
    assert len(authenticator.live) == 0 and len(authenticator.expiry) == 0


@pytest.mark.gen_test
async def test_unlisted_namespace_with_its_own_disconnect_is_cleaned_up(
    http_server, http_port, sio, make_token
):
    sio.on(
        "disconnect", lambda sid, reason: ran.append("other-gone"), namespace="/other"
    )
    sio.on("ping", lambda sid: "pong", namespace="/other")
    authenticator = authenticator_for(sio)
    for _ in range(2):
        async with connected_client(
            server_url(http_port), namespaces=["/other"], auth={"token": make_token()}
        ) as c:
            assert await c.client.call("ping", namespace="/other", timeout=5) == "pong"
    await wait_until(lambda: ran == ["other-gone"] * 2)
    assert len(authenticator.live) == 0 and len(authenticator.expiry) == 0


class AdminNamespace(AuthNamespace):
    requirement = Requirement(roles=("admin",))

    async def on_connect(self, sid, environ, auth):
        ran.append("admin-connect")

    async def on_secret(self, sid):
        return "admin-only"


@pytest.mark.gen_test
async def test_auth_namespace_on_a_listed_namespace_keeps_its_requirement(
    http_server, http_port, sio, make_token
):
    sio.register_namespace(AdminNamespace("/admin"))
    url = server_url(http_port)
    async with connected_client(
        url, namespaces=["/admin"], auth={"token": make_token()}
    ) as c:
        assert c.connect_errors[0]["data"]["code"] == "forbidden"
    assert ran == []
    token = make_token(roles=["admin"])
    async with connected_client(url, namespaces=["/admin"], auth={"token": token}) as c:
        assert (
            await c.client.call("secret", namespace="/admin", timeout=5) == "admin-only"
        )
    assert ran == ["admin-connect"]


@pytest.mark.gen_test
async def test_refresh_to_a_token_that_fails_the_namespace_rule_is_refused(
    http_server, http_port, sio, make_token
):
    authorize_namespace(sio, "/admin", roles=("admin",))
    sio.on("whoami", lambda sid: "x", namespace="/admin")
    admin = make_token(roles=["admin"])
    plain = make_token(exp=int(time.time()) + 120)
    async with connected_client(
        server_url(http_port), namespaces=["/admin"], auth={"token": admin}
    ) as c:
        ack = await c.client.call(
            "refresh", {"token": plain}, namespace="/admin", timeout=5
        )
        sid = c.client.get_sid("/admin")
        kept = authenticator_for(sio).live.claims(sid, "/admin")
    assert ack == {"ok": False, **refusal(ForbiddenError)}
    assert kept is not None and kept["roles"] == ["admin"]


@pytest.mark.gen_test
async def test_logout_while_the_apps_connect_handler_awaits_keeps_the_socket_out(
    http_server, http_port, http_client, sio, make_token
):
    entered, release = asyncio.Event(), asyncio.Event()

    @sio.event
    async def connect(sid, environ, auth):
        entered.set()
        await release.wait()

    token = make_token()

    async def logout_midway():
        await entered.wait()
        response = await http_client.fetch(
            server_url(http_port) + "/logout",
            method="POST",
            body=b"",
            headers={"Authorization": f"Bearer {token}"},
            raise_error=False,
        )
        release.set()
        return response.code

    async def connect_client():
        async with connected_client(server_url(http_port), auth={"token": token}) as c:
            return c.connected, c.connect_errors

    @sio.event
    async def disconnect(sid, reason=None):
        ran.append("app-disconnect")

    (connected, errors), code = await asyncio.gather(connect_client(), logout_midway())
    assert code == 204
    assert not connected
    assert errors[0]["data"]["code"] == "token_revoked"
    assert len(authenticator_for(sio).live) == 0
    assert ran == ["app-disconnect"]  # its connect accepted: it hears the end


@pytest.fixture
def app(sio, settings, users, attach_options):
    options = {"users": users, "events": ("whoami", "message"), **attach_options}
    return tornado.web.Application(
        attach_with(sio, settings, options, routes=("socketio", "logout"))
    )


@pytest.mark.gen_test
async def test_success_hook_is_not_called_for_a_socket_the_app_refuses(
    http_server, http_port, sio, make_token
):
    @sio.event
    async def connect(sid, environ, auth):
        return False

    authenticator_for(sio).outcomes._on_success = lambda sid, claims: ran.append(
        "success"
    )
    async with connected_client(
        server_url(http_port), auth={"token": make_token()}
    ) as c:
        assert not c.connected
    assert ran == []


@pytest.mark.gen_test
async def test_a_failing_hook_is_logged_and_does_not_strand_the_socket(
    http_server, http_port, sio, make_token, caplog
):
    def broken(sid, claims):
        raise RuntimeError("hook bug")

    authenticator_for(sio).outcomes._on_success = broken
    async with connected_client(
        server_url(http_port), auth={"token": make_token()}
    ) as c:
        assert c.connected
        assert (await c.client.call("whoami", timeout=5))["sub"] == "1"
    assert any("hook" in r.getMessage() and r.exc_info for r in caplog.records)


def test_refreshed_tokens_keep_roles_scopes_and_profile_but_not_registered_claims():
    settings = AuthSettings(secret="s" * 32)
    now = time.time()
    claims = {
        "sub": "1",
        "iat": now,
        "exp": now + 60,
        "jti": "old",
        "iss": "x",
        "auth_time": int(now),
        "email": "a@example.com",
        "roles": ["admin"],
        "scope": "read write",
    }
    _, payload = reissue_token(settings, SharedSecretKey("s" * 32), claims, now)
    assert payload["roles"] == ["admin"] and payload["scope"] == "read write"
    assert payload["email"] == "a@example.com" and payload["jti"] != "old"
    assert payload["iss"] == "tornado-socketio-jwt"


@pytest.mark.gen_test
async def test_namespace_created_after_attach_with_its_own_connect_is_gated(
    http_server, http_port, sio, make_token
):
    @sio.on("connect", namespace="/own")
    async def own_connect(sid, environ, auth):
        ran.append("own-connect")

    sio.on("secret", lambda sid: "secret-data", namespace="/own")
    url = server_url(http_port)
    async with connected_client(url, namespaces=["/own"]) as anonymous:
        assert anonymous.connect_errors[0]["data"]["code"] == "credentials_required"
    assert ran == []
    async with connected_client(
        url, namespaces=["/own"], auth={"token": make_token()}
    ) as c:
        assert (
            await c.client.call("secret", namespace="/own", timeout=5) == "secret-data"
        )
        token = make_token(exp=int(time.time()) + 120)
        ack = await c.client.call(
            "refresh", {"token": token}, namespace="/own", timeout=5
        )
    assert ran == ["own-connect"] and ack["ok"] is True


@pytest.mark.gen_test
async def test_expiry_while_the_apps_connect_handler_awaits_keeps_the_socket_out(
    http_server, http_port, sio, make_token
):
    authenticator = authenticator_for(sio)

    @sio.event
    async def connect(sid, environ, auth):
        # The token's exp passes while the app's handler is still working.
        authenticator.clock = lambda: time.time() + 120

    token = make_token(exp=int(time.time()) + 60)
    async with connected_client(server_url(http_port), auth={"token": token}) as c:
        assert not c.connected
        assert c.connect_errors[0]["data"]["code"] == "token_expired"
    assert len(authenticator.live) == 0


@pytest.mark.gen_test
async def test_a_connect_handler_that_fails_refuses_the_socket_cleanly(
    http_server, http_port, sio, make_token, caplog
):
    @sio.event
    async def connect(sid, environ, auth):
        raise RuntimeError("the app's own bug")

    token = make_token()
    async with connected_client(server_url(http_port), auth={"token": token}) as c:
        assert not c.connected
    assert c.connect_errors[0]["message"] == (
        "The server could not accept the connection."
    )
    assert len(authenticator_for(sio).live) == 0
    [record] = [r for r in caplog.records if r.exc_info]
    assert record.getMessage().startswith("connect handler failed sid=")
    assert all(token not in r.getMessage() for r in caplog.records)


@pytest.mark.gen_test
async def test_a_failing_disconnect_handler_spares_no_socket_of_a_logout_everywhere(
    http_server, http_port, http_client, sio, make_token, caplog
):
    @sio.event
    async def disconnect(sid, reason=None):
        raise KeyError(sid)  # the app's own bug

    tokens = [make_token(sub="5") for _ in range(3)]
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                connected_client(server_url(http_port), auth={"token": t})
            )
            for t in tokens
        ]
        assert all(c.connected for c in clients)
        response = await http_client.fetch(
            server_url(http_port) + "/logout",
            method="POST",
            body=b'{"all": true}',
            headers={
                "Authorization": f"Bearer {tokens[0]}",
                "Content-Type": "application/json",
            },
            raise_error=False,
        )
        assert response.code == 204
        for c in clients:
            await c.until_disconnected()
    assert len(authenticator_for(sio).live) == 0
    assert (
        sum("disconnect handler failed" in r.getMessage() for r in caplog.records) == 3
    )


@pytest.mark.gen_test
async def test_a_client_event_named_star_never_reaches_a_catch_all_handler(
    http_server, http_port, sio, make_token
):
    @sio.on("*")
    async def anything(event, sid, data=None):
        ran.append((event, sid))
        return "handled"

    raw = await RawSocket.open(http_port)
    try:
        await raw.connect({"token": make_token()})
        await raw.emit("*", "someone-elses-sid", ack=1)
        with pytest.raises(asyncio.TimeoutError):
            await raw.read_until("431", timeout=0.5)
        await raw.emit("other", ack=2)
        assert await raw.read_until("432") == '432["handled"]'
    finally:
        raw.close()
    assert [event for event, _ in ran] == ["other"]


async def polling(http_client, port, sid=None, body=None):
    url = f"{server_url(port)}/socket.io/?EIO=4&transport=polling"
    if sid:
        url += f"&sid={sid}"
    method = "GET" if body is None else "POST"
    headers = {"Content-Type": "text/plain;charset=UTF-8"}
    response = await http_client.fetch(
        url, method=method, body=body, headers=headers, raise_error=False
    )
    return response.body.decode()


@pytest.mark.gen_test
async def test_a_polling_client_gone_during_the_apps_connect_leaves_no_ghost(
    http_server, http_port, http_client, sio, make_token
):
    entered, release = asyncio.Event(), asyncio.Event()

    @sio.event
    async def connect(sid, environ, auth):
        entered.set()
        await release.wait()

    @sio.event
    async def disconnect(sid, reason=None):
        ran.append("app-disconnect")

    opening = await polling(http_client, http_port)
    eio_sid = json.loads(opening[1:])["sid"]
    handshake = "40" + json.dumps({"token": make_token()})
    # Engine.IO answers this POST only once the connect handler returns.
    posted = asyncio.ensure_future(polling(http_client, http_port, eio_sid, handshake))
    await asyncio.wait_for(entered.wait(), 3)
    await polling(http_client, http_port, eio_sid, "1")  # Engine.IO close
    release.set()
    await posted
    await wait_until(lambda: ran == ["app-disconnect"])
    authenticator = authenticator_for(sio)
    assert len(authenticator.live) == 0
    assert len(authenticator.expiry) == 0
