"""``Authenticator``: one server's verification, revocation and live-socket state.

Shared by the handshake gate, the ``authenticate`` event flow, ``/logout`` and
``refresh``, so that all of them accept and refuse exactly the same tokens.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from .config import AuthSettings
from .credentials import remote_address
from .cutting import SocketCutter
from .deadlines import DeadlineScheduler
from .errors import AuthError, TokenRevokedError
from .hooks import FailureHook, SuccessHook, run_hook
from .keys import KeySource, prepare_keys
from .live import LiveSockets, SocketKey
from .metrics import Metrics
from .revocation import RevocationList
from .storage.revocations import RevocationStore
from .tokens import read_header, verify_token

__all__ = ["Authenticator", "FailureHook", "SuccessHook"]

log = logging.getLogger("tornado_socketio_jwt")


class Authenticator(SocketCutter):
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
