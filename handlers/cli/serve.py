"""``serve``: the standalone server, built through ``attach_jwt_auth`` (dogfooding)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import Any

import socketio
import tornado.log
import tornado.web
from engineio import json as engineio_json
from tornado.netutil import bind_sockets

from ..app import attach_jwt_auth
from ..config import AuthSettings
from ..errors import AuthError
from ..fast_json import socketio_json
from ..keys import KeySource, can_sign
from ..keys.remote import JWKSKeySource
from ..scale.proxies import TrustedProxyHTTPServer
from ..sockets.engine import packet_json
from ..sockets.extension import authenticator_for
from ..sockets.shutdown import disconnect_all
from ..storage.revocations import SQLiteRevocationStore
from ..storage.users import SQLiteUserStore, create_demo_user
from ..web.access_log import redacting_log_function
from ..web.oversized_headers import HeaderLimitHTTPServer
from ..web.server_options import http_server_options
from .settings import (
    REVOCATIONS_FILE,
    USERS_FILE,
    CommandError,
    build_settings,
    data_dir,
    server_options,
)
from .table import ServerOptions

__all__ = [
    "serve",
    "make_app",
    "open_users",
    "configure_logging",
    "DEMO_USER",
    "StandaloneHTTPServer",
]

log = logging.getLogger("tornado_socketio_jwt")

DEMO_USER = "demo"
LISTEN_BACKLOG = 1024
DRAIN_SECONDS = 5.0
LOG_FORMAT = "%(color)s[%(levelname)1.1s %(asctime)s %(name)s]%(end_color)s %(message)s"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StandaloneHTTPServer(HeaderLimitHTTPServer, TrustedProxyHTTPServer):
    """What ``serve`` listens with: trusted proxies' headers believed, and
    oversized headers answered 431."""


def configure_logging(level: str) -> None:
    """Tornado's pretty log lines on standard error, at ``level`` (``none``: off).

    A line names its logger rather than its source line: finding the caller's
    frame was a third of the cost of each line, and this server writes one or
    two per socket (the 101 in the access log, ``socket authenticated``).
    """
    if level == "none":
        return
    _skip_log_record_lookups()
    # As tornado.log.enable_pretty_logging does, without its global options.
    root = logging.getLogger()
    root.setLevel(getattr(logging, level.upper()))
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(tornado.log.LogFormatter(fmt=LOG_FORMAT))
        root.addHandler(handler)


def _skip_log_record_lookups() -> None:
    """The standalone server owns its process: skip the caller lookup and the
    thread and process names that no line prints (the logging HOWTO's
    "Optimization"). Call before the first line is logged."""
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False


def _accelerators(sio: Any, loop: asyncio.AbstractEventLoop) -> str:
    """What ``--event-loop`` and ``--json-library`` gave: read from the running
    loop and the JSON module python-socketio's packets use."""
    fast = socketio_json()
    packets = packet_json(sio)
    json_name = "orjson" if fast is not None and packets is fast else "json"
    return f"event loop: {type(loop).__module__.split('.')[0]}, packets: {json_name}"


def open_users(options: argparse.Namespace) -> SQLiteUserStore:
    """The SQLite user store under ``--data-dir``."""
    return SQLiteUserStore(str(data_dir(options) / USERS_FILE))


def ensure_demo_user(
    users: SQLiteUserStore, prog: str = "tornado-socketio-jwt"
) -> None:
    """On an empty store, create ``demo`` and print its password once, with
    the command that sets another."""
    password = create_demo_user(users, DEMO_USER)
    if password is not None:
        print(
            f"Created user '{DEMO_USER}' with password: {password}  (shown once; "
            f"`{prog} passwd {DEMO_USER}` sets a new one)",
            flush=True,
        )


