"""PEM key files: load, generate and write RS256/ES256 key pairs."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Union

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

__all__ = [
    "PrivateKey",
    "PublicKey",
    "load_private_key",
    "load_public_key",
    "public_key_paths",
    "generate_private_key",
    "write_key_pair",
    "PRIVATE_KEY_FILE",
    "PUBLIC_KEY_FILE",
    "MIN_RSA_BITS",
]

PrivateKey = Union[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey]
PublicKey = Union[rsa.RSAPublicKey, ec.EllipticCurvePublicKey]

PRIVATE_KEY_FILE = "jwt-private.pem"
PUBLIC_KEY_FILE = "jwt-public.pem"
MIN_RSA_BITS = 2048
GENERATED_RSA_BITS = 3072
PEM_SUFFIX = ".pem"


def _check_strength(key: PrivateKey | PublicKey, path: str | os.PathLike[str]) -> None:
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        if key.key_size < MIN_RSA_BITS:
            raise ValueError(f"{path}: RSA keys need at least {MIN_RSA_BITS} bits")
    elif not isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        raise ValueError(f"{path}: only RSA and EC keys are supported")


def load_private_key(path: str | os.PathLike[str]) -> PrivateKey:
    """An unencrypted PEM private key (RSA of 2048 bits or more, or EC).

    :raises ValueError: not such a key.
    :raises PermissionError: the file is readable by group or others.
    """
    if stat.S_IMODE(os.stat(path).st_mode) & 0o077:
        raise PermissionError(f"{path} is readable by other users; chmod 600 it")
    data = Path(path).read_bytes()
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: not an unencrypted PEM private key") from exc
    _check_strength(key, path)  # type: ignore[arg-type]
    return key  # type: ignore[return-value]


def load_public_key(path: str | os.PathLike[str]) -> PublicKey:
    """A PEM public key (``BEGIN PUBLIC KEY``), RSA or EC.

    :raises ValueError: not such a key.
    """
    data = Path(path).read_bytes()
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise ValueError(f"{path}: not a PEM public key") from exc
    _check_strength(key, path)  # type: ignore[arg-type]
    return key  # type: ignore[return-value]


def public_key_paths(entries: list[str]) -> list[Path]:
    """Expand files and directories (their ``*.pem``, sorted) into key paths.

    :raises ValueError: an entry that does not exist.
    """
    paths: list[Path] = []
    for entry in entries:
        path = Path(entry)
        if path.is_dir():
            paths.extend(sorted(p for p in path.iterdir() if p.suffix == PEM_SUFFIX))
        elif path.is_file():
            paths.append(path)
        else:
            raise ValueError(f"{entry}: no such key file or directory")
    return paths


def generate_private_key(algorithm: str) -> PrivateKey:
    """A fresh key for ``"RS256"`` (RSA 3072) or ``"ES256"`` (P-256)."""
    if algorithm == "RS256":
        return rsa.generate_private_key(
            public_exponent=65537, key_size=GENERATED_RSA_BITS
        )
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError("algorithm must be RS256 or ES256")


def write_key_pair(
    directory: str | os.PathLike[str], algorithm: str
) -> tuple[Path, Path]:
    """Generate a key pair into ``directory``: the private key with mode 0600.

    :return: ``(private_path, public_path)``.
    :raises FileExistsError: either file exists already (never overwritten).
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    private_path, public_path = folder / PRIVATE_KEY_FILE, folder / PUBLIC_KEY_FILE
    if public_path.exists():
        raise FileExistsError(f"{public_path} exists; move it away first")
    key = generate_private_key(algorithm)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # O_EXCL: never follow or reuse an existing file; 0600 from the first byte.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(private_pem)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_path.write_bytes(public_pem)
    return private_path, public_path
