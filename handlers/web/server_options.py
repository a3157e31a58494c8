"""Recommended ``tornado.httpserver.HTTPServer`` options: bounded waits and sizes."""

from __future__ import annotations

from typing import TypedDict

__all__ = [
    "HTTPServerOptions",
    "http_server_options",
    "HEADER_TIMEOUT",
    "BODY_TIMEOUT",
    "MAX_HEADER_SIZE",
    "MAX_BODY_SIZE",
]

# Tornado waits an hour for a request's headers by default: 1,000 unfinished
# requests then hold 1,000 connections for that hour.
HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 30.0
MAX_HEADER_SIZE = 16 * 1024  # a URL with a query-string token fits; 64 KiB did
# Above python-engineio's max_http_buffer_size (1,000,000): a polling POST fits.
MAX_BODY_SIZE = 1024 * 1024


class HTTPServerOptions(TypedDict):
    """Keyword arguments for ``HTTPServer(app, **options)``."""

    #: seconds to wait for a request's headers, also between keep-alive
    #: requests (Tornado's default: 3600)
    idle_connection_timeout: float
    #: seconds to wait for a request's body (Tornado's default: none)
    body_timeout: float
    #: bytes of request line plus headers (Tornado's default: 64 KiB)
    max_header_size: int
    #: bytes of a request body (Tornado's default: 100 MB)
    max_body_size: int


def http_server_options(
    *,
    header_timeout: float = HEADER_TIMEOUT,
    body_timeout: float = BODY_TIMEOUT,
    max_header_size: int = MAX_HEADER_SIZE,
    max_body_size: int = MAX_BODY_SIZE,
) -> HTTPServerOptions:
    """Options that stop slow or oversized requests from holding connections.

    Use as ``HTTPServer(app, **http_server_options())``. Websockets are not
    affected once upgraded, and neither are Engine.IO long-polling GETs
    (their wait is for the answer, not for the request).

    :param header_timeout: seconds for the request line and headers. Default 10.
    :param body_timeout: seconds for the body. Default 30.
    :param max_header_size: bytes of headers. Default 16 KiB.
    :param max_body_size: bytes of a body. Default 1 MiB.
    :raises ValueError: a value that is not positive.
    """
    values = (header_timeout, body_timeout, max_header_size, max_body_size)
    if any(value <= 0 for value in values):
        raise ValueError("HTTP server timeouts and sizes must be positive")
    return HTTPServerOptions(
        idle_connection_timeout=header_timeout,
        body_timeout=body_timeout,
        max_header_size=max_header_size,
        max_body_size=max_body_size,
    )
