"""Connection state recovery on the wire, frame by frame (a raw WebSocket
client): what the CONNECT ack and each event carry, what a recovery writes
before its ack, and that a refused one writes nothing but the refusal."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.raw_socket import RawSocket
from tornado_socketio_jwt import AuthSettings, StateRecovery
from tornado_socketio_jwt.sockets.extension import authenticator_for

SUB = "7"


@pytest.fixture
def settings(secret: str) -> AuthSettings:
    return AuthSettings(
        secret=secret,
        token_ttl=60,
        recovery=StateRecovery(enabled=True, max_missed_packets=5),
    )


def ack_of(frame: str) -> dict[str, Any]:
    assert frame.startswith("40{"), frame
    answer = json.loads(frame[2:])
    assert isinstance(answer, dict)
    return answer


def event_of(frame: str) -> list[Any]:
    assert frame.startswith("42["), frame
    data = json.loads(frame[2:])
    assert isinstance(data, list)
    return data


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


async def frames_until_answer(raw: RawSocket, auth: dict[str, Any]) -> list[str]:
    """Send CONNECT with ``auth``; every frame up to its ack or refusal."""
    await raw.send("40" + json.dumps(auth))
    frames = []
    while True:
        frame = await raw.read()
        frames.append(frame)
        if frame.startswith(("40", "44")) or frame == "":
            return frames


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
