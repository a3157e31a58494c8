"""Cutting sockets: revoke tokens and disconnect the sockets that use them.

The half of :class:`Authenticator` that acts on live sockets: ``/logout``,
"log out everywhere" and the expiry timer come here.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

from .errors import TokenExpiredError, TokenRevokedError, UnauthorizedError
from .live import LiveSockets, SocketKey
from .metrics import Metrics
from .revocation import RevocationList
from .storage.revocations import RevocationStore

__all__ = ["SocketCutter", "PRUNE_INTERVAL"]

log = logging.getLogger("tornado_socketio_jwt")

# Expired revocations are dropped from memory at most this often (seconds).
PRUNE_INTERVAL = 60.0


class SocketCutter:
    """Revocation and kicks, mixed into :class:`Authenticator`, which sets the
    attributes below."""

    sio: Any
    settings: Any
    live: LiveSockets
    revocations: RevocationList
    store: RevocationStore | None
    metrics: Metrics
    clock: Callable[[], float]
    _pruned_at: float
    _tasks: set[asyncio.Task[None]]

    def forget(self, sid: str, namespace: str) -> None:  # pragma: no cover
        raise NotImplementedError

    async def revoke(self, claims: Mapping[str, Any]) -> int:
        """Revoke one token and cut the sockets that use it; returns how many.

        Effective in memory at once; then persisted when there is a store.
        """
        jti = str(claims["jti"])
        # Kept until the token fails verification anyway: exp plus the leeway.
        # A token without exp never expires, so neither does its revocation.
        until = float(claims.get("exp", math.inf)) + self.settings.leeway
        self._prune()
        self.revocations.revoke(jti, until)
        kicked = await self.kick_matching(self.live.by_jti(jti), TokenRevokedError())
        if self.store is not None:
            await self.store.add_jti(jti, until)
        return kicked

    async def revoke_user(self, sub: str, before: float, until: float) -> int:
        """Revoke every token of ``sub`` issued at or before ``before``."""
        self._prune()
        self.revocations.revoke_all(sub, before, until)
        kicked = await self.kick_matching(self.live.by_sub(sub), TokenRevokedError())
        if self.store is not None:
            await self.store.add_cutoff(sub, before, until)
        return kicked

    async def kick_matching(
        self, sockets: list[tuple[str, str]], err: UnauthorizedError
    ) -> int:
        """Emit ``err`` to each socket whose claims are now refused; disconnect it."""
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
        self.forget(sid, namespace)  # from here on no event of it is handled
        payload = {"message": err.message, "code": err.code}
        try:
            await self.sio.emit(err.code, payload, to=sid, namespace=namespace)
            await self.sio.disconnect(sid, namespace=namespace)
        except Exception:
            # One socket's failure must not spare the rest of a batch.
            log.exception("socket disconnect failed sid=%s code=%s", sid, err.code)
            return
        log.info(
            "socket disconnected sid=%s code=%s",
            sid,
            err.code,
            extra={"tsj_event": "socket_cut", "tsj_sid": sid, "tsj_code": err.code},
        )
        self.metrics.kicks.labels(err.code).inc()

    def _prune(self) -> None:
        now = self.clock()
        if now - self._pruned_at >= PRUNE_INTERVAL:
            self._pruned_at = now
            self.revocations.prune()

    def _expired(self, sockets: list[SocketKey]) -> None:
        # Called by the scheduler's timer (not a coroutine): one task per batch.
        task = asyncio.ensure_future(self._kick_expired(sockets))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _kick_expired(self, sockets: list[SocketKey]) -> None:
        for sid, namespace in sockets:
            if self.live.claims(sid, namespace) is not None:
                await self.kick(sid, namespace, TokenExpiredError())
