"""The command line's lifecycle options: --auth-flow/AUTH_FLOW, and revocations
kept in --data-dir."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tornado_socketio_jwt import TokenRevokedError, authenticator_for
from tornado_socketio_jwt.cli import build_settings, make_app
from tornado_socketio_jwt.cli.options import PROG
from tornado_socketio_jwt.cli.parser import make_parser
from tornado_socketio_jwt.cli.settings import REVOCATIONS_FILE
from tornado_socketio_jwt.storage.revocations import SQLiteRevocationStore


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, secret: str
) -> pytest.MonkeyPatch:
    monkeypatch.setenv("JWT_SECRET", secret)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("AUTH_FLOW", raising=False)
    return monkeypatch


def settings_from(argv: list[str]) -> Any:
    return build_settings(make_parser(PROG).parse_args(argv))[0]


def test_auth_flow_defaults_to_the_handshake(env: pytest.MonkeyPatch) -> None:
    assert settings_from([]).auth_flow == "handshake"


def test_auth_flow_option_switches_to_the_event_flow(env: pytest.MonkeyPatch) -> None:
    settings = settings_from(["--auth-flow", "event", "--auth-timeout", "2.5"])
    assert (settings.auth_flow, settings.auth_timeout) == ("event", 2.5)


def test_auth_flow_environment_variable_switches_to_the_event_flow(
    env: pytest.MonkeyPatch,
) -> None:
    env.setenv("AUTH_FLOW", "event")
    env.setenv("AUTH_TIMEOUT", "1.5")
    settings = settings_from([])
    assert (settings.auth_flow, settings.auth_timeout) == ("event", 1.5)


def test_an_unknown_auth_flow_is_a_configuration_error(env: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit) as exited:
        settings_from(["--auth-flow", "sometimes"])
    assert exited.value.code == 2


def test_an_unknown_auth_flow_in_the_environment_is_a_configuration_error(
    env: pytest.MonkeyPatch,
) -> None:
    env.setenv("AUTH_FLOW", "sometimes")
    with pytest.raises(SystemExit) as exited:
        settings_from([])
    assert exited.value.code == 2


@pytest.mark.gen_test
async def test_the_standalone_app_keeps_revocations_across_a_restart(
    env: pytest.MonkeyPatch, tmp_path: Path, users: Any, make_token: Callable[..., str]
) -> None:
    settings, token = settings_from([]), make_token()
    path = str(tmp_path / REVOCATIONS_FILE)
    first = SQLiteRevocationStore(path)
    _, sio = make_app(settings, users, revocations=first)
    authenticator = authenticator_for(sio)
    await authenticator.revoke(await authenticator.verify(token))
    first.close()

    again = SQLiteRevocationStore(path)
    try:
        _, restarted = make_app(settings, users, revocations=again)
        with pytest.raises(TokenRevokedError):
            await authenticator_for(restarted).verify(token)
    finally:
        again.close()
