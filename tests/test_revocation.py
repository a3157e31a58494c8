"""Logout revokes: live sockets are cut, handshakes refused; it survives a restart."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.lifecycle_support import (
    assert_logged,
    assert_no_token_logged,
    capture_logs,
    wait_until,
)
from tests.revocation_support import logout, restarted
from tests.support import connected_client, refusal, server_url
from tornado_socketio_jwt import (
    AuthSettings,
    RevocationList,
    TokenRevokedError,
    authenticator_for,
)
from tornado_socketio_jwt.storage.revocations import SQLiteRevocationStore


@pytest.fixture
def attach_options(revocation_store: SQLiteRevocationStore) -> dict[str, Any]:
    return {"revocation_store": revocation_store}


@pytest.mark.gen_test
async def test_logout_cuts_the_live_socket_with_token_revoked_first(
    http_server: Any,
    http_port: int,
    http_client: Any,
    make_token: Callable[..., str],
    caplog: Any,
) -> None:
    capture_logs(caplog)
    token = make_token()
    async with connected_client(
        server_url(http_port), auth={"token": token}, record=("token_revoked",)
    ) as result:
        assert result.connected
        assert (await logout(http_client, http_port, token)).code == 204
        payload = await result.next_event("token_revoked", timeout=1)
        await result.until_disconnected(timeout=1)

    assert payload == refusal(TokenRevokedError)
    assert_logged(caplog, "socket disconnected", "code=token_revoked")
    assert_no_token_logged(caplog, token)


@pytest.mark.gen_test
async def test_logout_refuses_the_next_handshake_with_token_revoked(
    http_server: Any,
    http_port: int,
    http_client: Any,
    make_token: Callable[..., str],
    caplog: Any,
) -> None:
    capture_logs(caplog)
    token = make_token()
    assert (await logout(http_client, http_port, token)).code == 204

    async with connected_client(server_url(http_port), auth={"token": token}) as result:
        assert not result.connected
    assert result.connect_errors == [
        {
            "message": "The token has been revoked.",
            "data": refusal(TokenRevokedError),
        }
    ]
    assert_logged(caplog, "socket refused", "code=token_revoked")
    assert_no_token_logged(caplog, token)


@pytest.mark.gen_test
async def test_logout_all_cuts_every_socket_of_that_user_and_none_of_another(
    http_server: Any, http_port: int, http_client: Any, make_token: Callable[..., str]
) -> None:
    url = server_url(http_port)
    first, second, bobs = make_token(sub="1"), make_token(sub="1"), make_token(sub="2")
    record = ("token_revoked",)
    async with (
        connected_client(url, auth={"token": first}, record=record) as a1,
        connected_client(url, auth={"token": second}, record=record) as a2,
        connected_client(url, auth={"token": bobs}, record=record) as bob,
    ):
        assert a1.connected and a2.connected and bob.connected
        assert (
            await logout(http_client, http_port, first, everything=True)
        ).code == 204

        for alice in (a1, a2):
            await alice.next_event("token_revoked", timeout=1)
            await alice.until_disconnected(timeout=1)
        assert bob.connected and "token_revoked" not in bob.events
        assert (await bob.client.call("whoami", timeout=5))["sub"] == "2"


@pytest.mark.gen_test
async def test_logout_all_refuses_the_users_older_tokens_at_the_handshake(
    http_server: Any, http_port: int, http_client: Any, make_token: Callable[..., str]
) -> None:
    older, token = make_token(iat=int(time.time()) - 30), make_token()
    assert (await logout(http_client, http_port, token, everything=True)).code == 204

    async with connected_client(server_url(http_port), auth={"token": older}) as result:
        assert result.connect_errors[0]["data"]["code"] == "token_revoked"


def test_a_user_cutoff_spares_tokens_issued_after_it() -> None:
    revocations = RevocationList()
    revocations.revoke_all("1", before=1000.5, until=5000)

    assert revocations.is_revoked({"sub": "1", "iat": 1000})
    assert not revocations.is_revoked({"sub": "1", "iat": 1001})
    assert not revocations.is_revoked({"sub": "2", "iat": 1000})


@pytest.mark.gen_test
async def test_revocations_survive_a_restart(
    http_server: Any,
    http_port: int,
    http_client: Any,
    make_token: Callable[..., str],
    settings: AuthSettings,
    revocation_store: SQLiteRevocationStore,
) -> None:
    revoked, cut, other = make_token(sub="1"), make_token(sub="2"), make_token(sub="3")
    assert (await logout(http_client, http_port, revoked)).code == 204
    assert (await logout(http_client, http_port, cut, everything=True)).code == 204

    authenticator, again = restarted(revocation_store.path, settings)
    try:
        for token in (revoked, cut):
            with pytest.raises(TokenRevokedError):
                await authenticator.verify(token)
        assert (await authenticator.verify(other))["sub"] == "3"
    finally:
        again.close()


def test_store_prunes_entries_whose_tokens_have_expired(tmp_path: Any) -> None:
    path = str(tmp_path / "revocations.sqlite3")
    now = time.time()
    store = SQLiteRevocationStore(path, clock=lambda: now)
    store._connect().execute("INSERT INTO revoked_tokens VALUES ('old', ?)", (now - 1,))
    store._connect().execute(
        "INSERT INTO revoked_tokens VALUES ('live', ?)", (now + 60,)
    )
    store._connect().commit()
    revocations = RevocationList()

    assert store.load_into(revocations) == 1
    assert store.count_sync() == 1
    assert revocations.is_revoked({"jti": "live"}) and not revocations.is_revoked(
        {"jti": "old"}
    )
    store.close()


class CountingStore:
    """A RevocationStore that counts every call, to show handshakes never use it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def load_into(self, revocations: RevocationList) -> int:
        self.calls.append("load_into")
        revocations.revoke("preloaded", time.time() + 60)
        return 1

    async def add_jti(self, jti: str, expires_at: float) -> None:
        self.calls.append("add_jti")

    async def add_cutoff(
        self, sub: str, not_after_iat: float, expires_at: float
    ) -> None:
        self.calls.append("add_cutoff")


