"""``attach_jwt_auth``: the one call that adds JWT auth to an existing server."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import socketio
import tornado.web

from .authenticator import Authenticator
from .config import AuthSettings
from .hooks import FailureHook, SuccessHook
from .keys import KeySource, SharedSecretKey, can_sign, signing_algorithm
from .revocation import RevocationList
from .scale import SharedState, shared_state
from .sockets.demo import register_chat, register_whoami
from .sockets.extension import is_gated
from .sockets.install import install_socket_auth
from .sockets.limits import SocketLimits
from .sockets.transport import socketio_handler
from .storage.revocations import RevocationStore
from .storage.users import UserStore
from .web.access_log import redacted_handler
from .web.login import LoginLimits
from .web.metrics import LOOPBACK
from .web.routes import http_specs
from .web.token_limits import BearerLimits

__all__ = ["attach_jwt_auth", "ROUTES", "ALL_ROUTES", "EVENTS"]

ROUTES = ("socketio", "login", "logout", "refresh", "client", "health", "jwks")
ALL_ROUTES = (*ROUTES, "metrics")  # /metrics only when asked for
ISSUING_ROUTES = ("login", "logout", "refresh")
EVENTS = ("whoami", "message")
_EVENT_REGISTRARS = {"whoami": register_whoami, "message": register_chat}


def attach_jwt_auth(
    sio: Any,
    settings: AuthSettings,
    *,
    users: UserStore | None = None,
    keys: KeySource | None = None,
    routes: Iterable[str] = ROUTES,
    prefix: str = "",
    namespaces: Iterable[str] = ("/",),
    events: Iterable[str] = ("whoami",),
    revocations: RevocationList | None = None,
    on_failure: FailureHook | None = None,
    on_success: SuccessHook | None = None,
    revocation_store: RevocationStore | None = None,
    exempt_namespaces: Iterable[str] = (),
    websocket_compression: bool = False,
    limits: SocketLimits | None = None,
    metrics_allowed: Iterable[str] = LOOPBACK,
) -> list[tornado.web.URLSpec]:
    """Install JWT authentication on ``sio`` and return the URL specs to serve.

    :param sio: an existing ``socketio.AsyncServer(async_mode="tornado")``.
    :param settings: the :class:`AuthSettings`.
    :param users: the user store behind ``/login``; required when the
                  ``"login"`` route is included.
    :param keys: the key source; default a :class:`SharedSecretKey` over
                 ``settings.secret``. Others: :class:`KeyRing` (PEM keys,
                 rotation), :class:`JWKSKeySource` (an external issuer).
    :param routes: which of ``"socketio"``, ``"login"``, ``"logout"``,
                   ``"refresh"`` (``POST /token/refresh``), ``"client"``,
                   ``"health"``, ``"jwks"`` to return (default all of these),
                   and ``"metrics"`` (``GET /metrics``, off by default).
                   ``"login"``, ``"logout"`` and ``"refresh"`` are left out
                   when the key source cannot sign (verify-only: the issuer
                   owns sessions); ``"jwks"`` when it has no public keys.
    :param prefix: a path prefix for every returned route, e.g. ``"/chat"``.
    :param namespaces: where to register the built-in ``events``; default
                       ``"/"``. Every namespace is gated, listed or not.
    :param events: built-in events to register on those namespaces:
                   ``"whoami"`` (default) and the demo chat ``"message"``.
    :param revocations: the in-memory denylist; default a new one.
    :param on_failure: hook ``(code, sid, remote_addr)`` on each socket
                       refusal (handshake, ``authenticate``, its timeout,
                       ``refresh``); never given the token.
    :param on_success: hook ``(sid, claims)`` on each admitted socket.
    :param revocation_store: persists revocations (e.g.
                             :class:`SQLiteRevocationStore`); loaded into
                             ``revocations`` once, here. Default: memory only;
                             in Redis when ``sio``'s client manager is a
                             ``socketio.AsyncRedisManager`` (then leave it out).
    :param exempt_namespaces: namespaces that authenticate their own sockets,
                              e.g. ``("/admin",)`` for python-socketio's
                              Admin UI (``sio.instrument(auth=...)``);
                              logged as a warning. Default none.
    :param websocket_compression: offer permessage-deflate on the Socket.IO
                                  route; default off (about 150 KiB per
                                  connection, and inflation bombs).
    :param limits: per-client :class:`SocketLimits` (connections per user
                   and per address, the CONNECT timeout, attachments per
                   packet); default ``SocketLimits()``.
    :param metrics_allowed: networks (CIDR) that may read ``/metrics``;
                            default loopback only.
    :return: ``tornado.web.URLSpec`` objects named ``tsj.<route>``.
    :raises ValueError: on a server or configuration the gate cannot protect.

    Every handler of the server, registered before or after this call and by
    any means (decorators, ``sio.handlers``, catch-alls, class-based
    namespaces), runs behind the gate: ``connect`` once the token is verified
    (with the claims available), events only from authenticated sockets,
    ``disconnect`` after the gate's clean-up. ``refresh`` (and in the event
    flow ``authenticate``) are the library's events.

    .. warning::
       An exempt namespace admits whoever its own ``connect`` handler admits.

    Several processes: create ``sio`` with
    ``client_manager=socketio.AsyncRedisManager(url)``. Emits (rooms,
    ``user:<sub>``) and disconnects then reach every process through it, and
    this call keeps revocations and the login, refresh and logout limits in
    the same Redis (README, "Scaling out").

    .. warning::
       ``cors_allowed_origins="*"`` on ``sio`` lets any web page open sockets
       with a token it holds; list the origins you trust.
    """
    routes, events = tuple(routes), tuple(events)
    _check_server(sio)
    _check_choices(routes, ALL_ROUTES, "route")
    _check_choices(events, EVENTS, "event")
    keys = keys or _default_keys(settings)
    routes = _served_routes(settings, keys, users, routes)
    shared = _shared_state(sio, revocation_store)
    authenticator = Authenticator(
        sio,
        settings,
        keys,
        revocations,
        on_failure=on_failure,
        on_success=on_success,
        store=revocation_store,
        shared=None if shared is None else shared.revocations,
    )
    install_socket_auth(authenticator, exempt_namespaces, limits)
    for namespace in namespaces:
        for event in events:
            _EVENT_REGISTRARS[event](sio, namespace)
    specs = []
    if "socketio" in routes:
        specs.append(_socketio_spec(sio, prefix, websocket_compression))
    login_limits: Any = LoginLimits.from_settings(settings)
    if shared is not None:
        login_limits = shared.login_limits(login_limits)
    share = None if shared is None else shared.call_limits
    return specs + http_specs(
        settings,
        authenticator,
        users,
        routes,
        prefix,
        tuple(metrics_allowed),
        login_limits=login_limits,
        bearer_limits=BearerLimits.from_settings(settings, share),
    )


def _socketio_spec(sio: Any, prefix: str, compression: bool) -> tornado.web.URLSpec:
    # Its own log lines hide ?token=, whatever log_function the host has.
    handler = redacted_handler(socketio_handler(sio, compression=compression))
    return tornado.web.url(rf"{prefix}/socket.io/", handler, name="tsj.socketio")


def _shared_state(sio: Any, store: RevocationStore | None) -> SharedState | None:
    manager = sio.manager
    if not isinstance(manager, socketio.AsyncRedisManager):
        return None
    if store is not None:
        raise ValueError("with an AsyncRedisManager the revocations live in Redis")
    return shared_state(manager.redis_url, manager.redis_options)


def _served_routes(
    settings: AuthSettings,
    keys: KeySource,
    users: UserStore | None,
    routes: tuple[str, ...],
) -> tuple[str, ...]:
    _check_keys(settings, keys)
    if not can_sign(keys):  # verify-only: the issuer owns sessions
        routes = tuple(route for route in routes if route not in ISSUING_ROUTES)
    if "login" in routes and users is None:
        raise ValueError("the login route needs a user store (users=...)")
    return routes


def _check_server(sio: Any) -> None:
    if not isinstance(sio, socketio.AsyncServer):
        raise TypeError("sio must be a socketio.AsyncServer")
    if sio.async_mode != "tornado":
        raise ValueError("sio must be created with async_mode='tornado'")
    # always_connect accepts the socket before the connect handler runs, so a
    # refused token would already have been told "connected".
    if sio.always_connect:
        raise ValueError("always_connect=True defeats handshake authentication")
    if is_gated(sio):
        raise ValueError("attach_jwt_auth() was already called on this server")


def _check_choices(given: tuple[str, ...], allowed: tuple[str, ...], what: str) -> None:
    unknown = [name for name in given if name not in allowed]
    if unknown:
        raise ValueError(f"unknown {what}: {', '.join(unknown)}")


def _default_keys(settings: AuthSettings) -> KeySource:
    if settings.secret is None:
        raise ValueError("no key source: set AuthSettings.secret or pass keys=")
    return SharedSecretKey(settings.secret)


def _check_keys(settings: AuthSettings, keys: KeySource) -> None:
    served = getattr(keys, "algorithms", None)
    if served is not None and not set(served) & set(settings.algorithms):
        raise ValueError(
            f"the key source serves {', '.join(served)}, "
            f"not the configured {', '.join(settings.algorithms)}"
        )
    if can_sign(keys):
        signs = signing_algorithm(keys, settings.algorithms[0])
        if signs not in settings.algorithms:
            raise ValueError(f"the signing key's algorithm {signs} is not configured")
