"""Access logging with tokens redacted from query strings."""

from __future__ import annotations

import copy
from collections.abc import Callable
from urllib.parse import unquote_plus

import tornado.web
from tornado.log import access_log

__all__ = ["redact_uri", "redacting_log_function"]

REDACTED = "[REDACTED]"
# The seed's client puts the token in the handshake URL (?token=...), and
# Tornado logs every request URI: without this the access log leaks tokens.
SECRET_PARAMS = frozenset({"token", "access_token", "id_token", "jwt"})

LogFunction = Callable[[tornado.web.RequestHandler], None]


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
        # A copy: the original request may still be read after the log line
        # (a WebSocket's query string is read once the 101 has been logged).
        request = copy.copy(handler.request)
        request.uri = redact_uri(request.uri or "")
        request.query = redact_uri("?" + request.query)[1:] if request.query else ""
        if inner is not None:
            inner(_RedactedHandler(handler, request))  # type: ignore[arg-type]
            return
        status = handler.get_status()
        if status < 400:
            log_method = access_log.info
        elif status < 500:
            log_method = access_log.warning
        else:
            log_method = access_log.error
        log_method(
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
