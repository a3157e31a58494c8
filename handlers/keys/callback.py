"""``SecretCallback``: an HMAC secret looked up per token, socketio-jwt's
``secret`` callback.

The lookup is given the token's unverified *header* only (``kid``, ``alg``):
never its claims, which nobody has verified yet. It may be a coroutine (a
database or vault lookup), awaited on the IOLoop before verification.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Any

from ..errors import TokenInvalidError
from .base import HMAC_ALGORITHMS

__all__ = ["SecretCallback", "SecretLookup"]

log = logging.getLogger("tornado_socketio_jwt")

SecretLookup = Callable[
    [Mapping[str, Any]], "Awaitable[str | bytes | None] | str | bytes | None"
]
MIN_SECRET_BYTES = 32
NO_SECRET = "The token's signing key (kid) is unknown."
UNUSABLE = "The token cannot be verified right now."

# What prepare() found, for the verification_key() call that follows it in the
# same task: (source, header, secret). A context variable, not a table on the
# source: concurrent verifications (each in its own task) never see each
# other's secret, and nothing is left behind when a verification stops
# between the two calls.
_FOUND: ContextVar[tuple[object, object, bytes | None] | None] = ContextVar(
    "tsj_secret_callback_found", default=None
)


class SecretCallback:
    """Verify-only HMAC keys, each found by ``lookup(header)``.

    :param lookup: ``(header) -> secret``, plain or ``async``; ``None`` (or
                   an empty secret): no key for this token, which is refused
                   as ``invalid_token``. A secret shorter than 32 bytes is
                   refused (logged), as :class:`SharedSecretKey` refuses it.

    It never signs: serve your own login, or pair it with an issuer.
    """

    can_sign = False
    algorithms = HMAC_ALGORITHMS

    def __init__(self, lookup: SecretLookup) -> None:
        if not callable(lookup):
            raise TypeError("lookup must be callable")
        self._lookup = lookup

    async def prepare(self, header: Mapping[str, Any]) -> None:
        """Look the secret up for ``header`` (on the IOLoop, never blocking);
        :meth:`verification_key`, called next in the same task with the same
        header, uses it."""
        _FOUND.set(None)
        result = self._lookup(dict(header))
        secret = await result if inspect.isawaitable(result) else result
        _FOUND.set((self, header, _as_bytes(secret)))

    def verification_key(self, header: Mapping[str, Any]) -> Any:
        """The secret :meth:`prepare` found for this header.

        :raises TokenInvalidError: none, or one too short to be safe.
        """
        found = _FOUND.get()
        _FOUND.set(None)
        secret = None
        if found is not None and found[0] is self and found[1] is header:
            secret = found[2]
        if not secret:
            raise TokenInvalidError(NO_SECRET)
        if len(secret) < MIN_SECRET_BYTES:
            log.error("secret callback returned a secret under 32 bytes: refused")
            raise TokenInvalidError(UNUSABLE)
        return secret

    def signing_key(self) -> tuple[Any, str | None]:
        raise RuntimeError("SecretCallback only verifies")

    def __repr__(self) -> str:
        return f"SecretCallback({self._lookup!r})"


def _as_bytes(secret: object) -> bytes | None:
    if isinstance(secret, str):
        return secret.encode("utf-8")
    if isinstance(secret, bytes):
        return secret
    if secret is not None:
        log.error("secret callback returned a %s, not str or bytes", type(secret))
    return None
