"""Choose the key source from plain settings: what ``server.py`` options map to."""

from __future__ import annotations

from collections.abc import Iterable

from .base import KeySource
from .remote import JWKSKeySource
from .ring import KeyRing

__all__ = ["key_source_for", "DEFAULT_JWKS_ALGORITHMS"]

DEFAULT_JWKS_ALGORITHMS = ("RS256",)  # what Auth0 signs with by default
DEFAULT_SECRET_ALGORITHMS = ("HS256",)


def key_source_for(
    *,
    algorithms: Iterable[str] = (),
    private_key: str | None = None,
    public_key: str | None = None,
    verify_keys: Iterable[str] = (),
    jwks_url: str | None = None,
    jwks_refresh_interval: float = 30.0,
) -> tuple[tuple[str, ...], KeySource | None]:
    """The allowed algorithms and key source for these settings.

    - ``jwks_url``: a verify-only :class:`JWKSKeySource` (default RS256);
    - PEM paths: a :class:`KeyRing` (algorithms default from the key types);
    - nothing: ``(("HS256",), None)``, i.e. the shared secret.

    :raises ValueError: unreadable keys, or keys that do not fit the algorithms.
    """
    allowed = tuple(algorithms) or None
    if jwks_url:
        allowed = allowed or DEFAULT_JWKS_ALGORITHMS
        source = JWKSKeySource(
            jwks_url, allowed, min_refresh_interval=jwks_refresh_interval
        )
        return allowed, source
    if private_key or public_key or verify_keys:
        ring = KeyRing.from_pem_files(
            allowed,
            private_key=private_key,
            public_key=public_key,
            verify_keys=verify_keys,
        )
        return allowed or ring.algorithms, ring
    return allowed or DEFAULT_SECRET_ALGORITHMS, None
