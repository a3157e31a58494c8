"""``Authenticator``: one server's verification, revocation and live-socket state.

Shared by the handshake gate, the ``authenticate`` event flow, ``/logout`` and
``refresh``, so that all of them accept and refuse exactly the same tokens;
``/logout``, "log out everywhere" and the expiry timer cut live sockets here.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from .config import AuthSettings
from .deadlines import DeadlineScheduler
from .errors import (
    TokenExpiredError,
    TokenInvalidError,
    TokenRevokedError,
    UnauthorizedError,
    refusal_data,
)
from .hooks import FailureHook, Outcomes, SuccessHook
from .keys import KeySource, prepare_keys
from .live import LiveSockets, SocketKey, departing
from .metrics import Metrics
from .revocation import RevocationList
from .storage.revocations import RevocationStore
from .task_set import TaskSet
from .tokens import UNVERIFIABLE, expires_at, read_header, verify_token

__all__ = ["Authenticator", "FailureHook", "SuccessHook", "SharedRevocations"]

log = logging.getLogger("tornado_socketio_jwt")

# Expired revocations are dropped from memory at most this often (seconds).
PRUNE_INTERVAL = 60.0


class SharedRevocations(Protocol):
    """Revocations shared by several processes (Redis): written like a
    :class:`RevocationStore`, but loaded, and kept current in ``revocations``,
    by a subscription of its own."""

    async def add_jti(self, jti: str, expires_at: float) -> None: ...
    async def add_cutoff(
        self, sub: str, not_after_iat: float, expires_at: float
    ) -> None: ...
    async def ready(self, authenticator: Authenticator) -> None:
        """Start following; wait (bounded) until the denylist was loaded once."""

    async def aclose(self) -> None: ...


class Authenticator:
    """Verification plus the state that outlives one request.

    :param sio: the ``socketio.AsyncServer`` whose sockets are tracked.
    :param on_failure: called as ``(code, sid, remote_addr)`` when a socket
                       is refused; never given the token (see ``outcomes``).
    :param on_success: called as ``(sid, claims)`` when a socket is admitted.
    :param store: where revocations persist; loaded into ``revocations`` now
                  (once, at start-up), written on each revocation. Default
                  none: revocations live in memory only.
    :param shared: instead of ``store``, revocations shared with other
                   processes: verification waits (bounded, once) for it to
                   be loaded; :meth:`start` and :meth:`close` run it.
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
        shared: SharedRevocations | None = None,
        clock: Callable[[], float] = time.time,
        metrics: Metrics | None = None,
    ) -> None:
        if store is not None and shared is not None:
            raise ValueError("pass a revocation store or shared revocations, not both")
        self.sio, self.settings, self.keys, self.clock = sio, settings, keys, clock
        if revocations is None:
            revocations = RevocationList(clock)
        self.revocations = revocations
        if store is not None:
            store.load_into(self.revocations)
        self.store: RevocationStore | SharedRevocations | None = store or shared
        self.shared = shared
        self.live = LiveSockets()
        self.expiry: DeadlineScheduler[SocketKey] = DeadlineScheduler(
            self._expired, clock
        )
        self._kicks = TaskSet("expiry disconnects")
        self._pruned_at = clock()
        self.metrics = metrics or Metrics()
        self.metrics.count_connected(lambda: len(self.live))
        self.outcomes = Outcomes(self.metrics, on_failure, on_success)

    async def verify(self, token: object) -> dict[str, Any]:
        """Verify a token and check it is not revoked.

        :raises UnauthorizedError: the leaf that says why.
        """
        if self.shared is not None:
            await self.shared.ready(self)
        header = None
        if isinstance(token, str) and token:
            # The key source's async step (e.g. a JWKS fetch) runs here, on
            # the loop without blocking it; verification itself is cheap.
            header = read_header(token, self.settings.max_token_bytes)
            try:
                await prepare_keys(self.keys, header)
            except UnauthorizedError:
                raise
            except Exception as exc:  # a key source's (or lookup's) failure
                # is this server's, never the client's: refused, one line.
                log.error("key source failed to prepare (%s)", type(exc).__name__)
                raise TokenInvalidError(UNVERIFIABLE) from None
        claims = verify_token(token, self.settings, self.keys, header=header)
        if self.revocations.is_revoked(claims):
            raise TokenRevokedError()
        return claims

    async def start(self) -> None:
        """Load shared revocations now, rather than at the first handshake.

        :raises RevocationsUnavailableError: they did not load in time.
        """
        if self.shared is not None:
            await self.shared.ready(self)

    async def close(self) -> None:
        """Stop following shared revocations; cancel pending expiry work."""
        if self.shared is not None:
            await self.shared.aclose()
        await self._kicks.cancel()

    def track(self, sid: str, namespace: str, claims: dict[str, Any]) -> None:
        """Keep a socket's claims (the one copy) and (re)set its expiry deadline."""
        self.live.add(sid, namespace, claims)
        deadline = expires_at(claims, self.settings.leeway)
        if math.isfinite(deadline):
            self.expiry.schedule((sid, namespace), deadline)
        else:
            self.expiry.cancel((sid, namespace))

    def forget(self, sid: str, namespace: str) -> dict[str, Any] | None:
        """Drop a socket's claims and cancel its expiry (on disconnect or
        refusal); returns the claims it had."""
        self.expiry.cancel((sid, namespace))
        return self.live.discard(sid, namespace)

    async def revoke(self, claims: Mapping[str, Any]) -> int:
        """Revoke one token and cut the sockets that use it; returns how many.

        Effective in memory at once; then persisted when there is a store.
        Kept until the token would be refused anyway (:func:`expires_at`).
        """
        jti, until = str(claims["jti"]), expires_at(claims, self.settings.leeway)
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
        self, sockets: list[SocketKey], err: UnauthorizedError
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
        """Tell a socket why (an event named after the code, carrying
        :func:`refusal_data`), then disconnect it."""
        claims = self.forget(sid, namespace)  # no event of it is handled now
        try:
            await self.sio.emit(
                err.code, refusal_data(err), to=sid, namespace=namespace
            )
            with departing((sid, namespace), claims):  # its disconnect handler's
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
        self._kicks.spawn(self._kick_expired(sockets))

    async def _kick_expired(self, sockets: list[SocketKey]) -> None:
        for sid, namespace in sockets:
            if self.live.claims(sid, namespace) is not None:
                await self.kick(sid, namespace, TokenExpiredError())
