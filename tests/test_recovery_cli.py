"""The command line's recovery options: on by default for the standalone
server, ``--no-recovery`` or a duration of 0 turn it off."""

from __future__ import annotations

from pathlib import Path

import pytest

from tornado_socketio_jwt import AuthSettings
from tornado_socketio_jwt.cli import build_settings, make_parser

SECRET = "s" * 40


def settings_for(
    tmp_path: Path, args: list[str], environ: dict[str, str] | None = None
) -> AuthSettings:
    environ = {"JWT_SECRET": SECRET, **(environ or {})}
    options = make_parser(environ=environ).parse_args(
        ["--data-dir", str(tmp_path), *args]
    )
    settings, _ = build_settings(options, environ)
    return settings


def test_the_standalone_server_recovers_for_two_minutes_by_default(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, [])
    assert settings.recovers is True
    assert settings.recovery.max_disconnection_duration == 120.0
    assert AuthSettings().recovers is False  # embedders turn it on


@pytest.mark.parametrize(
    ("args", "environ"),
    [
        (["--no-recovery"], {}),
        (["--recovery", "off"], {}),
        (["serve", "--no-recovery"], {}),
        (["--max-disconnection-duration", "0"], {}),
        ([], {"RECOVERY": "off"}),
        ([], {"MAX_DISCONNECTION_DURATION": "0"}),
        (["--auth-flow", "event"], {}),
    ],
)
def test_recovery_is_turned_off_by_its_switch_a_zero_duration_or_the_event_flow(
    tmp_path: Path, args: list[str], environ: dict[str, str]
) -> None:
    assert settings_for(tmp_path, args, environ).recovers is False


def test_the_bounds_come_from_their_options_and_variables(tmp_path: Path) -> None:
    environ = {"MAX_DISCONNECTION_DURATION": "30", "RECOVERY_BUFFER_BYTES": "4096"}
    recovery = settings_for(tmp_path, ["--recovery-max-missed", "7"], environ).recovery
    assert recovery.max_disconnection_duration == 30.0
    assert (recovery.buffer_bytes, recovery.max_missed_packets) == (4096, 7)


def test_a_negative_duration_is_refused_naming_its_variable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        make_parser(environ={"MAX_DISCONNECTION_DURATION": "-1"}).parse_args([])
    assert "MAX_DISCONNECTION_DURATION='-1'" in capsys.readouterr().err
