"""A "log out everywhere" cut-off outlives any token_ttl the server restarts with."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.revocation_support import logout, restarted
from tornado_socketio_jwt import AuthSettings, RevocationList, TokenRevokedError
from tornado_socketio_jwt.storage.revocations import SQLiteRevocationStore

LATER = 24 * 3600  # a restart a day later: past any lifetime the old ttl gave


@pytest.fixture
def attach_options(revocation_store: SQLiteRevocationStore) -> dict[str, Any]:
    return {"revocation_store": revocation_store}


@pytest.mark.gen_test
async def test_a_cutoff_survives_a_restart_with_a_lower_token_ttl(
    http_server: Any,
    http_port: int,
    http_client: Any,
    make_token: Callable[..., str],
    secret: str,
    revocation_store: SQLiteRevocationStore,
) -> None:
    now = math.floor(time.time())
    # Issued under an earlier, longer ttl: it still verifies two days from now.
    old = make_token(iat=now - 10, exp=now + 2 * LATER)
    assert (await logout(http_client, http_port, make_token(), True)).code == 204

    lower_ttl = AuthSettings(secret=secret, token_ttl=30)
    path = revocation_store.path
    authenticator, again = restarted(path, lower_ttl, clock=lambda: now + LATER)
    try:
        authenticator.revocations.prune()
        with pytest.raises(TokenRevokedError):
            await authenticator.verify(old)
    finally:
        again.close()


def test_a_legacy_cutoff_row_is_loaded_whatever_its_stored_expiry(
    tmp_path: Any,
) -> None:
    path, now = str(tmp_path / "revocations.sqlite3"), 10_000.0
    store = SQLiteRevocationStore(path, clock=lambda: now)
    conn = store._connect()
    conn.execute("INSERT INTO user_cutoffs VALUES ('1', 5000.25, 5060.0)")
    conn.commit()
    revocations = RevocationList(clock=lambda: now)

    assert store.load_into(revocations) == 1
    revocations.prune()
    assert revocations.is_revoked({"sub": "1", "iat": 5000})
    assert not revocations.is_revoked({"sub": "1", "iat": 5001})
    store.close()
