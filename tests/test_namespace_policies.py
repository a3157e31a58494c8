"""One server, three namespaces: handshake, authenticate event, public, each
chosen by ``AuthSettings.namespace_policies``; the gate's guarantees hold on
every authenticated one, and what is not named follows ``auth_flow``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from tests.lifecycle_support import assert_logged, capture_logs, wait_until
from tests.support import connected_client, server_url
from tornado_socketio_jwt import (
    AuthSettings,
    NamespacePolicy,
    SettingError,
    attach_jwt_auth,
    authenticator_for,
    current_user,
)

EVENT_TIMEOUT = 0.5
POLICIES: dict[str, NamespacePolicy | str] = {
    "/news": "public",
    "/legacy": NamespacePolicy("event", auth_timeout=EVENT_TIMEOUT),
    "/chat": "handshake",
}
NAMESPACES = ("/", "/news", "/legacy", "/chat", "/other")
RECORDED = ("authenticated", "unauthorized", "pong", "token_expired", "token_revoked")


@pytest.fixture
def settings(secret: str) -> AuthSettings:
    # The default for what is not named: the event flow, so that "/" and
    # "/other" show the default is followed, whatever it is.
    return AuthSettings(
        secret=secret,
        auth_flow="event",
        auth_timeout=30,
        namespace_policies=POLICIES,
        unauthorized_ack_timeout=0,
    )


@pytest.fixture
def ran(sio: Any) -> list[tuple[str, str]]:
    """The app's handlers on every namespace: (handler, namespace)."""
    calls: list[tuple[str, str]] = []
    for namespace in NAMESPACES:

        async def connect(
            sid: str, environ: Any, auth: Any = None, ns: str = namespace
        ) -> None:
            calls.append(("connect", ns))

        async def ping(sid: str, data: Any = None, ns: str = namespace) -> None:
            calls.append(("ping", ns))
            await sio.emit(
                "pong", {"user": await current_user(sio, sid, ns)}, to=sid, namespace=ns
            )

        sio.on("connect", connect, namespace=namespace)
        sio.on("ping", ping, namespace=namespace)
    return calls


@pytest.fixture
def attach_options(ran: list[tuple[str, str]]) -> dict[str, Any]:
    return {"events": ()}


@pytest.mark.gen_test(timeout=20)
async def test_a_public_namespace_runs_its_handlers_without_a_token(
    http_server: Any, http_port: int, ran: list[tuple[str, str]]
) -> None:
    async with connected_client(
        server_url(http_port), namespaces=["/news"], record=RECORDED
    ) as result:
        assert result.connected
        await result.client.emit("ping", namespace="/news")
        assert await result.next_event("pong") == {"user": None}
    assert ("connect", "/news") in ran


@pytest.mark.gen_test(timeout=20)
async def test_the_handshake_namespace_refuses_without_a_token_and_admits_with_one(
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    ran: list[tuple[str, str]],
) -> None:
    async with connected_client(server_url(http_port), namespaces=["/chat"]) as result:
        assert not result.connected
        assert result.connect_errors[0]["data"]["code"] == "credentials_required"
    assert ran == []
    token = make_token(sub="42")
    async with connected_client(
        server_url(http_port),
        namespaces=["/chat"],
        auth={"token": token},
        record=RECORDED,
    ) as result:
        await result.client.emit("ping", namespace="/chat")
        assert (await result.next_event("pong"))["user"]["sub"] == "42"


@pytest.mark.parametrize("namespace", ["/legacy", "/", "/other"])
@pytest.mark.gen_test(timeout=20)
async def test_event_namespaces_run_nothing_before_authenticate(
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    ran: list[tuple[str, str]],
    namespace: str,
) -> None:
    async with connected_client(
        server_url(http_port), namespaces=[namespace], record=RECORDED
    ) as result:
        await result.client.emit("ping", namespace=namespace)
        # Reserved names never reach a handler, on any namespace.
        await result.client.emit("connect", {}, namespace=namespace)
        await result.client.emit(
            "authenticate", {"token": make_token()}, namespace=namespace
        )
        await result.next_event("authenticated")
        assert ran == [("connect", namespace)]  # the ping before was dropped
        await result.client.emit("ping", namespace=namespace)
        assert (await result.next_event("pong"))["user"]["sub"] == "1"


