"""The ``authenticate`` event flow (``AuthSettings(auth_flow="event")``)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import socketio

from tests.lifecycle_support import (
    assert_logged,
    assert_no_token_logged,
    call,
    capture_logs,
    stays_connected_until,
    wait_until,
)
from tests.raw_socket import RawSocket
from tests.support import ClientResult, connected_client, refusal, server_url
from tornado_socketio_jwt import (
    AUTHENTICATED_ROOM,
    AlreadyAuthenticatedError,
    AuthNamespace,
    AuthSettings,
    CredentialsRequiredError,
    ForbiddenError,
    TokenExpiredError,
    authenticator_for,
    current_user,
    user_room,
)

AUTH_TIMEOUT = 0.5
EVENTS = ("authenticated", "unauthorized", "message", "token_expired")


@pytest.fixture
def settings(secret: str) -> AuthSettings:
    return AuthSettings(
        secret=secret, token_ttl=60, auth_flow="event", auth_timeout=AUTH_TIMEOUT
    )


class Recorder:
    """The app's handlers and hooks, recording what ran."""

    def __init__(self) -> None:
        self.ran: list[tuple[str, Any]] = []
        self.failures: list[tuple[Any, ...]] = []
        self.successes: list[tuple[Any, ...]] = []

    def names(self) -> list[str]:
        return [name for name, _ in self.ran]


@pytest.fixture
def app_handlers(sio: Any) -> Recorder:
    """Handlers registered on ``sio`` *before* attach_jwt_auth, as an app would."""
    recorder = Recorder()

    async def connect(sid: str, environ: Any, auth: Any) -> None:
        recorder.ran.append(("connect", sid))

    async def disconnect(sid: str, reason: Any) -> None:
        recorder.ran.append(("disconnect", sid))

    async def probe(sid: str, data: Any = None) -> str:
        recorder.ran.append(("probe", sid))
        return "probed"

    async def anything(event: str, sid: str, data: Any = None) -> None:
        recorder.ran.append(("catch-all:" + event, sid))

    for event, handler in (
        ("connect", connect),
        ("disconnect", disconnect),
        ("probe", probe),
        ("*", anything),
    ):
        sio.on(event, handler)
    return recorder


@pytest.fixture
def attach_options(app_handlers: Recorder) -> dict[str, Any]:
    return {
        "on_failure": lambda *args: app_handlers.failures.append(args),
        "on_success": lambda *args: app_handlers.successes.append(args),
    }


@pytest.fixture
def late_handlers(app: Any, sio: Any, app_handlers: Recorder) -> Recorder:
    """Handlers registered *after* attach_jwt_auth (and on the catch-all namespace)."""

    async def late(sid: str, data: Any = None) -> str:
        app_handlers.ran.append(("late", sid))
        return "late"

    async def any_namespace(namespace: str, sid: str, data: Any = None) -> None:
        app_handlers.ran.append(("any-namespace", sid))

    sio.on("late", late)
    sio.on("other", any_namespace, namespace="*")
    return app_handlers


def client(http_port: int) -> Any:
    return connected_client(server_url(http_port), record=EVENTS)


async def authenticate(result: ClientResult, token: str) -> Any:
    await result.client.emit("authenticate", {"token": token})
    return await result.next_event("authenticated", timeout=5)


@pytest.mark.gen_test
async def test_authenticate_with_a_valid_token_answers_authenticated(
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    app_handlers: Recorder,
    caplog: Any,
) -> None:
    capture_logs(caplog)
    token = make_token()
    async with client(http_port) as result:
        assert result.connected
        await authenticate(result, token)
        claims = await call(result, "whoami")
        sid = result.client.get_sid()

    assert claims["sub"] == "1"
    assert [s[0] for s in app_handlers.successes] == [sid]
    assert app_handlers.successes[0][1]["jti"] == claims["jti"]
    assert app_handlers.failures == []
    assert_logged(caplog, "socket authenticated", f"sid={sid}")
    assert_no_token_logged(caplog, token)


@pytest.mark.gen_test
async def test_authenticate_with_a_bad_token_answers_unauthorized_and_disconnects(
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    app_handlers: Recorder,
    caplog: Any,
) -> None:
    capture_logs(caplog)
    now = int(time.time())
    token = make_token(iat=now - 120, exp=now - 60)
    async with client(http_port) as result:
        sid = result.client.get_sid()
        await result.client.emit("authenticate", {"token": token})
        payload = await result.next_event("unauthorized")
        await result.until_disconnected(timeout=1)

    # socketio-jwt's serialised UnauthorizedError, code and type also at the top.
    assert payload == {
        **refusal(TokenExpiredError),
        "inner": {"message": "jwt expired"},
        "data": refusal(TokenExpiredError),
    }
    assert app_handlers.failures == [("token_expired", sid, "127.0.0.1")]
    assert app_handlers.names() == []  # neither connect nor disconnect ran
    assert_logged(caplog, "socket refused", f"sid={sid}", "code=token_expired")
    assert_no_token_logged(caplog, token)


