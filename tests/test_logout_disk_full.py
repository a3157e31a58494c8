"""A logout the disk cannot hold says so (503), and the same request finishes it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from tests.lifecycle_support import assert_no_token_logged
from tests.revocation_support import logout, restarted
from tornado_socketio_jwt import AuthSettings, TokenRevokedError, authenticator_for
from tornado_socketio_jwt.storage.revocations import SQLiteRevocationStore


class FullDisk:
    """A connection whose every statement fails as on a full disk."""

    def __enter__(self) -> FullDisk:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def execute(self, *args: Any) -> Any:
        raise sqlite3.OperationalError("database or disk is full")


@pytest.fixture
def attach_options(revocation_store: SQLiteRevocationStore) -> dict[str, Any]:
    return {"revocation_store": revocation_store}


async def revoked_after_restart(path: str, settings: AuthSettings, token: str) -> bool:
    authenticator, store = restarted(path, settings)
    try:
        await authenticator.verify(token)
        return False
    except TokenRevokedError:
        return True
    finally:
        store.close()


@pytest.mark.parametrize("everything", [False, True])
@pytest.mark.gen_test
async def test_a_logout_on_a_full_disk_is_503_and_its_retry_saves_it(
    http_server: Any,
    http_port: int,
    http_client: Any,
    make_token: Callable[..., str],
    revocation_store: SQLiteRevocationStore,
    settings: AuthSettings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    everything: bool,
) -> None:
    token = make_token()
    with monkeypatch.context() as disk:
        disk.setattr(revocation_store, "_connect", FullDisk)
        failed = await logout(http_client, http_port, token, everything)
    assert failed.code == 503 and failed.headers["Retry-After"] == "1"
    assert json.loads(failed.body)["error"] == "revocation_not_persisted"

    retried = await logout(http_client, http_port, token, everything)
    assert retried.code == 204
    again = await logout(http_client, http_port, token, everything)
    assert again.code == 401 and json.loads(again.body)["error"] == "token_revoked"
    assert await revoked_after_restart(revocation_store.path, settings, token)
    assert any("logout not saved" in r.getMessage() for r in caplog.records)
    assert_no_token_logged(caplog, token)


@pytest.mark.gen_test
async def test_while_the_disk_is_full_the_token_is_already_refused(
    http_server: Any,
    http_port: int,
    http_client: Any,
    make_token: Callable[..., str],
    revocation_store: SQLiteRevocationStore,
    sio: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = make_token()
    monkeypatch.setattr(revocation_store, "_connect", FullDisk)
    assert (await logout(http_client, http_port, token, False)).code == 503
    with pytest.raises(TokenRevokedError):
        await authenticator_for(sio).verify(token)
    assert (await logout(http_client, http_port, token, False)).code == 503