@pytest.mark.gen_test(timeout=20)
async def test_an_event_namespace_keeps_its_own_timeout(
    http_server: Any, http_port: int
) -> None:
    started = time.monotonic()
    async with connected_client(
        server_url(http_port), namespaces=["/legacy", "/"], record=RECORDED
    ) as result:
        payload = await result.next_event("unauthorized", timeout=5)
        assert payload["code"] == "credentials_required"
        assert time.monotonic() - started >= EVENT_TIMEOUT
        await wait_until(lambda: "/legacy" not in result.client.namespaces)
        # "/" follows auth_timeout (30 s): still there.
        assert "/" in result.client.namespaces


@pytest.mark.gen_test(timeout=20)
async def test_expiry_and_revocation_cut_sockets_on_every_flow(
    http_server: Any, http_port: int, make_token: Callable[..., str], sio: Any
) -> None:
    now = int(time.time())
    short = make_token(sub="7", exp=now + 2)
    revoked = make_token(sub="8")
    async with (
        connected_client(
            server_url(http_port),
            namespaces=["/chat"],
            auth={"token": short},
            record=RECORDED,
        ) as chat,
        connected_client(
            server_url(http_port), namespaces=["/legacy"], record=RECORDED
        ) as legacy,
    ):
        await legacy.client.emit(
            "authenticate", {"token": revoked}, namespace="/legacy"
        )
        await legacy.next_event("authenticated")
        authenticator = authenticator_for(sio)
        assert authenticator is not None
        claims = await authenticator.verify(revoked)
        assert await authenticator.revoke(claims) == 1
        await legacy.next_event("token_revoked")
        await wait_until(lambda: "/legacy" not in legacy.client.namespaces)
        await chat.next_event("token_expired", timeout=5)
        await wait_until(lambda: "/chat" not in chat.client.namespaces)


@pytest.mark.gen_test(timeout=20)
async def test_the_public_namespace_is_logged_at_start_up(
    sio: Any, settings: AuthSettings, caplog: Any
) -> None:
    capture_logs(caplog)
    attach_jwt_auth(sio, replace(settings, routes=("socketio",)))
    assert_logged(caplog, "/news", "exempt from JWT authentication")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage().split()[1] for r in warnings] == ["/news"]
    assert_logged(caplog, "/legacy", "event flow")


def test_policies_are_checked_and_the_default_stays_closed(secret: str) -> None:
    settings = AuthSettings(secret=secret, namespace_policies={"/n": "public"})
    assert settings.policy_for("/anything").flow == "handshake"
    assert settings.public_namespaces == ("/n",)
    with pytest.raises(SettingError, match="namespace_policies"):
        AuthSettings(secret=secret, namespace_policies={"news": "public"})
    with pytest.raises(SettingError, match="flow must be one of"):
        AuthSettings(secret=secret, namespace_policies={"/n": "open"})
    with pytest.raises(SettingError, match="only for the event flow"):
        NamespacePolicy("handshake", auth_timeout=1)
    with pytest.raises(SettingError, match="auth_flow"):
        AuthSettings(secret=secret, auth_flow="public")
    with pytest.raises(SettingError, match="exempt_namespaces"):
        AuthSettings(
            secret=secret,
            exempt_namespaces=("/admin",),
            namespace_policies={"/admin": "event"},
        )
    both = AuthSettings(
        secret=secret,
        exempt_namespaces=("/admin",),
        namespace_policies={"/n": "public"},
    )
    assert both.public_namespaces == ("/admin", "/n")


def test_settings_with_policies_stay_hashable_and_picklable(secret: str) -> None:
    import pickle

    settings = AuthSettings(secret=secret, namespace_policies=POLICIES)
    again = AuthSettings(secret=secret, namespace_policies=dict(POLICIES))
    assert settings == again and hash(settings) == hash(again)
    assert pickle.loads(pickle.dumps(settings)) == settings
    assert (
        replace(settings, auth_flow="handshake").policy_for("/legacy").flow == "event"
    )
    with pytest.raises(TypeError):
        settings.namespace_policies["/x"] = "public"  # type: ignore[index]
