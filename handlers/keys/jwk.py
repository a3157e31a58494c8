"""JWK helpers: which algorithm a key serves, its public JWK and RFC 7638 ``kid``."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from .pem import PrivateKey, PublicKey

__all__ = [
    "algorithm_for",
    "public_jwk",
    "thumbprint",
    "public_key_of",
    "kid_of",
    "parse_jwks",
]

log = logging.getLogger("tornado_socketio_jwt")

RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256")
EC_CURVE_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384"}
THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}


def public_key_of(key: PrivateKey | PublicKey) -> PublicKey:
    """The public half of ``key`` (itself when it is public)."""
    if isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        return key.public_key()
    return key


def algorithm_for(
    key: PrivateKey | PublicKey, allowed: Iterable[str] | None = None
) -> str:
    """The algorithm ``key`` serves: the first of ``allowed`` that fits its type.

    :param allowed: the candidates in order of preference; default RS256 for
                    RSA and ES256/ES384 by curve for EC.
    :raises ValueError: when no allowed algorithm fits the key.
    """
    fitting: tuple[str, ...]
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        kind, fitting = "an RSA", RSA_ALGORITHMS
    else:
        curve_alg = EC_CURVE_ALGORITHMS.get(key.curve.name)
        kind, fitting = f"a {key.curve.name} EC", (curve_alg,) if curve_alg else ()
    candidates = tuple(allowed) if allowed is not None else fitting[:1]
    for alg in candidates:
        if alg in fitting:
            return alg
    raise ValueError(
        f"{kind} key cannot serve algorithms {', '.join(candidates) or '-'}"
    )


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 thumbprint (SHA-256, base64url) of a public RSA/EC JWK."""
    members = {name: jwk[name] for name in THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def public_jwk(key: PrivateKey | PublicKey, algorithm: str) -> dict[str, Any]:
    """The public JWK of ``key`` with ``kid`` (thumbprint), ``alg`` and ``use``."""
    public = public_key_of(key)
    if isinstance(public, rsa.RSAPublicKey):
        raw = RSAAlgorithm.to_jwk(public, as_dict=True)
    else:
        raw = ECAlgorithm.to_jwk(public, as_dict=True)
    members = {name: raw[name] for name in THUMBPRINT_MEMBERS[raw["kty"]]}
    return {**members, "kid": thumbprint(members), "alg": algorithm, "use": "sig"}


def kid_of(key: PrivateKey | PublicKey) -> str:
    """The ``kid`` of ``key``: its RFC 7638 thumbprint."""
    return str(public_jwk(key, "")["kid"])


SYMMETRIC_KTY = "oct"
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k")
# RFC 7517/7518 members that are strings; anything else marks a broken key.
STRING_MEMBERS = ("kty", "alg", "use", "crv", "n", "e", "x", "y")


def parse_jwks(data: object, algorithms: Iterable[str]) -> dict[str, jwt.PyJWK]:
    """The usable signature keys of a JWK Set, by ``kid``.

    Skipped: keys without a ``kid``, with ``use`` other than ``sig``,
    symmetric or private keys, and keys whose algorithm is not allowed.

    :raises ValueError: ``data`` is not a JWK Set.
    """
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise ValueError("not a JWK Set")
    allowed, keys = tuple(algorithms), {}
    for jwk in data["keys"]:
        key = _usable_key(jwk, allowed)
        if key is not None:
            keys[jwk["kid"]] = key
    return keys


def _usable_key(jwk: object, allowed: tuple[str, ...]) -> jwt.PyJWK | None:
    if (
        not isinstance(jwk, dict)
        or not isinstance(jwk.get("kid"), str)
        or not jwk["kid"]
    ):
        return None
    if jwk.get("use", "sig") != "sig" or jwk.get("kty") == SYMMETRIC_KTY:
        return None
    if any(member in jwk for member in PRIVATE_MEMBERS):
        return None
    if not _string_members(jwk):
        return None
    try:
        key = jwt.PyJWK(jwk)
    # PyJWTError (InvalidKeyError, PyJWKError) is the issuer's fault; so is a
    # member of the wrong JSON type, which PyJWK may meet as a TypeError.
    except (jwt.PyJWTError, TypeError, ValueError) as exc:
        log.warning("JWKS key kid=%s skipped: %s", jwk["kid"], exc)
        return None
    if key.algorithm_name not in allowed:
        log.info(
            "JWKS key kid=%s skipped: alg %s not allowed",
            jwk["kid"],
            key.algorithm_name,
        )
        return None
    return key


def _string_members(jwk: dict[str, Any]) -> bool:
    # PyJWK looks "alg" up in a dict: a list there raised TypeError (unhashable).
    for member in STRING_MEMBERS:
        if member in jwk and not isinstance(jwk[member], str):
            log.warning(
                "JWKS key kid=%s skipped: %s is not a string", jwk["kid"], member
            )
            return False
    return True
