"""``attach_jwt_auth``: the one call that adds JWT auth to an existing server."""

from __future__ import annotations

from typing import Any

import socketio
import tornado.web

from .authenticator import Authenticator
from .config import EVENTS, ROUTES, AuthSettings
from .hooks import AdditionalAuth, FailureHook, SuccessHook
from .keys import KeySource, SharedSecretKey, can_sign, signing_algorithm
from .moved_keywords import settings_with_moved_keywords
from .revocation import RevocationList
from .scale import SharedState, shared_state
from .sockets.demo import register_chat, register_whoami
from .sockets.engine import engine_for
from .sockets.extension import is_gated
from .sockets.install import install_socket_auth
from .sockets.transport import socketio_handler
from .storage.revocations import RevocationStore
from .storage.users import UserStore
from .web.access_log import redacted_handler
from .web.login import LoginLimits
from .web.routes import http_specs
from .web.token_limits import BearerLimits

__all__ = ["attach_jwt_auth", "ROUTES", "EVENTS"]

ISSUING_ROUTES = ("login", "logout", "refresh")
_EVENT_REGISTRARS = {"whoami": register_whoami, "message": register_chat}


def attach_jwt_auth(
    sio: Any,
    settings: AuthSettings,
    *,
    users: UserStore | None = None,
    keys: KeySource | None = None,
    revocations: RevocationList | None = None,
    revocation_store: RevocationStore | None = None,
    on_failure: FailureHook | None = None,
    on_success: SuccessHook | None = None,
    additional_auth: AdditionalAuth | None = None,
    **moved: Any,
) -> list[tornado.web.URLSpec]:
    """Install JWT authentication on ``sio`` and return the URL specs to serve.

    What is installed and served comes from ``settings`` (routes, prefix,
    namespaces, events, exempt namespaces, limits, heartbeat, metrics); the
    keyword arguments are the parts an application may replace.

    :param sio: an existing ``socketio.AsyncServer(async_mode="tornado")``.
                The heartbeat values of ``settings.transport`` that are not
                ``None`` are set on its Engine.IO server.
    :param settings: the :class:`AuthSettings`.
    :param users: the user store behind ``/login``; required when the
                  ``"login"`` route is served.
    :param keys: the key source; default a :class:`SharedSecretKey` over
                 ``settings.secret``. Others: :class:`KeyRing` (PEM keys,
                 rotation), :class:`JWKSKeySource` (an external issuer).
                 ``"login"``, ``"logout"`` and ``"refresh"`` are not served
                 when it cannot sign (verify-only: the issuer owns sessions);
                 ``"jwks"`` when it has no public keys.
    :param revocations: the in-memory denylist; default a new one.
    :param revocation_store: persists revocations (e.g.
                             :class:`SQLiteRevocationStore`); loaded into
                             ``revocations`` once, here. Default: memory only;
                             in Redis when ``sio``'s client manager is a
                             ``socketio.AsyncRedisManager`` (then leave it out).
    :param on_failure: hook ``(code, sid, remote_addr)`` on each socket
                       refusal (handshake, ``authenticate``, its timeout,
                       ``refresh``); never given the token.
    :param on_success: hook ``(sid, claims)`` on each admitted socket.
    :param additional_auth: socketio-jwt's ``additional_auth``: awaited as
                            ``(claims, environ)`` once the token is verified,
                            before the socket is admitted (e.g. a database
                            lookup); it refuses by raising an
                            :class:`UnauthorizedError` (its ``code`` and
                            ``message`` reach the client). Any other exception
                            refuses the socket too, and is logged.
    :param moved: deprecated: ``routes``, ``prefix``, ``namespaces``,
                  ``events``, ``exempt_namespaces``, ``limits``,
                  ``metrics_allowed`` and ``websocket_compression`` are
                  :class:`AuthSettings` fields now; given here they replace
                  the settings' values, with a ``DeprecationWarning``.
    :return: ``tornado.web.URLSpec`` objects named ``tsj.<route>``.
    :raises ValueError: on a server or configuration the gate cannot protect.
    :raises TypeError: on an unknown keyword argument.

    Every handler of the server, registered before or after this call and by
    any means (decorators, ``sio.handlers``, catch-alls, class-based
    namespaces), runs behind the gate: ``connect`` once the token is verified
    (with the claims available), events only from authenticated sockets,
    ``disconnect`` after the gate's clean-up. ``refresh`` (and in the event
    flow ``authenticate``) are the library's events.

    Several processes: create ``sio`` with
    ``client_manager=socketio.AsyncRedisManager(url)``. Emits (rooms,
    ``user:<sub>``) and disconnects then reach every process through it, and
    this call keeps revocations and the login, refresh and logout limits in
    the same Redis (README, "Scaling out").

    .. warning::
       ``cors_allowed_origins="*"`` on ``sio`` lets any web page open sockets
       with a token it holds; list the origins you trust.
    """
    settings = settings_with_moved_keywords(settings, moved)
    _check_server(sio)
    keys = keys or _default_keys(settings)
    routes = _served_routes(settings, keys, users)
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
    install_socket_auth(
        authenticator,
        settings.limits,
        additional_auth,
        recovery_store=None
        if shared is None
        else shared.recovery_store(settings.recovery),
    )
    transport = settings.transport
    engine_for(sio).set_heartbeat(transport.ping_interval, transport.ping_timeout)
    for namespace in settings.namespaces:
        for event in settings.events:
            _EVENT_REGISTRARS[event](sio, namespace)
    specs = []
    if "socketio" in routes:
        compression = settings.transport.websocket_compression
        specs.append(_socketio_spec(sio, settings.prefix, compression))
    login_limits: Any = LoginLimits.from_settings(settings)
    if shared is not None:
        login_limits = shared.login_limits(login_limits)
    share = None if shared is None else shared.call_limits
    return specs + http_specs(
        settings,
        authenticator,
        users,
        routes,
        settings.prefix,
        settings.metrics_allowed,
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
    settings: AuthSettings, keys: KeySource, users: UserStore | None
) -> tuple[str, ...]:
    _check_keys(settings, keys)
    routes = settings.routes
    if not can_sign(keys):  # verify-only: the issuer owns sessions
        routes = tuple(route for route in routes if route not in ISSUING_ROUTES)
    if "login" in routes and users is None:
        raise ValueError("the login route needs a user store (users=...)")
    if settings.metrics_allowed:
        routes = (*routes, "metrics")
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