def make_app(
    settings: AuthSettings,
    users: SQLiteUserStore | None,
    keys: KeySource | None = None,
    revocations: SQLiteRevocationStore | None = None,
    redis_url: str = "",
    fast_json: bool = True,
) -> tuple[tornado.web.Application, Any]:
    """The standalone app, exactly the embedded configuration, and its server.

    The settings reach the ``socketio.AsyncServer`` made here as they reach an
    embedder's: through :func:`attach_jwt_auth` (the heartbeat of
    ``settings.transport``), and ``cors_allowed_origins`` at construction.

    :param redis_url: ``--redis-url``: an ``AsyncRedisManager`` under the server.
    :param fast_json: packets through orjson when it is installed (default);
                      ``False``: python-socketio's default, the standard library.
    :return: the ``Application`` and its ``socketio.AsyncServer``.
    """
    origins = settings.socketio_cors_allowed_origins
    manager = socketio.AsyncRedisManager(redis_url) if redis_url else None
    sio = socketio.AsyncServer(
        async_mode="tornado",
        cors_allowed_origins=origins,
        client_manager=manager,
        # Set on python-socketio's packet classes: explicit both ways.
        json=(fast_json and socketio_json()) or engineio_json,
    )
    specs = attach_jwt_auth(
        sio,
        settings,
        users=users,
        keys=keys,
        revocation_store=None if redis_url else revocations,
    )
    return tornado.web.Application(specs, log_function=redacting_log_function()), sio


async def serve(options: argparse.Namespace) -> None:
    """Serve until SIGINT or SIGTERM, then shut down gracefully.

    :raises ConfigurationError: on bad option values, before listening.
    """
    settings, keys = build_settings(options)
    server = server_options(options)
    configure_logging(server.log_level)
    users = None
    if keys is None or can_sign(keys):
        users = open_users(options)
        ensure_demo_user(users, getattr(options, "prog", "tornado-socketio-jwt"))
    if isinstance(keys, JWKSKeySource):
        await keys.refresh()  # warm the cache; on failure, retried on use
    revocations = SQLiteRevocationStore(str(data_dir(options) / REVOCATIONS_FILE))
    app, sio = make_app(
        settings,
        users,
        keys,
        revocations,
        server.redis_url or "",
        fast_json=server.json_library == "auto",
    )
    authenticator = authenticator_for(sio)
    try:
        try:  # with --redis-url: load the shared denylist before serving
            await authenticator.start()
        except AuthError as exc:
            raise CommandError(f"cannot start: {exc.message}") from exc
        await _listen_until_stopped(app, sio, server, settings)
    finally:
        await sio.shutdown()
        await authenticator.close()
        if users is not None:
            users.close()
        revocations.close()


async def _listen_until_stopped(
    app: tornado.web.Application,
    sio: Any,
    options: ServerOptions,
    settings: AuthSettings,
) -> None:
    try:
        # Tornado's default backlog of 128 overflows under a burst of polling
        # clients (1 s SYN retries for the rest).
        sockets = bind_sockets(options.port, options.host, backlog=LISTEN_BACKLOG)
    except OSError as exc:
        where = f"{options.host}:{options.port}"
        raise CommandError(f"cannot listen on {where}: {exc.strerror}") from exc
    server = StandaloneHTTPServer(
        app, trusted_proxies=options.trusted_proxies, **http_server_options()
    )
    server.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    # Before the line that tells a supervisor (or a test) the server is up.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    print(
        f"listening on http://{options.host}:{port} ({_accelerators(sio, loop)})",
        flush=True,
    )
    if settings.auth_flow == "event":
        print("  (event flow: the bundled page is /?auth_flow=event)", flush=True)
    await stop.wait()
    server.stop()  # no new connections
    await disconnect_all(sio)
    try:  # requests under way get a bounded time to finish
        await asyncio.wait_for(server.close_all_connections(), DRAIN_SECONDS)
    except asyncio.TimeoutError:
        log.warning("shutdown: connections still open after %.0f s", DRAIN_SECONDS)
