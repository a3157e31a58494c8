"""Authorization rules: which verified tokens may join a namespace or run an event.

What a token must grant is a :class:`Requirement` (see ``grants.py``).
A refused namespace gets ``connect_error`` code ``forbidden``; a refused event
gets the ack :data:`FORBIDDEN_ACK` (``{"ok": false}`` and the refusal's
``message``, ``code`` and ``type``) and its handler never runs.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ..errors import ForbiddenError, refusal_data
from ..grants import Requirement
from ..hooks import call_app
from .extension import socket_auth
from .sessions import current_user

__all__ = [
    "Requirement",
    "authorize_namespace",
    "authorize_event",
    "requires",
    "FORBIDDEN_ACK",
]

log = logging.getLogger("tornado_socketio_jwt")

FORBIDDEN_ACK = {"ok": False, **refusal_data(ForbiddenError())}
Handler = Callable[..., Any]


def _requirement(
    requirement: Requirement | None, scopes: tuple[str, ...], roles: tuple[str, ...]
) -> Requirement:
    if requirement is not None and (scopes or roles):
        raise TypeError("pass a Requirement or scopes/roles, not both")
    return requirement or Requirement(tuple(scopes), tuple(roles))


def authorize_namespace(
    sio: Any,
    namespace: str,
    requirement: Requirement | None = None,
    *,
    scopes: tuple[str, ...] = (),
    roles: tuple[str, ...] = (),
) -> None:
    """Let only tokens meeting a requirement join ``namespace``.

    Others are refused at the handshake with ``connect_error`` code
    ``forbidden``. Works for gated
    decorator-style namespaces and for :class:`AuthNamespace` alike; may be
    called before or after :func:`attach_jwt_auth`.
    """
    socket_auth(sio).rules.require(namespace, _requirement(requirement, scopes, roles))


def authorize_event(
    sio: Any,
    event: str,
    handler: Handler | None = None,
    *,
    namespace: str = "/",
    requirement: Requirement | None = None,
    scopes: tuple[str, ...] = (),
    roles: tuple[str, ...] = (),
) -> Any:
    """Register ``handler`` for ``event``, run only for sockets whose token
    meets the requirement; others get the ack :data:`FORBIDDEN_ACK`.

    Used like ``sio.on``: with ``handler``, or as a decorator without it::

        @authorize_event(sio, "delete", scopes=("messages:delete",))
        async def delete(sid, data): ...
    """
    rule = _requirement(requirement, scopes, roles)

    def register(fn: Handler) -> Handler:
        async def claims_of(sid: str) -> dict[str, Any] | None:
            return await current_user(sio, sid, namespace)

        sio.on(event, _guard(fn, rule, event, claims_of), namespace=namespace)
        return fn

    return register(handler) if handler is not None else register


def requires(
    requirement: Requirement | None = None,
    *,
    scopes: tuple[str, ...] = (),
    roles: tuple[str, ...] = (),
) -> Callable[[Handler], Handler]:
    """Decorate an ``on_<event>`` method of a class-based namespace
    (``socketio.AsyncNamespace`` or :class:`AuthNamespace`) so that it runs
    only for sockets whose token meets the requirement."""
    rule = _requirement(requirement, scopes, roles)

    def decorate(method: Handler) -> Handler:
        @functools.wraps(method)
        async def guarded(self: Any, sid: str, *args: Any) -> Any:
            claims = await current_user(self.server, sid, self.namespace)
            if not _allowed(rule, claims, sid, method.__name__):
                return dict(FORBIDDEN_ACK)
            return await call_app(method, self, sid, *args)

        return guarded

    return decorate


def _guard(
    fn: Handler,
    rule: Requirement,
    event: str,
    claims_of: Callable[[str], Awaitable[dict[str, Any] | None]],
) -> Handler:
    @functools.wraps(fn)
    async def guarded(sid: str, *args: Any) -> Any:
        if not _allowed(rule, await claims_of(sid), sid, event):
            return dict(FORBIDDEN_ACK)
        return await call_app(fn, sid, *args)

    return guarded


def _allowed(
    rule: Requirement, claims: Mapping[str, Any] | None, sid: str, event: str
) -> bool:
    if rule.allows(claims):
        return True
    log.info("event refused sid=%s event=%s code=%s", sid, event, ForbiddenError.code)
    return False
