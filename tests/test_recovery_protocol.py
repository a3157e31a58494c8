"""Connection state recovery on the wire, frame by frame (a raw WebSocket
client): what the CONNECT ack and each event carry, what a recovery writes
before its ack, and that a refused one writes nothing but the refusal."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.raw_polling import RawPolling
from tests.raw_socket import RawSocket
from tests.recovery_support import ack_of, event_of, frames_until_answer
from tornado_socketio_jwt import AuthSettings, SocketLimits, StateRecovery
from tornado_socketio_jwt.errors import ForbiddenError
from tornado_socketio_jwt.sockets.engine import engine_for
from tornado_socketio_jwt.sockets.extension import authenticator_for
from tornado_socketio_jwt.sockets.recovery import Recovery

SUB = "7"
TOO_MANY = "too_many_connections"


@pytest.fixture
def settings(secret: str) -> AuthSettings:
    return AuthSettings(
        secret=secret,
        token_ttl=60,
        recovery=StateRecovery(enabled=True, max_missed_packets=5),
    )


async def first_session(port: int, token: str, sio: Any) -> tuple[dict[str, Any], str]:
    """Connect, get one event; return the ack and that event's offset; then
    drop the transport."""
    raw = await RawSocket.open(port)
    ack = ack_of(await raw.connect({"token": token}))
    await sio.emit("message", {"n": 0})
    event = event_of(await raw.read_until("42"))
    raw.close()
    for _ in range(100):  # the server hears of the close (bounded)
        if not sio.manager.is_connected(ack["sid"], "/"):
            break
        await asyncio.sleep(0.02)
    return ack, event[-1]


@pytest.mark.gen_test(timeout=20)
async def test_the_connect_ack_carries_a_pid_and_each_event_its_offset_last(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    raw = await RawSocket.open(http_port)
    ack = ack_of(await raw.connect({"token": make_token(sub=SUB)}))
    assert set(ack) == {"sid", "pid"} and len(ack["pid"]) >= 24
    await sio.emit("message", ({"n": 1}, "two"))
    await sio.emit("message", {"n": 3}, to=ack["sid"])
    first, second = event_of(await raw.read()), event_of(await raw.read())
    raw.close()
    assert first[:3] == ["message", {"n": 1}, "two"] and len(first) == 4
    assert second[:2] == ["message", {"n": 3}] and len(second) == 3
    assert first[-1] != second[-1]


@pytest.mark.gen_test(timeout=20)
async def test_a_recovery_writes_the_missed_events_then_the_ack_with_the_same_ids(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    token = make_token(sub=SUB)
    ack, offset = await first_session(http_port, token, sio)
    for n in (1, 2):
        await sio.emit("message", {"n": n})
    await sio.emit("message", {"n": 99}, room="user:someone-else")
    raw = await RawSocket.open(http_port)
    frames = await frames_until_answer(
        raw, {"token": token, "pid": ack["pid"], "offset": offset}
    )
    await sio.emit("message", {"n": 3})
    after = event_of(await raw.read())
    raw.close()
    assert [event_of(f)[1]["n"] for f in frames[:-1]] == [1, 2]
    assert ack_of(frames[-1]) == ack
    assert after[1] == {"n": 3}


@pytest.mark.gen_test(timeout=20)
async def test_a_client_that_never_got_an_event_recovers_from_where_it_connected(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    """socket.io-client sends no offset then; Node's server refuses to recover."""
    token = make_token(sub=SUB)
    raw = await RawSocket.open(http_port)
    ack = ack_of(await raw.connect({"token": token}))
    raw.close()
    await asyncio.sleep(0.2)
    await sio.emit("message", {"n": 1})
    raw = await RawSocket.open(http_port)
    frames = await frames_until_answer(raw, {"token": token, "pid": ack["pid"]})
    raw.close()
    assert [event_of(f)[1] for f in frames[:-1]] == [{"n": 1}]
    assert ack_of(frames[-1]) == ack


