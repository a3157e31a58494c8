"""socketio-jwt's ``authenticate`` event flow (``AuthSettings(auth_flow="event")``).

The socket connects without a token and has ``auth_timeout`` seconds to emit
``authenticate`` ``{"token"}``. The server answers ``authenticated``, or
``unauthorized`` ``{"message", "code"}`` and disconnects at once. Until then
no application handler runs (:mod:`.event_guard`) and the socket is in none of
our rooms, so it receives none of our broadcasts. Verification and refusals
are the handshake gate's: :meth:`Authenticator.verify` and the error tree.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Mapping

import socketio

from .authenticator import Authenticator, SocketKey
from .authorization import check_namespace
from .dispatch import call_handler
from .errors import AlreadyAuthenticatedError, CredentialsRequiredError, ForbiddenError
from .errors import UnauthorizedError
from .deadlines import DeadlineScheduler
from .credentials import extract_token

__all__ = ["EventFlow", "AUTHENTICATE", "AUTHENTICATED", "UNAUTHORIZED"]

log = logging.getLogger("tornado_socketio_jwt")

AUTHENTICATE = "authenticate"
AUTHENTICATED = "authenticated"
UNAUTHORIZED = "unauthorized"
TIMEOUT_MESSAGE = "No token was presented in time."
Handler = Callable[..., Any]


class EventFlow:
    """The ``authenticate`` flow of one :class:`Authenticator`, on every namespace.

    :param authenticator: shared verification, live index and hooks.
    """

    def __init__(self, authenticator: Authenticator) -> None:
        self.authenticator = authenticator
        self.namespaces: set[str] = set()
        self.admitted: set[SocketKey] = set()
        self._pending: dict[SocketKey, tuple[Mapping[str, Any], object]] = {}
        self._admitting: set[SocketKey] = set()
        self._timeouts: DeadlineScheduler[SocketKey] = DeadlineScheduler(
            self._timed_out, authenticator.clock
        )
        self._tasks: set[asyncio.Task[None]] = set()

    def is_admitted(self, sid: str, namespace: str) -> bool:
        """Whether ``sid`` authenticated (and its connect handler accepted it)."""
        return (sid, namespace) in self.admitted

    async def connect(
        self, sid: str, namespace: str, environ: Mapping[str, Any], auth: object
    ) -> bool:
        """Accept the transport and start the ``auth_timeout`` clock."""
        self._pending[(sid, namespace)] = (environ, auth)
        deadline = self.authenticator.clock() + self.authenticator.settings.auth_timeout
        self._timeouts.schedule((sid, namespace), deadline)
        log.info("socket awaiting authenticate sid=%s", sid)
        return True

    async def authenticate(
        self,
        sid: str,
        namespace: str,
        data: object,
        inner_connect: Handler | None,
    ) -> dict[str, Any]:
        """Handle ``authenticate``: admit, or refuse and disconnect."""
        key = (sid, namespace)
        pending = self._pending.pop(key, None)
        if pending is None:  # a second authenticate (or one already under way)
            return await self._refuse_again(sid, namespace)
        self._timeouts.cancel(key)
        self._admitting.add(key)  # from here on, a disconnect is noticed
        environ, auth = pending
        try:
            claims = await self.authenticator.verify(extract_token({}, data, ("auth",)))
            check_namespace(self.authenticator.sio, namespace, claims)
        except UnauthorizedError as err:
            self._admitting.discard(key)
            await self._refuse(sid, namespace, environ, err)
            return {"ok": False, "code": err.code}
        if key not in self._admitting:  # the client left while we verified
            return {"ok": False, "code": CredentialsRequiredError.code}
        await self.authenticator.admit(sid, namespace, claims)
        accepted = await self._accepted_by_app(
            inner_connect, sid, namespace, environ, auth
        )
        gone = key not in self._admitting  # the client left while we awaited
        self._admitting.discard(key)
        if not accepted or gone:
            self.authenticator.forget(sid, namespace)
            return {"ok": False, "code": ForbiddenError.code}
        self.admitted.add(key)
        await self.authenticator.succeeded(sid, namespace, claims)
        await self.authenticator.sio.emit(AUTHENTICATED, to=sid, namespace=namespace)
        return {"ok": True, "exp": claims.get("exp")}

    async def disconnect(
        self, sid: str, namespace: str, reason: object, inner_disconnect: Handler | None
    ) -> None:
        """Cancel the timeout; the app's disconnect runs only if its connect did."""
        key = (sid, namespace)
        self._pending.pop(key, None)
        self._admitting.discard(key)
        self._timeouts.cancel(key)
        self.authenticator.forget(sid, namespace)
        if key in self.admitted:
            self.admitted.discard(key)
            if inner_disconnect is not None:
                await call_handler(inner_disconnect, sid, reason)

    async def trigger(
        self, ns: socketio.AsyncNamespace, event: str, args: tuple[Any, ...]
    ) -> Any:
        """The flow for a class-based :class:`AuthNamespace` (its ``trigger_event``)."""
        namespace, sid, rest = ns.namespace, args[0], args[1:]
        self.namespaces.add(namespace)
        if event == "connect":
            return await self.connect(
                sid, namespace, rest[0], rest[1] if len(rest) > 1 else None
            )
        if event == "disconnect":
            reason = rest[0] if rest else None
            return await self.disconnect(
                sid, namespace, reason, getattr(ns, "on_disconnect", None)
            )
        if event == AUTHENTICATE:
            data = rest[0] if rest else None
            return await self.authenticate(
                sid,
                namespace,
                data,
                getattr(ns, "on_connect", None),
            )
        if not self.is_admitted(sid, namespace):
            log.debug("event dropped before authenticate sid=%s", sid)
            return self.authenticator.sio.not_handled
        return await socketio.AsyncNamespace.trigger_event(ns, event, *args)

    async def _refuse_again(self, sid: str, namespace: str) -> dict[str, Any]:
        err = AlreadyAuthenticatedError()
        environ = self.authenticator.sio.get_environ(sid, namespace) or {}
        await self.authenticator.refused(err, sid, environ, action="authenticate")
        return {"ok": False, "code": err.code}

    async def _accepted_by_app(
        self,
        inner: Handler | None,
        sid: str,
        namespace: str,
        environ: Mapping[str, Any],
        auth: object,
    ) -> bool:
        if inner is None:
            return True
        try:
            result = await call_handler(inner, sid, environ, auth)
        except socketio.exceptions.ConnectionRefusedError as exc:
            message = exc.error_args.get("message")
            err = ForbiddenError(message if isinstance(message, str) else None)
        else:
            if result is not False:
                return True
            err = ForbiddenError()
        self.authenticator.forget(sid, namespace)
        await self._refuse(sid, namespace, environ, err)
        return False

    async def _refuse(
        self,
        sid: str,
        namespace: str,
        environ: Mapping[str, Any],
        err: UnauthorizedError,
    ) -> None:
        await self.authenticator.refused(err, sid, environ)
        payload = {"message": err.message, "code": err.code}
        await self.authenticator.sio.emit(
            UNAUTHORIZED, payload, to=sid, namespace=namespace
        )
        await self.authenticator.sio.disconnect(sid, namespace=namespace)

    def _timed_out(self, sockets: list[SocketKey]) -> None:
        task = asyncio.ensure_future(self._refuse_late(sockets))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _refuse_late(self, sockets: list[SocketKey]) -> None:
        for sid, namespace in sockets:
            pending = self._pending.pop((sid, namespace), None)
            if pending is not None:
                err = CredentialsRequiredError(TIMEOUT_MESSAGE)
                await self._refuse(sid, namespace, pending[0], err)
