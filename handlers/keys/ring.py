"""``KeyRing``: RS*/ES* keys chosen by ``kid``; one key signs, several verify.

Each key's ``kid`` is its RFC 7638 JWK thumbprint, so the same key file gets
the same ``kid`` on every server and every restart.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import jwt

from .base import select_key
from .jwk import algorithm_for, kid_of, public_jwk, public_key_of
from .pem import (
    PrivateKey,
    PublicKey,
    load_private_key,
    load_public_key,
    public_key_paths,
)

__all__ = ["KeyRing"]


class KeyRing:
    """Asymmetric keys by ``kid``: the current signing key plus older public keys.

    A token verifies only when its header's ``kid`` names a key held here and
    its ``alg`` is that key's algorithm. Unknown ``kid``s are refused.

    :param algorithms: the allowed algorithms (pass ``settings.algorithms``);
                       each key serves the first that fits its type. Default
                       RS256 for RSA keys, ES256/ES384 for EC keys by curve.
    :param signing_key: the private key that signs (its public key verifies
                        too); ``None`` makes a verify-only ring.
    :param public_keys: further verification keys, e.g. the previous signing
                        key during a rotation.
    :raises ValueError: no key at all, or a key no allowed algorithm fits.
    """

    def __init__(
        self,
        algorithms: Iterable[str] | None = None,
        *,
        signing_key: PrivateKey | None = None,
        public_keys: Iterable[PublicKey] = (),
    ) -> None:
        self._allowed = tuple(algorithms) if algorithms is not None else None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._jwks: dict[str, dict[str, Any]] = {}
        self._signing: tuple[PrivateKey, str, str] | None = None
        for key in public_keys:
            self.add_public_key(key)
        if signing_key is not None:
            self.set_signing_key(signing_key)
        if not self._keys:
            raise ValueError("a key ring needs at least one key")

    @classmethod
    def from_pem_files(
        cls,
        algorithms: Iterable[str] | None = None,
        *,
        private_key: str | os.PathLike[str] | None = None,
        public_key: str | os.PathLike[str] | None = None,
        verify_keys: Iterable[str] = (),
    ) -> KeyRing:
        """A ring from PEM files.

        :param private_key: the signing key; ``None`` for verify-only.
        :param public_key: its public key (checked to match), or the one
                           verification key of a verify-only ring.
        :param verify_keys: more public key files, or directories of ``*.pem``.
        :raises ValueError: unreadable keys, or a public key that is not the
                            private key's.
        """
        signing = load_private_key(private_key) if private_key else None
        publics = [
            load_public_key(path) for path in public_key_paths(list(verify_keys))
        ]
        if public_key:
            own = load_public_key(public_key)
            if signing is not None and kid_of(own) != kid_of(signing):
                raise ValueError(f"{public_key} is not the public key of {private_key}")
            publics.insert(0, own)
        return cls(algorithms, signing_key=signing, public_keys=publics)

    @property
    def algorithms(self) -> tuple[str, ...]:
        """The algorithms of the held keys, without repeats."""
        return tuple(dict.fromkeys(key.algorithm_name for key in self._keys.values()))

    @property
    def can_sign(self) -> bool:
        return self._signing is not None

    @property
    def signing_algorithm(self) -> str | None:
        return self._signing[2] if self._signing else None

    @property
    def kids(self) -> tuple[str, ...]:
        """The ``kid``s that verify, in the order they were added."""
        return tuple(self._keys)

    def add_public_key(self, key: PublicKey) -> str:
        """Accept tokens signed by ``key``'s private key; returns its ``kid``."""
        jwk = public_jwk(key, algorithm_for(key, self._allowed))
        self._keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm=jwk["alg"])
        self._jwks[jwk["kid"]] = jwk
        return str(jwk["kid"])

    def set_signing_key(self, key: PrivateKey) -> str:
        """Sign new tokens with ``key`` (it also verifies); returns its ``kid``."""
        kid = self.add_public_key(public_key_of(key))
        self._signing = (key, kid, self._keys[kid].algorithm_name)
        return kid

    def remove(self, kid: str) -> None:
        """Stop accepting tokens signed by key ``kid``.

        :raises ValueError: ``kid`` is the current signing key.
        """
        if self._signing is not None and self._signing[1] == kid:
            raise ValueError("cannot remove the current signing key")
        self._keys.pop(kid, None)
        self._jwks.pop(kid, None)

    def signing_key(self) -> tuple[Any, str | None]:
        if self._signing is None:
            raise RuntimeError("this key ring has no private key: it can only verify")
        return self._signing[0], self._signing[1]

    def verification_key(self, header: Mapping[str, Any]) -> Any:
        return select_key(self._keys, header, self._allowed or self.algorithms)

    def public_jwks(self) -> dict[str, Any]:
        """The JWK Set of every verification key (``kid``, ``alg``, ``use=sig``)."""
        return {"keys": [dict(jwk) for jwk in self._jwks.values()]}

    def __repr__(self) -> str:
        signing = self._signing[1] if self._signing else None
        return f"KeyRing(kids={list(self._keys)!r}, signing={signing!r})"