@pytest.mark.gen_test
async def test_silence_past_auth_timeout_answers_unauthorized_and_disconnects(
    http_server: Any, http_port: int, app_handlers: Recorder, caplog: Any
) -> None:
    capture_logs(caplog)
    started = time.time()
    async with client(http_port) as result:
        sid = result.client.get_sid()
        payload = await result.next_event("unauthorized", timeout=AUTH_TIMEOUT + 2)
        await result.until_disconnected(timeout=1)

    assert time.time() - started >= AUTH_TIMEOUT
    late = refusal(CredentialsRequiredError, "No token was presented in time.")
    assert payload == {**late, "inner": {"message": late["message"]}, "data": late}
    assert app_handlers.failures == [("credentials_required", sid, "127.0.0.1")]
    assert_logged(caplog, "socket refused", f"sid={sid}", "code=credentials_required")


@pytest.mark.gen_test
async def test_an_authenticated_socket_outlives_the_auth_timeout(
    http_server: Any, http_port: int, make_token: Callable[..., str]
) -> None:
    async with client(http_port) as result:
        await authenticate(result, make_token())
        await stays_connected_until(result, time.time() + AUTH_TIMEOUT + 0.3)
        assert "unauthorized" not in result.events


@pytest.mark.gen_test
async def test_no_handler_runs_before_authenticate(
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    late_handlers: Recorder,
    caplog: Any,
) -> None:
    capture_logs(caplog)
    async with client(http_port) as result:
        sid = result.client.get_sid()
        events = ("probe", "late", "whoami", "unregistered", "other")
        answers = await asyncio.gather(
            *(result.client.call(event, {}, timeout=0.2) for event in events),
            return_exceptions=True,
        )
        assert all(isinstance(a, socketio.exceptions.TimeoutError) for a in answers)
        assert late_handlers.names() == []

        await authenticate(result, make_token())
        assert await call(result, "probe") == "probed"
        assert await call(result, "late") == "late"

    await wait_until(lambda: late_handlers.ran[-1] == ("disconnect", sid))
    assert late_handlers.ran == [
        ("connect", sid),
        ("probe", sid),
        ("late", sid),
        ("disconnect", sid),
    ]
    assert_logged(caplog, "event dropped before authenticate", f"sid={sid}")


