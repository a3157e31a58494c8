"""The handshake flow: the token comes with the connect request.

The gate hands every dispatch of the server to :class:`HandshakeFlow`:
``connect`` is authenticated before the application's handler runs, events
reach the application only from authenticated sockets, and ``refresh`` is
answered here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import socketio

from ..authenticator import Authenticator
from ..errors import (
    TokenExpiredError,
    TokenRevokedError,
    UnauthorizedError,
    refusal_data,
)
from ..tokens import is_expired
from .engine import engine_for
from .flow_base import FlowBase
from .recovery import recovery_of
from .refresh import REFRESH_EVENT, refresh_socket
from .sessions import admit

__all__ = ["HandshakeFlow", "to_connect_refusal"]

log = logging.getLogger("tornado_socketio_jwt")


def to_connect_refusal(
    err: UnauthorizedError,
) -> socketio.exceptions.ConnectionRefusedError:
    """The wire form of a refusal: ``connect_error`` whose ``message`` says why
    and whose ``data`` is :func:`~..errors.refusal_data`."""
    return socketio.exceptions.ConnectionRefusedError(err.message, refusal_data(err))


class HandshakeFlow(FlowBase):
    """Authenticate each ``connect`` from its token; gate everything after it."""

    async def connect(
        self, namespace: str, sid: str, environ: dict[str, Any], auth: object = None
    ) -> Any:
        """Authenticate, run the app's connect handler, and let the socket in
        only if its token is still good afterwards.

        A logout or the token's expiry can land while the app's handler awaits;
        python-socketio cannot disconnect a socket that is still connecting, so
        the check after the handler is what keeps such a socket out.
        """
        authenticator = self.authenticator
        started = time.perf_counter()
        claims = await self._authenticate(sid, namespace, environ, auth)
        recovery = recovery_of(authenticator.sio)
        if recovery is not None:
            await recovery.admitting(sid, namespace)
        await admit(authenticator, sid, namespace, claims)
        try:
            result = await self.gate.dispatch_connect(namespace, sid, environ, auth)
        except BaseException:
            authenticator.forget(sid, namespace)
            raise
        if result is False:
            authenticator.forget(sid, namespace)
            return False
        err = _still_valid(authenticator, sid, namespace, claims)
        if err is not None or not _transport_open(authenticator.sio, sid, namespace):
            # The app accepted the socket: it hears of its end, as it would
            # have from python-socketio had the socket got in.
            authenticator.forget(sid, namespace)
            await self.app_disconnect(namespace, sid, "refused", claims)
            if err is None:
                return False  # the client left while the handler ran
            await authenticator.outcomes.refused(err, sid, environ)
            raise to_connect_refusal(err)
        # Only now, the socket accepted and its token still good: a recovery
        # restores its rooms and writes the events it missed (never to a
        # socket that the app or a logout refused meanwhile).
        if recovery is not None:
            await recovery.restore(sid, namespace, claims)
        await authenticator.outcomes.succeeded(sid, claims, started)
        return result

    async def event(
        self, event: str, namespace: str, sid: str, args: tuple[Any, ...]
    ) -> Any:
        """An event reaches the app only from a socket that is still authenticated."""
        if self.authenticator.live.claims(sid, namespace) is None:
            log.debug("event dropped from an unauthenticated socket sid=%s", sid)
            return engine_for(self.authenticator.sio).not_handled
        if event == REFRESH_EVENT:
            data = args[0] if args else None
            return await refresh_socket(
                self.authenticator, self.rules, sid, namespace, data
            )
        return await self.gate.dispatch(event, namespace, sid, *args)

    async def disconnect(self, namespace: str, sid: str, reason: object = None) -> None:
        """Clean up first, then the app's disconnect handler.

        python-socketio dispatches ``disconnect`` only for connected sockets,
        which this flow admitted.
        """
        claims = self.authenticator.forget(sid, namespace)
        await self.app_disconnect(namespace, sid, reason, claims)

    async def recovery_admission(
        self,
        namespace: str,
        environ: Mapping[str, Any],
        auth: object,
        replacing: tuple[str, str] | None,
    ) -> dict[str, Any]:
        """The handshake's checks for a recovering CONNECT (see
        :data:`.recovery.Admission`), run before it takes anything over."""
        sources = self.authenticator.settings.token_sources
        return await self.admissible_claims(
            namespace, environ, auth, sources, replacing
        )

    async def _authenticate(
        self, sid: str, namespace: str, environ: Mapping[str, Any], auth: object
    ) -> dict[str, Any]:
        sources = self.authenticator.settings.token_sources
        try:
            recovery = recovery_of(self.authenticator.sio)
            checked = recovery.checked(sid, namespace) if recovery else None
            if isinstance(checked, UnauthorizedError):
                raise checked
            if checked is not None:
                # A recovering CONNECT passed every check before it took over
                # its old session; only the per-user count may have moved since.
                self.sessions.check(environ, checked)
                return checked
            return await self.admissible_claims(namespace, environ, auth, sources)
        except UnauthorizedError as err:
            await self.authenticator.outcomes.refused(err, sid, environ)
            raise to_connect_refusal(err) from None


def _still_valid(
    authenticator: Authenticator, sid: str, namespace: str, claims: Mapping[str, Any]
) -> UnauthorizedError | None:
    """Why a socket must not be let in after all (revoked or expired while the
    app's connect handler ran), or ``None``."""
    if authenticator.revocations.is_revoked(claims):
        return TokenRevokedError()
    if is_expired(claims, authenticator.settings.leeway, authenticator.clock()):
        return TokenExpiredError()
    if authenticator.live.claims(sid, namespace) is not claims:
        return TokenRevokedError()  # cut by a logout while we waited
    return None


def _transport_open(sio: Any, sid: str, namespace: str) -> bool:
    """Whether the socket's Engine.IO session is still there: python-socketio
    skips ``disconnect`` for a socket that is still connecting."""
    return engine_for(sio).transport_open(sid, namespace)
