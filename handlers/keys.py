"""Key sources: where signing and verification keys come from.

A key source never picks a key from unverified claims: at most the header's
``kid`` selects among keys it already holds.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol

from .errors import TokenInvalidError

__all__ = ["KeySource", "SharedSecretKey"]


class KeySource(Protocol):
    """What :func:`attach_jwt_auth` needs from a key source."""

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