@pytest.mark.parametrize("attach_options", [{"revocation_store": CountingStore()}])
@pytest.mark.gen_test
async def test_handshakes_check_revocation_in_memory_only(
    http_server: Any,
    http_port: int,
    sio: Any,
    make_token: Callable[..., str],
    attach_options: dict[str, Any],
) -> None:
    counting = attach_options["revocation_store"]
    url = server_url(http_port)
    async with connected_client(
        url, auth={"token": make_token(jti="preloaded")}
    ) as refused:
        assert refused.connect_errors[0]["data"]["code"] == "token_revoked"
    async with connected_client(url, auth={"token": make_token()}) as admitted:
        assert admitted.connected

    assert counting.calls == ["load_into"]


@pytest.mark.gen_test
async def test_logout_writes_the_revocation_to_the_store(
    http_server: Any,
    http_port: int,
    http_client: Any,
    make_token: Callable[..., str],
    revocation_store: SQLiteRevocationStore,
    sio: Any,
) -> None:
    token = make_token()
    assert (await logout(http_client, http_port, token)).code == 204

    await wait_until(lambda: revocation_store.count_sync() == 1)
    assert len(authenticator_for(sio).revocations) == 1


def test_a_cut_off_revokes_the_tokens_of_sessions_begun_before_it() -> None:
    """A cut-off compares when the session began (``auth_time``, which a refresh
    carries over), not when the token was issued: a token refreshed after
    ``passwd`` or "log out everywhere" from an older login is revoked too (it
    once survived the restart that loads the cut-off)."""
    from tornado_socketio_jwt import RevocationList

    revocations = RevocationList()
    revocations.revoke_all("1", before=100.0)
    refreshed_after = {"sub": "1", "iat": 150, "auth_time": 90, "jti": "a"}
    logged_in_after = {"sub": "1", "iat": 150, "auth_time": 101, "jti": "b"}
    assert revocations.is_revoked(refreshed_after)
    assert not revocations.is_revoked(logged_in_after)
    assert not revocations.is_revoked({"sub": "1", "iat": 150, "jti": "c"})
    assert revocations.is_revoked({"sub": "1", "iat": 99, "jti": "d"})
    assert revocations.is_revoked({"sub": "1", "jti": "e"})  # no date: fail closed
