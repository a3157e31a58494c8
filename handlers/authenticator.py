"""``Authenticator``: one server's verification, revocation and live-socket state.

Shared by the handshake gate, the ``authenticate`` event flow, ``/logout`` and
``refresh``, so that all of them accept and refuse exactly the same tokens.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Mapping

from .config import AuthSettings
from .errors import AuthError, TokenRevokedError, UnauthorizedError
from .keys import KeySource, prepare_keys
from .revocation import RevocationList
from .sessions import AUTHENTICATED_ROOM, LiveSockets, store_claims, user_room
from .tokens import read_header, verify_token

__all__ = ["Authenticator", "FailureHook", "SuccessHook"]

log = logging.getLogger("tornado_socketio_jwt")

FailureHook = Callable[[str, str, "str | None"], "Awaitable[None] | None"]
SuccessHook = Callable[[str, Mapping[str, Any]], "Awaitable[None] | None"]


class Authenticator:
    """Verification plus the state that outlives one request.

    :param sio: the ``socketio.AsyncServer`` whose sockets are tracked.
    :param on_failure: called as ``(code, sid, remote_addr)`` when a socket
                       is refused; never given the token.
    :param on_success: called as ``(sid, claims)`` when a socket is admitted.
    """

    def __init__(
        self,
        sio: Any,
        settings: AuthSettings,
        keys: KeySource,
        revocations: RevocationList | None = None,
        *,
        on_failure: FailureHook | None = None,
        on_success: SuccessHook | None = None,
    ) -> None:
        self.sio = sio
        self.settings = settings
        self.keys = keys
        self.revocations = revocations if revocations is not None else RevocationList()
        self.live = LiveSockets()
        self._on_failure = on_failure
        self._on_success = on_success

    async def verify(self, token: object) -> dict[str, Any]:
        """Verify a token and check it is not revoked.

        :raises UnauthorizedError: the leaf that says why.
        """
        if isinstance(token, str) and token:
            # The key source's async step (e.g. a JWKS fetch) runs here, on
            # the loop without blocking it; verification itself is cheap.
            await prepare_keys(self.keys, read_header(token))
        claims = verify_token(token, self.settings, self.keys)
        if self.revocations.is_revoked(claims):
            raise TokenRevokedError()
        return claims

    async def admit(self, sid: str, namespace: str, claims: dict[str, Any]) -> None:
        """Record a socket as authenticated: session, rooms, live index."""
        await store_claims(self.sio, sid, namespace, claims)
        await self.sio.enter_room(sid, user_room(str(claims["sub"])), namespace=namespace)
        await self.sio.enter_room(sid, AUTHENTICATED_ROOM, namespace=namespace)
        self.live.add(sid, namespace, claims)
        log.info("socket authenticated sid=%s sub=%s", sid, claims.get("sub"))
        await _maybe_await(self._on_success and self._on_success(sid, claims))

    def forget(self, sid: str, namespace: str) -> None:
        """Drop a socket from the live index (on disconnect or refusal)."""
        self.live.discard(sid, namespace)

    async def refused(self, err: AuthError, sid: str, environ: Mapping[str, Any]) -> None:
        """Log a refusal (code and sid only) and run the failure hook."""
        remote = environ.get("REMOTE_ADDR")
        log.info("socket refused sid=%s code=%s", sid, err.code)
        await _maybe_await(self._on_failure and self._on_failure(err.code, sid, remote))

    async def revoke(self, claims: Mapping[str, Any]) -> int:
        """Revoke one token and cut the sockets that use it; returns how many."""
        self.revocations.revoke(str(claims["jti"]), float(claims["exp"]))
        return await self.kick_matching(self.live.by_jti(str(claims["jti"])), TokenRevokedError())

    async def revoke_user(self, sub: str, before: float, until: float) -> int:
        """Revoke every token of ``sub`` issued at or before ``before``."""
        self.revocations.revoke_all(sub, before, until)
        return await self.kick_matching(self.live.by_sub(sub), TokenRevokedError())

    async def kick_matching(self, sockets: list[tuple[str, str]], err: UnauthorizedError) -> int:
        """Emit ``err`` to each socket whose claims are now refused, then disconnect it."""
        kicked = 0
        for sid, namespace in sockets:
            claims = self.live.claims(sid, namespace)
            if claims is None or not self.revocations.is_revoked(claims):
                continue
            await self.kick(sid, namespace, err)
            kicked += 1
        return kicked

    async def kick(self, sid: str, namespace: str, err: UnauthorizedError) -> None:
        """Tell a socket why (event named after the code), then disconnect it."""
        self.forget(sid, namespace)
        payload = {"message": err.message, "code": err.code}
        await self.sio.emit(err.code, payload, to=sid, namespace=namespace)
        await self.sio.disconnect(sid, namespace=namespace)
        log.info("socket disconnected sid=%s code=%s", sid, err.code)


async def _maybe_await(result: object) -> None:
    if result is not None and hasattr(result, "__await__"):
        await result  # type: ignore[misc]
