"""Key sources: where signing and verification keys come from.

A key source never picks a key from unverified claims: at most the header's
``kid`` selects, by dictionary lookup, among keys it already holds. Header
fields that point elsewhere (``jku``, ``x5u``, ``jwk``, ``x5c``) are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import jwt

from ..errors import TokenInvalidError

__all__ = [
    "KeySource",
    "SharedSecretKey",
    "can_sign",
    "prepare_keys",
    "public_jwks",
    "select_key",
    "signing_algorithm",
]

HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
NO_KID = "The token names no signing key (kid)."
UNKNOWN_KID = "The token's signing key (kid) is unknown."
WRONG_ALG = "The token's algorithm does not match its signing key."


class KeySource(Protocol):
    """What :func:`attach_jwt_auth` needs from a key source.

    Optional members, looked up with ``getattr``:

    - ``can_sign: bool`` (default true): false for verify-only sources;
      ``/login`` and ``/logout`` are then left out.
    - ``async prepare(header)``: called on the IOLoop before
      :meth:`verification_key`, e.g. to fetch a remote JWKS; never blocks.
    - ``public_jwks() -> dict``: the JWK Set published at
      ``/.well-known/jwks.json``.
    - ``algorithms: tuple[str, ...]``: the algorithms its keys serve;
      checked against the settings by :func:`attach_jwt_auth`.
    - ``signing_algorithm: str``: the algorithm of the signing key
      (default ``settings.algorithms[0]``).
    """

    def signing_key(self) -> tuple[Any, str | None]:
        """The current signing key and its ``kid`` (``None``: no ``kid``).

        :raises RuntimeError: when the source can only verify.
        """

    def verification_key(self, header: Mapping[str, Any]) -> Any:
        """The key that verifies a token with this (unverified) header.

        :raises TokenInvalidError: when no held key matches.
        """


class SharedSecretKey:
    """One HMAC secret that signs and verifies.

    :param secret: at least 32 bytes (``str`` as UTF-8).
    """

    algorithms = HMAC_ALGORITHMS

    def __init__(self, secret: str | bytes) -> None:
        raw = secret.encode("utf-8") if isinstance(secret, str) else secret
        if len(raw) < 32:
            raise ValueError("secret must be at least 32 bytes")
        self._secret = raw

    def signing_key(self) -> tuple[Any, str | None]:
        return self._secret, None

    def verification_key(self, header: Mapping[str, Any]) -> Any:
        if not self._secret:  # pragma: no cover - guarded by __init__
            raise TokenInvalidError()
        return self._secret

    def __repr__(self) -> str:
        return "SharedSecretKey(<redacted>)"


def can_sign(keys: KeySource) -> bool:
    """Whether ``keys`` can sign tokens (verify-only sources cannot)."""
    return bool(getattr(keys, "can_sign", True))


async def prepare_keys(keys: KeySource, header: Mapping[str, Any]) -> None:
    """Run the source's optional async step before verification."""
    prepare = getattr(keys, "prepare", None)
    if prepare is not None:
        await prepare(header)


def public_jwks(keys: KeySource) -> dict[str, Any] | None:
    """The JWK Set ``keys`` publishes, or ``None`` when it has none to publish."""
    publish = getattr(keys, "public_jwks", None)
    if publish is None or not can_sign(keys):
        return None
    jwks = publish()
    return jwks if jwks and jwks.get("keys") else None


def signing_algorithm(keys: KeySource, default: str) -> str:
    """The algorithm that signs with ``keys``' current key."""
    return getattr(keys, "signing_algorithm", None) or default


def select_key(
    keys: Mapping[str, jwt.PyJWK],
    header: Mapping[str, Any],
    algorithms: tuple[str, ...],
) -> jwt.PyJWK:
    """Pick the key named by the header's ``kid`` from a fixed map.

    A header without ``kid`` is verified with the one key when exactly one is
    held (Node's jsonwebtoken, among others, writes no ``kid``); with several
    it is refused rather than tried against each. The key's own algorithm must
    be allowed *and* equal to the header's ``alg``: a key never widens the
    allow-list (PyJWT CVE-2026-48523).

    :raises TokenInvalidError: no ``kid`` among several keys, an unknown or
                               malformed one, or an ``alg`` that does not
                               match the key.
    """
    key = _key_named(keys, header.get("kid", None))
    alg = header.get("alg")
    if alg != key.algorithm_name or alg not in algorithms:
        raise TokenInvalidError(WRONG_ALG)
    return key


def _key_named(keys: Mapping[str, jwt.PyJWK], kid: object) -> jwt.PyJWK:
    if kid is None:
        if len(keys) == 1:
            return next(iter(keys.values()))
        raise TokenInvalidError(NO_KID)
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise TokenInvalidError(UNKNOWN_KID)
    return key
