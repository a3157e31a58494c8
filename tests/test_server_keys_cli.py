"""The command line with keys: genkey, --private-key/--public-key/--verify-keys,
verify-only --jwks-url, and the claim-policy options."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.server_process import demo_password, free_port, http_login, running_server
from tornado_socketio_jwt import JWKSKeySource, KeyRing
from tornado_socketio_jwt.cli import (
    ConfigurationError,
    build_settings,
    main,
    make_parser,
)
from tornado_socketio_jwt.cli.settings import SECRET_FILE
from tornado_socketio_jwt.keys.pem import write_key_pair

NEW_VARIABLES = (
    "JWT_PRIVATE_KEY",
    "JWT_PUBLIC_KEY",
    "JWT_VERIFY_KEYS",
    "JWT_ALGORITHMS",
    "JWKS_URL",
    "JWT_AUDIENCE",
    "JWT_REQUIRED_CLAIMS",
    "JWT_LEEWAY",
    "JWKS_REFRESH_INTERVAL",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*NEW_VARIABLES, "JWT_SECRET", "JWT_ISSUER"):
        monkeypatch.delenv(name, raising=False)


def parse(*args: str) -> Any:
    """Options as the command line parses them."""
    return make_parser().parse_args(list(args))


def test_help_names_the_environment_variable_of_every_key_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        make_parser().parse_args(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name in NEW_VARIABLES:
        named_like_its_option = name.startswith("JWKS_")  # --jwks-url, ...
        assert named_like_its_option or f"[{name}]" in text, name


def test_genkey_writes_a_key_pair_with_a_private_key_of_mode_0600(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data-dir", str(tmp_path), "genkey", "--algorithm", "ES256"]) == 0
    private, public = tmp_path / "jwt-private.pem", tmp_path / "jwt-public.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    kid = KeyRing.from_pem_files(private_key=private, public_key=public).kids[0]
    assert f"kid {kid}" in capsys.readouterr().out


def test_genkey_never_overwrites_an_existing_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_key_pair(tmp_path, "RS256")
    assert main(["genkey", "--data-dir", str(tmp_path)]) == 1
    assert "exists" in capsys.readouterr().err


def test_genkey_offers_only_rs256_and_es256(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--data-dir", str(tmp_path), "genkey", "--algorithm", "HS256"])
    assert exited.value.code == 2
    assert not (tmp_path / "jwt-private.pem").exists()


def test_private_key_option_signs_with_the_key_type_and_makes_no_secret(
    tmp_path: Path,
) -> None:
    private, public = write_key_pair(tmp_path / "keys", "ES256")
    settings, keys = build_settings(
        parse(
            "--data-dir",
            str(tmp_path),
            "--private-key",
            str(private),
            "--public-key",
            str(public),
        )
    )
    assert settings.algorithms == ("ES256",) and settings.secret is None
    assert isinstance(keys, KeyRing) and keys.can_sign
    assert not (tmp_path / SECRET_FILE).exists()


def test_environment_supplies_the_key_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private, _ = write_key_pair(tmp_path / "keys", "RS256")
    monkeypatch.setenv("JWT_PRIVATE_KEY", str(private))
    settings, keys = build_settings(parse("--data-dir", str(tmp_path)))
    assert settings.algorithms == ("RS256",) and isinstance(keys, KeyRing)


def test_verify_keys_directory_keeps_old_tokens_verifying(tmp_path: Path) -> None:
    _old_private, _ = write_key_pair(tmp_path / "old", "RS256")
    new_private, _ = write_key_pair(tmp_path / "new", "RS256")
    (
        tmp_path / "old" / "jwt-private.pem"
    ).unlink()  # retired: only its public key stays
    _, keys = build_settings(
        parse(
            "--data-dir",
            str(tmp_path),
            "--private-key",
            str(new_private),
            "--verify-keys",
            str(tmp_path / "old"),
        )
    )
    assert isinstance(keys, KeyRing) and len(keys.kids) == 2


def test_key_that_does_not_fit_the_algorithms_is_a_configuration_error(
    tmp_path: Path,
) -> None:
    private, _ = write_key_pair(tmp_path / "keys", "ES256")
    with pytest.raises(ConfigurationError, match=r"^--algorithms \(from the flag\)"):
        build_settings(
            parse(
                "--data-dir",
                str(tmp_path),
                "--private-key",
                str(private),
                "--algorithms",
                "RS256",
            )
        )


def test_jwks_url_without_issuer_and_audience_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"--issuer.*--audience"):
        build_settings(
            parse(
                "--data-dir",
                str(tmp_path),
                "--jwks-url",
                "https://tenant.example.com/jwks.json",
            )
        )


def test_jwks_url_mode_verifies_only_and_requires_no_jti(tmp_path: Path) -> None:
    settings, keys = build_settings(
        parse(
            "--data-dir",
            str(tmp_path),
            "--jwks-url",
            "https://tenant.example.com/jwks.json",
            "--issuer",
            "https://tenant.example.com/",
            "--audience",
            "https://api.example.com/",
            "--leeway",
            "30",
            "--jwks-refresh-interval",
            "60",
        )
    )
    assert isinstance(keys, JWKSKeySource) and not keys.can_sign
    assert keys.min_refresh_interval == 60
    assert (settings.algorithms, settings.required_claims) == (
        ("RS256",),
        ("exp", "iat", "sub"),
    )
    assert (settings.issuer, settings.audience, settings.leeway) == (
        "https://tenant.example.com/",
        "https://api.example.com/",
        30,
    )


def test_required_claims_option_overrides_the_default(tmp_path: Path) -> None:
    settings, _ = build_settings(
        parse("--data-dir", str(tmp_path), "--required-claims", "exp,sub")
    )
    assert settings.required_claims == ("exp", "sub")


def test_server_with_a_private_key_publishes_a_jwks_that_verifies_its_tokens(
    tmp_path: Path,
) -> None:
    private, _ = write_key_pair(tmp_path / "keys", "RS256")
    port = free_port()
    with running_server(
        tmp_path, "--port", str(port), "--private-key", str(private)
    ) as lines:
        token = http_login(port, "demo", demo_password(lines))["token"]
        client = jwt.PyJWKClient(f"http://127.0.0.1:{port}/.well-known/jwks.json")
        key = client.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token, key, algorithms=["RS256"], issuer="tornado-socketio-jwt"
        )
        assert claims["sub"] and claims["email"] == "demo@example.com"
