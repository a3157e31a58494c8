"""socketio-jwt's ``authenticate`` event flow (``auth_flow="event"``, or an
``"event"`` namespace policy).

The socket connects without a token and has its namespace's auth timeout to
emit ``authenticate`` ``{"token"}``. The server answers ``authenticated``, or
``unauthorized`` (:func:`unauthorized_payload`) and disconnects when the client
acknowledges it, or ``unauthorized_ack_timeout`` seconds later, whichever
comes first (socketio-jwt's ``callback``). A socket that never authenticates
is told ``unauthorized`` and disconnected at once when its time is up. Until then
no application handler runs, on any namespace however its handlers were
registered (the gate routes every dispatch here), and the socket is in none
of our rooms. Verification and refusals are the handshake's:
:meth:`FlowBase.admissible_claims` and :func:`~..errors.refusal_data`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

import socketio

from ..authenticator import Authenticator
from ..deadlines import DeadlineScheduler
from ..errors import (
    AlreadyAuthenticatedError,
    CredentialsRequiredError,
    ForbiddenError,
    UnauthorizedError,
    refusal_data,
)
from ..hooks import AdditionalAuth
from ..live import SocketKey
from ..task_set import TaskSet
from .engine import engine_for
from .flow_base import FlowBase
from .gate import Gate
from .limits import SessionTracker
from .refresh import REFRESH_EVENT, refresh_socket
from .rules import NamespaceRules
from .sessions import admit

__all__ = [
    "EventFlow",
    "AUTHENTICATE",
    "AUTHENTICATED",
    "UNAUTHORIZED",
    "unauthorized_payload",
]

log = logging.getLogger("tornado_socketio_jwt")

AUTHENTICATE = "authenticate"
AUTHENTICATED = "authenticated"
UNAUTHORIZED = "unauthorized"
TIMEOUT_MESSAGE = "No token was presented in time."


def unauthorized_payload(err: UnauthorizedError) -> dict[str, Any]:
    """``unauthorized``'s payload, socketio-jwt's serialised UnauthorizedError
    ``{message, inner: {message}, data: {message, code, type}}``, with ``code``
    and ``type`` also beside ``message``, where this library's earlier clients
    read them."""
    data = refusal_data(err)
    return {**data, "inner": {"message": err.message}, "data": data}


def _failed(err: UnauthorizedError) -> dict[str, Any]:
    return {"ok": False, **refusal_data(err)}


class EventFlow(FlowBase):
    """The ``authenticate`` flow, on every namespace whose policy is ``"event"``."""

    def __init__(
        self,
        authenticator: Authenticator,
        rules: NamespaceRules,
        gate: Gate,
        sessions: SessionTracker,
        additional_auth: AdditionalAuth | None = None,
    ) -> None:
        super().__init__(authenticator, rules, gate, sessions, additional_auth)
        self.admitted: set[SocketKey] = set()
        self._pending: dict[SocketKey, tuple[dict[str, Any], object]] = {}
        self._admitting: set[SocketKey] = set()
        self._timeouts: DeadlineScheduler[SocketKey] = DeadlineScheduler(
            self._timed_out, authenticator.clock
        )
        self._late = TaskSet("authenticate timeouts and refusals")

    async def connect(
        self, namespace: str, sid: str, environ: dict[str, Any], auth: object = None
    ) -> bool:
        """Accept the transport and start the ``auth_timeout`` clock."""
        self._pending[(sid, namespace)] = (environ, auth)
        timeout = self.authenticator.settings.auth_timeout_for(namespace)
        deadline = self.authenticator.clock() + timeout
        self._timeouts.schedule((sid, namespace), deadline)
        log.info("socket awaiting authenticate sid=%s", sid)
        return True

    async def event(
        self, event: str, namespace: str, sid: str, args: tuple[Any, ...]
    ) -> Any:
        """``authenticate`` is the flow's; anything else needs an admitted socket."""
        data = args[0] if args else None
        if event == AUTHENTICATE:
            return await self.authenticate(sid, namespace, data)
        key = (sid, namespace)
        if key not in self.admitted or self.authenticator.live.claims(*key) is None:
            log.debug("event dropped before authenticate sid=%s", sid)
            return engine_for(self.authenticator.sio).not_handled
        if event == REFRESH_EVENT:
            return await refresh_socket(
                self.authenticator, self.rules, sid, namespace, data
            )
        return await self.gate.dispatch(event, namespace, sid, *args)

    async def authenticate(
        self, sid: str, namespace: str, data: object
    ) -> dict[str, Any]:
        """Handle ``authenticate``: admit, or refuse and disconnect."""
        key, started = (sid, namespace), time.perf_counter()
        pending = self._pending.pop(key, None)
        if pending is None:  # a second authenticate (or one already under way)
            return await self._refuse_again(sid, namespace)
        self._timeouts.cancel(key)
        self._admitting.add(key)  # from here on, a disconnect is noticed
        environ, auth = pending
        try:
            # Only the event's own payload: never the query string or headers.
            claims = await self.admissible_claims(namespace, environ, data, ("auth",))
        except UnauthorizedError as err:
            self._admitting.discard(key)
            await self._refuse(sid, namespace, environ, err)
            return _failed(err)
        if key not in self._admitting:  # the client left while we verified
            return _failed(CredentialsRequiredError())
        await admit(self.authenticator, sid, namespace, claims)
        refusal = await self._refused_by_app(sid, namespace, environ, auth)
        gone = key not in self._admitting  # the client left while we awaited
        self._admitting.discard(key)
        if refusal is not None or gone:
            self.authenticator.forget(sid, namespace)
            if refusal is None:  # the app's connect ran: so does its disconnect
                await self.app_disconnect(namespace, sid, "gone", claims)
            return _failed(refusal or ForbiddenError())
        self.admitted.add(key)
        await self.authenticator.outcomes.succeeded(sid, claims, started)
        await self.authenticator.sio.emit(AUTHENTICATED, to=sid, namespace=namespace)
        return {"ok": True, "exp": claims.get("exp")}

    async def disconnect(self, namespace: str, sid: str, reason: object = None) -> None:
        """Cancel the timeout; the app's disconnect runs only if its connect did."""
        key = (sid, namespace)
        self._pending.pop(key, None)
        self._admitting.discard(key)
        self._timeouts.cancel(key)
        claims = self.authenticator.forget(sid, namespace)
        if key in self.admitted:
            self.admitted.discard(key)
            await self.app_disconnect(namespace, sid, reason, claims)

    async def _refuse_again(self, sid: str, namespace: str) -> dict[str, Any]:
        err = AlreadyAuthenticatedError()
        environ = self.authenticator.sio.get_environ(sid, namespace) or {}
        await self.authenticator.outcomes.refused(
            err, sid, environ, action="authenticate"
        )
        return _failed(err)

    async def _refused_by_app(
        self, sid: str, namespace: str, environ: dict[str, Any], auth: object
    ) -> UnauthorizedError | None:
        """Run the app's connect handler; the refusal it made, or ``None``."""
        try:
            result = await self.gate.dispatch_connect(namespace, sid, environ, auth)
        except socketio.exceptions.ConnectionRefusedError as exc:
            message = exc.error_args.get("message")
            err = ForbiddenError(message if isinstance(message, str) else None)
        else:
            if result is not False:
                return None
            err = ForbiddenError()
        self.authenticator.forget(sid, namespace)
        await self._refuse(sid, namespace, environ, err)
        return err

    async def _refuse(
        self,
        sid: str,
        namespace: str,
        environ: Mapping[str, Any],
        err: UnauthorizedError,
        wait: float | None = None,
    ) -> None:
        """Tell the client ``unauthorized``; disconnect on its ack or after
        ``wait`` seconds (default ``unauthorized_ack_timeout``; 0: at once).

        The socket is out of the flow already (never admitted, its
        ``authenticate`` spent), so nothing it sends meanwhile is dispatched.
        """
        await self.authenticator.outcomes.refused(err, sid, environ)
        if wait is None:
            wait = self.authenticator.settings.unauthorized_ack_timeout
        sio = self.authenticator.sio
        # While it waits for the ack it hears nothing sent to a room: out of
        # every room (ours and any the app's connect handler added) but its own.
        for room in sio.rooms(sid, namespace=namespace):
            if room != sid:
                await sio.leave_room(sid, room, namespace=namespace)
        acked = asyncio.get_running_loop().create_future()

        def ack(*args: Any) -> None:
            if not acked.done():
                acked.set_result(None)

        await sio.emit(
            UNAUTHORIZED,
            unauthorized_payload(err),
            to=sid,
            namespace=namespace,
            callback=ack if wait > 0 else None,
        )
        self._late.spawn(self._disconnect_after(sid, namespace, acked, wait))

    async def _disconnect_after(
        self, sid: str, namespace: str, acked: asyncio.Future[None], wait: float
    ) -> None:
        if wait > 0:
            try:
                await asyncio.wait_for(acked, wait)
            except asyncio.TimeoutError:
                log.debug("unauthorized not acknowledged in time sid=%s", sid)
        await self.authenticator.sio.disconnect(sid, namespace=namespace)

    def _timed_out(self, sockets: list[SocketKey]) -> None:
        self._late.spawn(self._refuse_late(sockets))

    async def _refuse_late(self, sockets: list[SocketKey]) -> None:
        for sid, namespace in sockets:
            pending = self._pending.pop((sid, namespace), None)
            if pending is not None:
                err = CredentialsRequiredError(TIMEOUT_MESSAGE)
                await self._refuse(sid, namespace, pending[0], err, wait=0)
