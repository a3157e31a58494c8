"""Start-up errors: one line naming the option, where its value came from and
the fix; exit status 1 or 2; never a raw ``[Errno N]`` or a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tornado_socketio_jwt.cli import main
from tornado_socketio_jwt.cli.settings import SECRET_FILE

SECRET = "s" * 40


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("JWT_SECRET", "DATA_DIR", "TOKEN_SOURCES", "PORT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def fails(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """The exit status and the one error line of ``tsj ARGS``."""
    status = main(list(args), prog="tsj")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Errno" not in err and "Traceback" not in err
    assert err.startswith("tsj: error: ")
    return status, err.removeprefix("tsj: error: ").strip()


def test_a_data_dir_that_is_a_file_names_the_flag_and_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "data").write_text("")
    status, line = fails(capsys, "--data-dir", str(tmp_path / "data"))
    assert status == 1
    assert line == (
        f"--data-dir (from the flag) '{tmp_path / 'data'}' is a file: "
        "name a directory (created if missing)"
    )


def test_a_data_dir_from_the_environment_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], environment: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").write_text("")
    environment.setenv("DATA_DIR", str(tmp_path / "data"))
    status, line = fails(capsys, "users")
    assert status == 1
    assert line.startswith("--data-dir (from the environment variable DATA_DIR) ")


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/sys/kernel/tsj-test/data", "operation not permitted"),
        ("/proc/self/tsj-test/data", "no such file or directory"),
    ],
)
def test_an_unreachable_data_dir_says_why_in_words(
    capsys: pytest.CaptureFixture[str], path: str, reason: str
) -> None:
    status, line = fails(capsys, "--data-dir", path)
    assert status == 1
    assert line == (
        f"--data-dir (from the flag) '{path}' cannot be created: {reason}: "
        "name a directory you may write, or create it first"
    )


def test_a_data_dir_under_a_file_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("")
    _, line = fails(capsys, "genkey", "--data-dir", str(tmp_path / "file" / "data"))
    assert "cannot be created: a part of it is a file" in line


def test_a_short_jwt_secret_names_the_environment_and_how_to_make_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], environment: pytest.MonkeyPatch
) -> None:
    environment.setenv("JWT_SECRET", "twelve-bytes")
    status, line = fails(capsys, "--data-dir", str(tmp_path))
    assert status == 2
    assert line == (
        "JWT_SECRET (from the environment) is 12 bytes; it must be at least 32 "
        "bytes: generate one with "
        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
    )


def test_a_short_secret_file_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / SECRET_FILE
    secret.write_text("short")
    secret.chmod(0o600)
    status, line = fails(capsys, "--data-dir", str(tmp_path))
    assert status == 2
    assert line.startswith(f"the secret file {secret} is 5 bytes; it must be at least")
    assert "delete it to have one generated" in line


def test_a_missing_key_file_names_its_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.pem"
    status, line = fails(
        capsys, "--data-dir", str(tmp_path), "--private-key", str(missing)
    )
    assert status == 2
    assert line == (
        f"--private-key (from the flag) '{missing}': no such file or directory: "
        "give a PEM file (genkey writes a pair)"
    )


def test_a_value_the_settings_refuse_names_its_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], environment: pytest.MonkeyPatch
) -> None:
    environment.setenv("JWT_SECRET", SECRET)
    environment.setenv("TOKEN_SOURCES", "auth,cookie")
    status, line = fails(capsys, "--data-dir", str(tmp_path))
    assert status == 2
    assert line == (
        "--token-sources (from the environment variable TOKEN_SOURCES) has unknown "
        "cookie (one of auth, query, header)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--ping-interval", "0"), "argument --ping-interval: '0' is not a number of "
         "seconds above 0"),
        (("--connect-timeout", "soon"), "argument --connect-timeout: 'soon' is not a "
         "number of seconds above 0"),
        (("--websocket-compression", "maybe"), "argument --websocket-compression: "
         "'maybe' is not on or off"),
    ],
)  # fmt: skip
def test_a_value_of_the_wrong_kind_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    with pytest.raises(SystemExit) as exit:
        main(list(args), prog="tsj")
    err = capsys.readouterr().err
    assert exit.value.code == 2 and err.count("\n") == 1
    assert message in err
