"""``Authenticator``: one server's verification, revocation and live-socket state.

Shared by the handshake gate, the ``authenticate`` event flow, ``/logout`` and
``refresh``, so that all of them accept and refuse exactly the same tokens.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from .config import AuthSettings
from .credentials import remote_address
from .deadlines import DeadlineScheduler
from .errors import AuthError, TokenExpiredError, TokenRevokedError, UnauthorizedError
from .hooks import FailureHook, SuccessHook, run_hook
from .keys import KeySource, prepare_keys
from .live import LiveSockets, SocketKey
from .metrics import Metrics
from .revocation import RevocationList
from .storage.revocations import RevocationStore
from .tokens import read_header, verify_token

__all__ = ["Authenticator", "FailureHook", "SuccessHook"]

log = logging.getLogger("tornado_socketio_jwt")

# Expired revocations are dropped from memory at most this often (seconds).
PRUNE_INTERVAL = 60.0


class Authenticator:
    """Verification plus the state that outlives one request.

    :param sio: the ``socketio.AsyncServer`` whose sockets are tracked.
    :param on_failure: called as ``(code, sid, remote_addr)`` when a socket
                       is refused; never given the token.
    :param on_success: called as ``(sid, claims)`` when a socket is admitted.
    :param store: where revocations persist; loaded into ``revocations`` now
                  (once, at start-up), written on each revocation. Default
                  none: revocations live in memory only.
    :param clock: epoch seconds, for expiry deadlines; injectable for tests.
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
        store: RevocationStore | None = None,
        clock: Callable[[], float] = time.time,
        metrics: Metrics | None = None,
    ) -> None:
        self.sio = sio
        self.settings = settings
        self.keys = keys
        if revocations is None:
            revocations = RevocationList(clock)
        self.revocations = revocations
        self.store = store
        if store is not None:
            store.load_into(self.revocations)
        self.live = LiveSockets()
        self.expiry: DeadlineScheduler[SocketKey] = DeadlineScheduler(
            self._expired, clock
        )
        self._on_failure = on_failure
        self._on_success = on_success
        self._tasks: set[asyncio.Task[None]] = set()
        self.clock = clock
        self._pruned_at = clock()
        self.metrics = metrics or Metrics()
        self.metrics.count_connected(lambda: len(self.live))

    async def verify(self, token: object) -> dict[str, Any]:
        """Verify a token and check it is not revoked.

        :raises UnauthorizedError: the leaf that says why.
        """
        header = None
        if isinstance(token, str) and token:
            # The key source's async step (e.g. a JWKS fetch) runs here, on
            # the loop without blocking it; verification itself is cheap.
            header = read_header(token, self.settings.max_token_bytes)
            await prepare_keys(self.keys, header)
        claims = verify_token(token, self.settings, self.keys, header=header)
        if self.revocations.is_revoked(claims):
            raise TokenRevokedError()
        return claims

    async def start(self) -> None:
        """Start the background work shared state needs (none here)."""

    async def close(self) -> None:
        """Stop what :meth:`start` started (nothing here)."""

    async def succeeded(
        self,
        sid: str,
        namespace: str,
        claims: dict[str, Any],
        started: float | None = None,
    ) -> None:
        """The socket is in (the app's connect handler accepted it): log, count,
        hook.

        :param started: ``time.perf_counter()`` when its handshake began.
        """
        log.info(
            "socket authenticated sid=%s sub=%s",
            sid,
            claims.get("sub"),
            extra={"tsj_event": "socket_authenticated", "tsj_sid": sid},
        )
        self.metrics.handshakes.inc()
        if started is not None:
            self.metrics.handshake_seconds.observe(time.perf_counter() - started)
        if self._on_success is not None:
            await run_hook(self._on_success, sid, claims)

    def track(self, sid: str, namespace: str, claims: dict[str, Any]) -> None:
        """Index a socket's claims and (re)set its expiry deadline."""
        self.live.add(sid, namespace, claims)
        if "exp" in claims:
            deadline = float(claims["exp"]) + self.settings.leeway
            self.expiry.schedule((sid, namespace), deadline)
        else:
            self.expiry.cancel((sid, namespace))

    def forget(self, sid: str, namespace: str) -> None:
        """Drop a socket from the live index and cancel its expiry (on disconnect
        or refusal)."""
        self.live.discard(sid, namespace)
        self.expiry.cancel((sid, namespace))

    async def refused(
        self,
        err: AuthError,
        sid: str,
        environ: Mapping[str, Any],
        *,
        action: str = "socket",
    ) -> None:
        """Log a refusal (code and sid only) and run the failure hook.

        :param action: what was refused, for the log line: ``"socket"``
                       (handshake or ``authenticate``), ``"refresh"``, ...
        """
        remote = remote_address(environ)
        log.info(
            "%s refused sid=%s code=%s",
            action,
            sid,
            err.code,
            extra={
                "tsj_event": f"{action}_refused",
                "tsj_sid": sid,
                "tsj_code": err.code,
                "tsj_remote": remote,
            },
        )
        self.metrics.refusals.labels(err.code, action).inc()
        if self._on_failure is not None:
            await run_hook(self._on_failure, err.code, sid, remote)

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