@pytest.mark.gen_test(timeout=20)
async def test_a_revoked_token_gets_the_refusal_and_not_one_event_before_it(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    """Node writes the missed events, then refuses; here nothing is written."""
    token = make_token(sub=SUB)
    ack, offset = await first_session(http_port, token, sio)
    authenticator = authenticator_for(sio)
    await authenticator.revoke_user(SUB, before=2**40, until=2**40)
    await sio.emit("message", {"n": 1})
    raw = await RawSocket.open(http_port)
    frames = await frames_until_answer(
        raw, {"token": token, "pid": ack["pid"], "offset": offset}
    )
    raw.close()
    assert len(frames) == 1 and frames[0].startswith("44")
    assert json.loads(frames[0][2:])["data"]["code"] == "token_revoked"


@pytest.mark.gen_test(timeout=20)
async def test_more_missed_events_than_the_cap_give_a_fresh_session(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    token = make_token(sub=SUB)
    ack, offset = await first_session(http_port, token, sio)
    for n in range(6):  # the cap is 5
        await sio.emit("message", {"n": n})
    raw = await RawSocket.open(http_port)
    frames = await frames_until_answer(
        raw, {"token": token, "pid": ack["pid"], "offset": offset}
    )
    raw.close()
    fresh = ack_of(frames[-1])
    assert len(frames) == 1
    assert fresh["sid"] != ack["sid"] and fresh["pid"] != ack["pid"]
    counted = authenticator_for(sio).metrics.recoveries.labels("not_recoverable")
    assert counted._value.get() == 1


@pytest.mark.parametrize(
    "auth",
    [
        {"pid": 5, "offset": "x"},
        {"pid": "p" * 65},
        {"pid": "unknown", "offset": {"a": 1}},
        {"pid": "unknown", "offset": "0-1"},
    ],
)
@pytest.mark.gen_test(timeout=20)
async def test_a_hostile_pid_or_offset_gets_a_fresh_session(
    http_server: Any,
    http_port: int,
    sio: Any,
    make_token: Callable[..., str],
    auth: dict[str, Any],
) -> None:
    raw = await RawSocket.open(http_port)
    frames = await frames_until_answer(raw, {"token": make_token(sub=SUB), **auth})
    raw.close()
    assert len(frames) == 1 and "sid" in ack_of(frames[0])


@pytest.mark.gen_test(timeout=20)
async def test_a_server_side_disconnect_is_not_recoverable(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    token = make_token(sub=SUB)
    raw = await RawSocket.open(http_port)
    ack = ack_of(await raw.connect({"token": token}))
    await sio.disconnect(ack["sid"])
    await raw.read_until("41")
    raw.close()
    raw = await RawSocket.open(http_port)
    frames = await frames_until_answer(raw, {"token": token, "pid": ack["pid"]})
    raw.close()
    assert ack_of(frames[-1])["sid"] != ack["sid"]


class TestRecoveryOff:
    @pytest.fixture
    def settings(self, secret: str) -> AuthSettings:
        return AuthSettings(secret=secret, token_ttl=60)

    @pytest.mark.gen_test(timeout=20)
    async def test_embedders_get_no_pid_and_no_offsets_unless_they_ask(
        self,
        http_server: Any,
        http_port: int,
        sio: Any,
        make_token: Callable[..., str],
    ) -> None:
        raw = await RawSocket.open(http_port)
        ack = ack_of(await raw.connect({"token": make_token(sub=SUB)}))
        await sio.emit("message", {"n": 1})
        event = event_of(await raw.read())
        raw.close()
        assert set(ack) == {"sid"}
        assert event == ["message", {"n": 1}]


class TestEventFlow:
    @pytest.fixture
    def settings(self, secret: str) -> AuthSettings:
        return AuthSettings(
            secret=secret,
            token_ttl=60,
            recovery=StateRecovery(enabled=True),
            auth_flow="event",
        )

    def test_recovery_is_not_offered_where_connect_carries_no_token(
        self, settings: AuthSettings
    ) -> None:
        assert settings.recovery.enabled and not settings.recovers


class TestMixedNamespaces:
    """One server, the default flow "event", "/live" in the handshake flow and
    "/news" public: only the handshake namespace recovers."""

    @pytest.fixture
    def settings(self, secret: str) -> AuthSettings:
        return AuthSettings(
            secret=secret,
            token_ttl=60,
            recovery=StateRecovery(enabled=True),
            auth_flow="event",
            namespace_policies={"/live": "handshake", "/news": "public"},
        )

    def test_recovery_is_on_where_some_namespace_uses_the_handshake(
        self, settings: AuthSettings
    ) -> None:
        assert settings.recovers

    @pytest.mark.gen_test(timeout=20)
    async def test_only_the_handshake_namespace_gets_a_pid_and_offsets(
        self,
        http_server: Any,
        http_port: int,
        sio: Any,
        make_token: Callable[..., str],
    ) -> None:
        async def accept(sid: str, environ: Any, auth: Any) -> None:
            return None

        for namespace in ("/live", "/news"):
            sio.on("connect", accept, namespace=namespace)

        raw = await RawSocket.open(http_port)
        try:
            await raw.send("40/live," + json.dumps({"token": make_token(sub=SUB)}))
            live = await raw.read_until("40/live,")
            await raw.send("40/news,")
            news = await raw.read_until("40/news,")
            await raw.send("40")
            default = await raw.read_until("40")
            await sio.emit("message", {"n": 1}, namespace="/live")
            await sio.emit("message", {"n": 2}, namespace="/news")
            live_event = json.loads((await raw.read_until("42/live,"))[8:])
            news_event = json.loads((await raw.read_until("42/news,"))[8:])
        finally:
            raw.close()
        assert set(json.loads(live[8:])) == {"sid", "pid"}
        assert set(json.loads(news[8:])) == {"sid"}
        assert set(json.loads(default[2:])) == {"sid"}  # event flow: no token yet
        assert len(live_event) == 3 and live_event[:2] == ["message", {"n": 1}]
        assert news_event == ["message", {"n": 2}]


@pytest.mark.gen_test(timeout=20)
async def test_why_a_socket_is_cut_and_the_shutdown_notice_carry_no_offset(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    """They end the socket (not recoverable) or the process (the buffer goes
    with it); clients with fixed-arity handlers see them unchanged."""
    token = make_token(sub=SUB)
    raw = await RawSocket.open(http_port)
    ack_of(await raw.connect({"token": token}))
    await sio.emit("server_shutdown", {"message": "bye"})
    shutdown = event_of(await raw.read())
    await authenticator_for(sio).revoke(await authenticator_for(sio).verify(token))
    revoked = event_of(await raw.read_until("42"))
    raw.close()
    assert shutdown == ["server_shutdown", {"message": "bye"}]
    assert revoked[0] == "token_revoked" and len(revoked) == 2


@pytest.mark.gen_test(timeout=30)
async def test_connect_and_disconnect_in_a_loop_hold_one_pid(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    """What recovery keeps of live sockets is bounded by the sockets that exist:
    one Engine.IO session that CONNECTs and DISCONNECTs again and again (kept
    open by nothing else) holds one entry, not one per CONNECT."""
    recovery = engine_for(sio).recovery
    assert isinstance(recovery, Recovery)
    raw = await RawSocket.open(http_port)
    try:
        for _ in range(50):
            ack_of(await raw.connect({"token": make_token(sub=SUB)}))
            await raw.send("41")
        ack_of(await raw.connect({"token": make_token(sub=SUB)}))
        assert recovery.live_count == 1
    finally:
        raw.close()


@pytest.mark.gen_test(timeout=20)
async def test_an_offset_from_before_the_socket_existed_replays_nothing_older(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    """A client that rewinds its offset gets nothing sent before its socket
    connected (it could name any offset still in the buffer)."""
    await sio.emit("message", {"n": "before"})  # before the socket exists
    probe = await RawSocket.open(http_port)
    try:
        ack_of(await probe.connect({"token": make_token(sub="8")}))
        await sio.emit("message", {"n": "probe"})
        early_offset = event_of(await probe.read_until("42"))[-1]
    finally:
        probe.close()
    token = make_token(sub=SUB)
    ack, _ = await first_session(http_port, token, sio)
    await sio.emit("message", {"n": "missed"})
    raw = await RawSocket.open(http_port)
    try:
        frames = await frames_until_answer(
            raw, {"token": token, "pid": ack["pid"], "offset": early_offset}
        )
    finally:
        raw.close()
    assert ack_of(frames[-1]) == ack
    replayed = [event_of(f)[1]["n"] for f in frames[:-1]]
    assert "probe" not in replayed and "before" not in replayed
    assert replayed[-1] == "missed"


@pytest.mark.gen_test(timeout=20)
async def test_a_recovery_the_app_refuses_gets_the_refusal_and_no_missed_event(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    """The missed events are written only once the app's connect handler has
    accepted the socket and its token is still good: an app that bans the user
    meanwhile sends the refusal alone."""
    banned: set[str] = set()

    async def connect(sid: str, environ: Any, auth: Any) -> bool:
        return SUB not in banned

    sio.on("connect", connect)
    token = make_token(sub=SUB)
    ack, offset = await first_session(http_port, token, sio)
    banned.add(SUB)
    await sio.emit("message", {"n": "missed while away"})
    raw = await RawSocket.open(http_port)
    try:
        frames = await frames_until_answer(
            raw, {"token": token, "pid": ack["pid"], "offset": offset}
        )
    finally:
        raw.close()
    assert len(frames) == 1 and frames[0].startswith("44"), frames


BANNED: set[str] = set()  # subs the app's additional_auth refuses


class TestTakeOverOnlyOnceAdmitted:
    """A recovery takes over its old, still open Engine.IO session only once
    the recovering CONNECT passes every check the handshake makes (the
    application's ``additional_auth`` here): a refused one leaves the live
    socket alone."""

    @pytest.fixture
    def attach_options(self) -> dict[str, Any]:
        async def banned(claims: Any, environ: Any) -> None:
            if claims["sub"] in BANNED:
                raise ForbiddenError()

        return {"additional_auth": banned}

    @pytest.mark.gen_test(timeout=20)
    async def test_a_refused_recovery_does_not_take_over_the_live_socket(
        self, http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
    ) -> None:
        token = make_token(sub=SUB)
        live = await RawSocket.open(http_port)
        raw = await RawSocket.open(http_port)
        try:
            ack = ack_of(await live.connect({"token": token}))
            BANNED.add(SUB)
            frames = await frames_until_answer(raw, {"token": token, "pid": ack["pid"]})
            assert len(frames) == 1 and frames[0].startswith("44"), frames
            assert sio.manager.is_connected(ack["sid"], "/")
            await sio.emit("message", {"n": "still here"})
            assert event_of(await live.read_until("42"))[1] == {"n": "still here"}
        finally:
            BANNED.clear()
            raw.close()
            live.close()

    @pytest.mark.gen_test(timeout=20)
    async def test_an_admitted_recovery_takes_over_and_verifies_the_token_once(
        self,
        http_server: Any,
        http_port: int,
        sio: Any,
        make_token: Callable[..., str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        authenticator = authenticator_for(sio)
        token = make_token(sub=SUB)
        live = await RawSocket.open(http_port)
        ack = ack_of(await live.connect({"token": token}))
        calls = 0
        verify = authenticator.verify

        async def counting(presented: object) -> dict[str, Any]:
            nonlocal calls
            calls += 1
            return await verify(presented)

        monkeypatch.setattr(authenticator, "verify", counting)
        raw = await RawSocket.open(http_port)
        try:
            auth = {"token": token, "pid": ack["pid"]}
            frames = await frames_until_answer(raw, auth)
            assert ack_of(frames[-1]) == {"sid": ack["sid"], "pid": ack["pid"]}
            assert calls == 1
            assert await live.read() in ("1", "")  # taken over: Engine.IO close
        finally:
            raw.close()
            live.close()


class TestRecoveryAtTheUserLimit:
    """The socket a recovery takes over is not counted against the per-user
    limit: a user at the limit gets their socket back; a second socket is
    still refused."""

    @pytest.fixture
    def settings(self, secret: str) -> AuthSettings:
        return AuthSettings(
            secret=secret,
            token_ttl=60,
            recovery=StateRecovery(enabled=True),
            limits=SocketLimits(max_connections_per_user=1),
        )

    @pytest.mark.gen_test(timeout=20)
    async def test_a_user_at_the_limit_recovers_the_socket_it_replaces(
        self, http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
    ) -> None:
        token = make_token(sub=SUB)
        live, second, back = [await RawSocket.open(http_port) for _ in range(3)]
        try:
            ack = ack_of(await live.connect({"token": token}))
            refused = await frames_until_answer(second, {"token": token})
            assert refused[-1].startswith("44") and TOO_MANY in refused[-1]
            frames = await frames_until_answer(
                back, {"token": token, "pid": ack["pid"]}
            )
            assert ack_of(frames[-1]) == {"sid": ack["sid"], "pid": ack["pid"]}
        finally:
            for raw in (live, second, back):
                raw.close()


@pytest.mark.gen_test(timeout=20)
async def test_a_client_that_sends_disconnect_then_closes_is_not_recoverable(
    http_server: Any, http_port: int, sio: Any, make_token: Callable[..., str]
) -> None:
    """DISCONNECT then the transport's close at once, as socket.io-client's
    ``socket.disconnect()`` does (socket.io's "client namespace disconnect"):
    the client left, nothing is saved, although python-socketio handles the
    DISCONNECT in a task that may run after the close."""
    recovery = engine_for(sio).recovery
    assert isinstance(recovery, Recovery)
    polling = await RawPolling.open(http_port)
    ack = ack_of(await polling.connect({"token": make_token(sub=SUB)}))
    # One POST: DISCONNECT, then Engine.IO's close ("1").
    assert (await polling.post("41", "1")).code == 200
    for _ in range(100):  # bounded: the server hears of both
        if recovery.live_count == 0 and not sio.manager.is_connected(ack["sid"], "/"):
            break
        await asyncio.sleep(0.02)
    assert recovery.live_count == 0
    assert recovery.store.saved_count == 0
