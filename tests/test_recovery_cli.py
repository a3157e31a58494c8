"""The command line's recovery options: on by default for the standalone
server, ``--no-recovery`` or a duration of 0 turn it off."""

from __future__ import annotations

from pathlib import Path

import pytest

from tornado_socketio_jwt import AuthSettings
from tornado_socketio_jwt.cli import ConfigurationError, build_settings, make_parser

SECRET = "s" * 40


def settings_for(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    environ: dict[str, str] | None = None,
) -> AuthSettings:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    options = make_parser(environ=environ or {}).parse_args(
        ["--data-dir", str(tmp_path), *args]
    )
    settings, _ = build_settings(options)
    return settings


def test_the_standalone_server_recovers_for_two_minutes_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path, monkeypatch, [])
    assert settings.recovers is True
    assert settings.max_disconnection_duration == 120.0


@pytest.mark.parametrize(
    ("args", "environ"),
    [
        (["--no-recovery"], {}),
        (["--recovery", "off"], {}),
        (["serve", "--no-recovery"], {}),
        (["--max-disconnection-duration", "0"], {}),
        ([], {"RECOVERY": "off"}),
        ([], {"MAX_DISCONNECTION_DURATION": "0"}),
    ],
)
def test_recovery_is_turned_off_by_its_switch_or_a_zero_duration(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    environ: dict[str, str],
) -> None:
    settings = settings_for(tmp_path, monkeypatch, args, environ)
    assert settings.recovers is False


def test_the_duration_comes_from_its_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = {"MAX_DISCONNECTION_DURATION": "30"}
    settings = settings_for(tmp_path, monkeypatch, [], environ)
    assert settings.max_disconnection_duration == 30.0


def test_a_negative_duration_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigurationError, match="max_disconnection_duration"):
        settings_for(tmp_path, monkeypatch, ["--max-disconnection-duration", "-1"])


def test_a_bad_switch_names_its_environment_variable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        make_parser(environ={"RECOVERY": "maybe"}).parse_args([])
    assert "RECOVERY='maybe' is not one of on, off" in capsys.readouterr().err
