"""The handshake: find the token, verify it, admit the socket or refuse it.

:func:`admit_handshake` is the one admission sequence shared by every gate:
decorator-style namespaces (:mod:`.gate`), the catch-all (:mod:`.catch_all`)
and class-based :class:`AuthNamespace` handlers.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any, Callable, Mapping

import socketio

from .authenticator import Authenticator
from .authorization import check_namespace
from .dispatch import call_handler
from .credentials import extract_token
from .errors import UnauthorizedError

__all__ = [
    "to_connect_refusal",
    "admit_handshake",
    "authenticator_for",
]

log = logging.getLogger("tornado_socketio_jwt")
_authenticators: "weakref.WeakKeyDictionary[Any, Authenticator]" = (
    weakref.WeakKeyDictionary()
)


def to_connect_refusal(
    err: UnauthorizedError,
) -> socketio.exceptions.ConnectionRefusedError:
    """The wire form of a refusal: ``connect_error`` with ``{code, type}`` data."""
    return socketio.exceptions.ConnectionRefusedError(
        err.message, {"code": err.code, "type": err.type}
    )


async def authenticate_handshake(
    authenticator: Authenticator,
    sid: str,
    namespace: str,
    environ: Mapping[str, Any],
    auth: object,
) -> dict[str, Any]:
    """Verify the token, check the namespace's rules, admit the socket; or refuse."""
    try:
        token = extract_token(environ, auth, authenticator.settings.token_sources)
        claims = await authenticator.verify(token)
        check_namespace(authenticator.sio, namespace, claims)
    except UnauthorizedError as err:
        await authenticator.refused(err, sid, environ)
        raise to_connect_refusal(err) from None
    await authenticator.admit(sid, namespace, claims)
    return claims


async def admit_handshake(
    authenticator: Authenticator,
    sid: str,
    namespace: str,
    environ: dict[str, Any],
    auth: object,
    inner: Callable[..., Any] | None,
) -> Any:
    """The whole handshake: authenticate, run the app's connect handler, and
    let the socket in only if its token is still good afterwards.

    A logout or the token's expiry can land while the app's handler awaits;
    python-socketio cannot disconnect a socket that is still connecting, so
    the check after the handler is what keeps such a socket out.
    """
    claims = await authenticate_handshake(authenticator, sid, namespace, environ, auth)
    result = await run_inner_connect(
        authenticator, inner, sid, namespace, environ, auth
    )
    if result is False:
        return False
    err = authenticator.still_valid(sid, namespace, claims)
    if err is not None:
        authenticator.forget(sid, namespace)
        await authenticator.refused(err, sid, environ)
        raise to_connect_refusal(err)
    await authenticator.succeeded(sid, namespace, claims)
    return result


async def run_inner_connect(
    authenticator: Authenticator,
    inner: Callable[..., Any] | None,
    sid: str,
    namespace: str,
    environ: dict[str, Any],
    auth: object,
) -> Any:
    if inner is None:
        return True
    try:
        result = await call_handler(inner, sid, environ, auth)
    except BaseException:
        authenticator.forget(sid, namespace)
        raise
    if result is False:
        authenticator.forget(sid, namespace)
    return result


def authenticator_for(sio: Any) -> Authenticator:
    """The :class:`Authenticator` attached to ``sio``.

    :raises LookupError: when :func:`attach_jwt_auth` was not called on it.
    """
    try:
        return _authenticators[sio]
    except KeyError:
        raise LookupError("attach_jwt_auth() was not called on this server") from None


def register_authenticator(authenticator: Authenticator) -> None:
    """Make ``authenticator`` the one :class:`AuthNamespace` uses on its server."""
    _authenticators[authenticator.sio] = authenticator
