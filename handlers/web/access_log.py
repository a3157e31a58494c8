"""Access logging with tokens redacted from query strings."""

from __future__ import annotations

import copy
from collections.abc import Callable
from logging import ERROR, INFO, WARNING
from types import TracebackType
from typing import TypeVar
from urllib.parse import unquote_plus

import tornado.web
from tornado.log import access_log, app_log

__all__ = ["redact_uri", "redacting_log_function", "redacted_handler"]

REDACTED = "[REDACTED]"
# The seed's client puts the token in the handshake URL (?token=...), and
# Tornado logs every request URI: without this the access log leaks tokens.
SECRET_PARAMS = frozenset({"token", "access_token", "id_token", "jwt"})

LogFunction = Callable[[tornado.web.RequestHandler], None]
HandlerT = TypeVar("HandlerT", bound=type[tornado.web.RequestHandler])


def redact_uri(uri: str) -> str:
    """``uri`` with the values of ``token``-like query parameters replaced.

    Names are compared decoded (``%74oken`` is ``token``), as the server reads them.
    """
    path, sep, query = uri.partition("?")
    if not sep:
        return uri
    query, hash_sep, fragment = query.partition("#")
    parts = [_redact_pair(pair) for pair in query.split("&")]
    return f"{path}?{'&'.join(parts)}{hash_sep}{fragment}"


def _redact_pair(pair: str) -> str:
    name, sep, _ = pair.partition("=")
    if sep and unquote_plus(name).strip().lower() in SECRET_PARAMS:
        return f"{name}={REDACTED}"
    return pair


def redacting_log_function(inner: LogFunction | None = None) -> LogFunction:
    """An Application ``log_function`` that never writes a token.

    :param inner: a log function to call with the redacted request; default
                  a line in Tornado's own access-log format.

    Pass it as ``Application(..., log_function=redacting_log_function())``;
    it is application-wide, so a host opts in.
    """

    def log_request(handler: tornado.web.RequestHandler) -> None:
        status = handler.get_status()
        level = INFO if status < 400 else WARNING if status < 500 else ERROR
        if inner is None and not access_log.isEnabledFor(level):
            return  # nothing to redact for a line that is not written
        request = handler.request
        uri = redact_uri(request.uri or "")
        if uri != request.uri:
            # A copy: the original request may still be read after the log line
            # (a WebSocket's query string is read once the 101 has been logged).
            request = copy.copy(request)
            request.uri = uri
            request.query = redact_uri("?" + request.query)[1:]
        if inner is not None:
            inner(_RedactedHandler(handler, request))  # type: ignore[arg-type]
            return
        access_log.log(
            level,
            "%d %s %s (%s) %.2fms",
            status,
            request.method,
            request.uri,
            request.remote_ip,
            1000.0 * request.request_time(),
        )

    return log_request


class _RedactedHandler:
    """The handler as an inner log function sees it: same, but a redacted request."""

    def __init__(self, handler: tornado.web.RequestHandler, request: object) -> None:
        self._handler = handler
        self.request = request

    def __getattr__(self, name: str) -> object:
        return getattr(self._handler, name)


def redacted_handler(handler_class: HandlerT) -> HandlerT:
    """``handler_class`` whose own log lines show no token, whatever the host's log.

    Tornado's default access log (an ``Application`` without ``log_function``)
    and its error log describe a request with the handler's request summary, so
    a handler that redacts its summary is safe in any host that forgot
    :func:`redacting_log_function`. A host's own ``log_function`` reads the
    request itself: it must redact, or be wrapped in
    :func:`redacting_log_function`.

    :param handler_class: a ``RequestHandler`` subclass, such as
                          ``socketio.get_tornado_handler(sio)``.
    :return: a subclass of it, with the same name.
    """

    class Redacted(handler_class):  # type: ignore[valid-type,misc]
        def _request_summary(self) -> str:
            # The name Tornado's log_request and log_exception both call
            # (Tornado 6.x); tests/test_embedding_log.py pins it.
            uri = redact_uri(self.request.uri or "")
            return f"{self.request.method} {uri} ({self.request.remote_ip})"

        def log_exception(
            self,
            typ: type[BaseException] | None,
            value: BaseException | None,
            tb: TracebackType | None,
        ) -> None:
            if isinstance(value, tornado.web.HTTPError):
                super().log_exception(typ, value, tb)
                return
            # Tornado's own also writes repr(self.request), which holds the URI.
            summary = self._request_summary()
            app_log.error("Uncaught exception %s", summary, exc_info=value)

    Redacted.__name__ = Redacted.__qualname__ = handler_class.__name__
    return Redacted  # type: ignore[return-value]
