"""KeyRing: RS256/ES256 signing and verification, kids, rotation (pure, no loop)."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.issuer import ec_key, public_pem, rsa_key, write_private
from tests.support import sign
from tornado_socketio_jwt import (
    AuthSettings,
    KeyRing,
    TokenInvalidError,
    issue_token,
    verify_token,
)
from tornado_socketio_jwt.keys.jwk import thumbprint
from tornado_socketio_jwt.keys.pem import write_key_pair

RFC7638_N = (  # RFC 7638, section 3.1
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR"
    "1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0"
    "h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n9"
    "1CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF"
    "44-csFCur-kEgU8awapJzKnqDKgw"
)


@pytest.fixture(scope="module")
def old_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture(scope="module")
def new_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture
def rs_settings() -> AuthSettings:
    return AuthSettings(algorithms=("RS256",), token_ttl=60)


def rotated_ring(old_key: Any, new_key: Any) -> KeyRing:
    return KeyRing(("RS256",), signing_key=new_key, public_keys=[old_key.public_key()])


@pytest.mark.parametrize("alg, make_key", [("RS256", rsa_key), ("ES256", ec_key)])
def test_asymmetric_token_round_trips_through_a_key_ring(
    alg: str, make_key: Any
) -> None:
    settings = AuthSettings(algorithms=(alg,))
    ring = KeyRing(settings.algorithms, signing_key=make_key())
    token, payload = issue_token(settings, ring, "7", {"email": "a@example.com"})
    header = jwt.get_unverified_header(token)
    assert (header["alg"], header["kid"]) == (alg, ring.kids[0])
    assert verify_token(token, settings, ring) == payload


def test_kid_is_the_rfc7638_thumbprint() -> None:
    # RFC 7638, section 3.1: the example RSA key and its thumbprint.
    jwk = {
        "kty": "RSA",
        "n": RFC7638_N,
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_same_key_file_gets_the_same_kid_on_every_load(tmp_path: Path) -> None:
    private, _ = write_key_pair(tmp_path, "ES256")
    assert (
        KeyRing.from_pem_files(private_key=private).kids
        == KeyRing.from_pem_files(private_key=private).kids
    )


def test_old_and_new_kid_both_verify_during_rotation(
    old_key: Any, new_key: Any, rs_settings: AuthSettings
) -> None:
    old_token, _ = issue_token(
        rs_settings, KeyRing(("RS256",), signing_key=old_key), "1"
    )
    ring = rotated_ring(old_key, new_key)
    new_token, _ = issue_token(rs_settings, ring, "1")
    assert verify_token(old_token, rs_settings, ring)["sub"] == "1"
    assert verify_token(new_token, rs_settings, ring)["sub"] == "1"
    assert jwt.get_unverified_header(new_token)["kid"] == ring.signing_key()[1]


def test_unknown_kid_is_refused_with_invalid_token(
    old_key: Any, new_key: Any, rs_settings: AuthSettings
) -> None:
    stranger = KeyRing(("RS256",), signing_key=rsa_key())
    token, _ = issue_token(rs_settings, stranger, "1")
    with pytest.raises(TokenInvalidError, match="unknown") as info:
        verify_token(token, rs_settings, rotated_ring(old_key, new_key))
    assert info.value.code == "invalid_token"


def test_removed_key_stops_verifying(
    old_key: Any, new_key: Any, rs_settings: AuthSettings
) -> None:
    old_token, _ = issue_token(
        rs_settings, KeyRing(("RS256",), signing_key=old_key), "1"
    )
    ring = rotated_ring(old_key, new_key)
    ring.remove(ring.kids[0])
    with pytest.raises(TokenInvalidError, match="unknown"):
        verify_token(old_token, rs_settings, ring)


def test_current_signing_key_cannot_be_removed(old_key: Any, new_key: Any) -> None:
    ring = rotated_ring(old_key, new_key)
    with pytest.raises(ValueError):
        ring.remove(ring.signing_key()[1])  # type: ignore[arg-type]


def test_token_without_kid_is_refused_by_a_ring_of_several_keys(
    old_key: Any, new_key: Any, rs_settings: AuthSettings
) -> None:
    # A single-key ring verifies it (CONTRACT, Tokens): see test_single_key.py.
    token = sign(new_key, "RS256")  # type: ignore[arg-type]
    with pytest.raises(TokenInvalidError, match="kid"):
        verify_token(token, rs_settings, rotated_ring(old_key, new_key))


def test_header_alg_differing_from_the_keys_alg_is_refused(new_key: Any) -> None:
    settings = AuthSettings(algorithms=("RS256", "RS384"))
    ring = KeyRing(("RS256", "RS384"), signing_key=new_key)  # the key serves RS256
    token = sign(new_key, "RS384", {"kid": ring.kids[0]})  # type: ignore[arg-type]
    with pytest.raises(TokenInvalidError, match="algorithm"):
        verify_token(token, settings, ring)


def test_ec_key_with_rs256_algorithms_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="EC key cannot serve"):
        KeyRing(("RS256",), signing_key=ec_key())


def test_rsa_key_under_2048_bits_is_refused(tmp_path: Path) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    write_private((tmp_path / "weak.pem"), weak)
    with pytest.raises(ValueError, match="2048"):
        KeyRing.from_pem_files(private_key=tmp_path / "weak.pem")


def test_public_key_that_is_not_the_private_keys_is_refused(
    tmp_path: Path, old_key: Any, new_key: Any
) -> None:
    write_private((tmp_path / "private.pem"), new_key)
    (tmp_path / "public.pem").write_bytes(public_pem(old_key))
    with pytest.raises(ValueError, match="is not the public key"):
        KeyRing.from_pem_files(
            private_key=tmp_path / "private.pem", public_key=tmp_path / "public.pem"
        )


def test_ring_with_only_public_keys_verifies_but_cannot_sign(
    tmp_path: Path, new_key: Any
) -> None:
    (tmp_path / "public.pem").write_bytes(public_pem(new_key))
    ring = KeyRing.from_pem_files(public_key=tmp_path / "public.pem")
    assert not ring.can_sign
    with pytest.raises(RuntimeError):
        ring.signing_key()


def test_verify_keys_directory_loads_every_pem_file(
    tmp_path: Path, old_key: Any, new_key: Any
) -> None:
    (tmp_path / "a.pem").write_bytes(public_pem(old_key))
    (tmp_path / "b.pem").write_bytes(public_pem(new_key))
    (tmp_path / "notes.txt").write_text("not a key")
    ring = KeyRing.from_pem_files(verify_keys=[str(tmp_path)])
    assert ring.kids == rotated_ring(old_key, new_key).kids


def test_published_jwks_has_kid_alg_and_use_and_no_private_members(
    old_key: Any, new_key: Any
) -> None:
    keys = rotated_ring(old_key, new_key).public_jwks()["keys"]
    assert [(k["alg"], k["use"], k["kty"]) for k in keys] == [
        ("RS256", "sig", "RSA")
    ] * 2
    assert not any(set(k) & {"d", "p", "q", "dp", "dq", "qi"} for k in keys)


def test_write_key_pair_makes_the_private_key_mode_0600(tmp_path: Path) -> None:
    private, public = write_key_pair(tmp_path / "keys", "RS256")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert b"BEGIN PUBLIC KEY" in public.read_bytes()


def test_write_key_pair_never_overwrites(tmp_path: Path) -> None:
    write_key_pair(tmp_path, "ES256")
    before = (tmp_path / "jwt-private.pem").read_bytes()
    with pytest.raises(FileExistsError):
        write_key_pair(tmp_path, "ES256")
    assert (tmp_path / "jwt-private.pem").read_bytes() == before


def test_private_key_readable_by_others_is_refused(
    tmp_path: Path, new_key: Any
) -> None:
    write_private(tmp_path / "private.pem", new_key)
    (tmp_path / "private.pem").chmod(0o644)
    with pytest.raises(PermissionError, match="chmod 600"):
        KeyRing.from_pem_files(private_key=tmp_path / "private.pem")