@pytest.mark.gen_test
async def test_no_broadcast_reaches_a_socket_before_authenticate(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    async with client(http_port) as talker, client(http_port) as waiting:
        await authenticate(talker, make_token(sub="1"))
        assert sio.rooms(waiting.client.get_sid()) == [waiting.client.get_sid()]

        assert await call(talker, "message", {"text": "hello"}) == {"ok": True}
        await talker.next_event("message")
        # Packets to one socket arrive in order: a broadcast sent to `waiting`
        # would be there before its `authenticated`.
        await authenticate(waiting, make_token(sub="2"))
    assert "message" not in waiting.events


@pytest.mark.gen_test
async def test_a_second_authenticate_is_refused_and_changes_nothing(
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    app_handlers: Recorder,
    caplog: Any,
) -> None:
    capture_logs(caplog)
    first, second = make_token(), make_token(exp=int(time.time()) + 600)
    async with client(http_port) as result:
        await authenticate(result, first)
        before = await call(result, "whoami")
        ack = await call(result, "authenticate", {"token": second})
        after = await call(result, "whoami")
        assert result.connected
        sid = result.client.get_sid()

    assert ack == {"ok": False, **refusal(AlreadyAuthenticatedError)}
    assert after == before
    assert app_handlers.failures == [("already_authenticated", sid, "127.0.0.1")]
    assert_logged(caplog, "authenticate refused", "code=already_authenticated")
    assert_no_token_logged(caplog, first, second)


@pytest.mark.gen_test
async def test_a_hosts_own_authenticate_handler_never_runs(
    app: Any,
    sio: Any,
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    app_handlers: Recorder,
) -> None:
    sio.on("authenticate", lambda sid, data: app_handlers.ran.append(("mine", sid)))
    async with client(http_port) as result:
        await authenticate(result, make_token())
        ack = await call(result, "authenticate", {"token": make_token()})
    assert ack == {"ok": False, **refusal(AlreadyAuthenticatedError)}
    assert "mine" not in app_handlers.names()


class Guarded(AuthNamespace):
    def __init__(self, namespace: str, recorder: Recorder) -> None:
        super().__init__(namespace)
        self.recorder = recorder

    async def on_connect(self, sid: str, environ: Any) -> None:
        self.recorder.ran.append(("connect", sid))

    async def on_probe(self, sid: str, data: Any = None) -> str:
        self.recorder.ran.append(("probe", sid))
        return "probed"


@pytest.mark.gen_test
async def test_auth_namespace_runs_no_method_before_authenticate(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    recorder = Recorder()
    sio.register_namespace(Guarded("/guarded", recorder))
    async with connected_client(
        server_url(http_port), namespaces=["/guarded"], record=EVENTS
    ) as result:
        client = result.client
        with pytest.raises(socketio.exceptions.TimeoutError):
            await client.call("probe", namespace="/guarded", timeout=0.2)
        assert recorder.ran == []

        await client.emit("authenticate", {"token": make_token()}, namespace="/guarded")
        await result.next_event("authenticated")
        assert await client.call("probe", namespace="/guarded", timeout=5) == "probed"
        sid = client.get_sid("/guarded")
    assert recorder.ran == [("connect", sid), ("probe", sid)]


@pytest.mark.gen_test
async def test_a_connect_handler_refusal_answers_unauthorized_forbidden(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    recorder = Recorder()

    class Picky(Guarded):
        async def on_connect(self, sid: str, environ: Any) -> None:
            raise socketio.exceptions.ConnectionRefusedError("Not on this namespace.")

    sio.register_namespace(Picky("/picky", recorder))
    async with connected_client(
        server_url(http_port), namespaces=["/picky"], record=EVENTS
    ) as result:
        await result.client.emit(
            "authenticate", {"token": make_token()}, namespace="/picky"
        )
        payload = await result.next_event("unauthorized")
        await wait_until(lambda: not result.client.namespaces)

    picky = refusal(ForbiddenError, "Not on this namespace.")
    assert payload == {**picky, "inner": {"message": picky["message"]}, "data": picky}
    assert len(authenticator_for(sio).live) == 0


@pytest.mark.gen_test
async def test_namespace_rule_refuses_authenticate_with_forbidden(
    http_server: Any,
    http_port: int,
    make_token: Callable[..., str],
    sio: Any,
    app_handlers: Recorder,
) -> None:
    from tornado_socketio_jwt import authorize_namespace

    authorize_namespace(sio, "/", roles=("admin",))
    async with client(http_port) as result:
        await result.client.emit("authenticate", {"token": make_token()})
        payload = await result.next_event("unauthorized")
        await result.until_disconnected(timeout=1)
    assert payload["code"] == "forbidden"
    assert app_handlers.names() == []


@pytest.mark.gen_test
async def test_a_hosts_catch_all_event_handler_does_not_swallow_authenticate(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    recorder = Recorder()
    sio.register_namespace(Guarded("/guarded", recorder))

    async def everything(event: str, namespace: str, sid: str, *data: Any) -> None:
        recorder.ran.append(("catch-all:" + event, sid))

    sio.on("*", everything, namespace="*")
    async with connected_client(
        server_url(http_port), namespaces=["/guarded"], record=EVENTS
    ) as result:
        await result.client.emit(
            "authenticate", {"token": make_token()}, namespace="/guarded"
        )
        await result.next_event("authenticated")
        sid = result.client.get_sid("/guarded")
    assert recorder.ran[0] == ("connect", sid)


@pytest.mark.gen_test
async def test_the_disconnect_handler_of_an_authenticated_socket_learns_who_it_was(
    sio: Any, http_server: Any, http_port: int, make_token: Callable[..., str]
) -> None:
    seen: list[Any] = []

    async def disconnect(sid: str, reason: Any) -> None:
        seen.append(await current_user(sio, sid))

    sio.on("disconnect", disconnect)
    async with client(http_port) as result:
        await authenticate(result, make_token(sub="9"))
    await wait_until(lambda: seen != [])
    assert [claims and claims["sub"] for claims in seen] == ["9"]


class TestRefusedWhileWaitingForTheAck:
    """A socket refused by the app waits (bounded) for its ``unauthorized`` ack:
    meanwhile it is in no room but its own, so it hears no broadcast."""

    @pytest.fixture
    def settings(self, secret: str) -> AuthSettings:
        return AuthSettings(
            secret=secret,
            token_ttl=60,
            auth_flow="event",
            auth_timeout=AUTH_TIMEOUT,
            unauthorized_ack_timeout=1.0,
        )

    @pytest.mark.gen_test(timeout=20)
    async def test_it_hears_no_broadcast_before_it_is_disconnected(
        self, http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
    ) -> None:
        async def refuse(sid: str, environ: Any, auth: Any) -> bool:
            await sio.enter_room(sid, "club")
            return False

        sio.on("connect", refuse)
        raw = await RawSocket.open(http_port)
        try:
            assert (await raw.connect()).startswith('40{"sid"')
            await raw.send(
                '42["authenticate",' + json.dumps({"token": make_token()}) + "]"
            )
            while '["unauthorized"' not in await raw.read():  # sent with an ack id
                pass
            # (A broadcast to the whole namespace reaches every connected socket,
            # authenticated or not, in this flow: apps send to rooms.)
            for room in ("club", AUTHENTICATED_ROOM, user_room("1")):
                await sio.emit("message", {"to": room}, room=room)
            frames = []
            while (frame := await raw.read(5)) not in (
                "",
                "41",
            ) and not frame.startswith("41"):
                frames.append(frame)
        finally:
            raw.close()
        assert frames == []
