"""Headers over the size limit get ``431 Request Header Fields Too Large``, not a reset.

Tornado reads a request's headers with ``max_bytes=max_header_size``; past it
the ``IOStream`` closes the connection, unanswered (a client sees a reset or
an empty reply, and cannot tell an oversized token from a network fault).
:class:`HeaderLimitHTTPServer` gives each connection's stream a last word:
when the stream is closed because a header read went past the limit, the
431 status line goes out first. Nothing else changes (the limit itself is
still Tornado's ``max_header_size``, see :mod:`.server_options`).
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import tornado.httpserver
import tornado.iostream

__all__ = ["HeaderLimitHTTPServer", "answer_oversized_headers", "HEADERS_TOO_LARGE"]

HEADERS_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
)


DRAIN_CHUNK = 64 * 1024
DRAIN_READS = 16


class HeaderLimitHTTPServer(tornado.httpserver.HTTPServer):
    """An ``HTTPServer`` that answers oversized headers with 431 (cooperative:
    combine it with another ``HTTPServer`` subclass by inheritance)."""

    def handle_stream(
        self, stream: tornado.iostream.IOStream, address: tuple[Any, ...]
    ) -> None:
        answer_oversized_headers(stream)
        super().handle_stream(stream, address)


def answer_oversized_headers(stream: tornado.iostream.IOStream) -> None:
    """Make ``stream`` write a 431 before it closes on a header read past its limit.

    Tornado's HTTP/1 connection reads headers, and only headers, with
    ``read_until_regex(..., max_bytes=...)``; the previous response is flushed
    by then, so the status line is the only thing written.
    """
    read_until_regex = stream.read_until_regex
    close = stream.close
    reading_headers = False

    def read_headers(regex: bytes, max_bytes: int | None = None) -> Any:
        nonlocal reading_headers
        reading_headers = max_bytes is not None  # before: it may fail inline
        future: Any = read_until_regex(regex, max_bytes)
        future.add_done_callback(lambda _: stop_reading())
        return future

    def stop_reading() -> None:
        nonlocal reading_headers
        reading_headers = False

    def close_with_answer(exc_info: Any = False) -> None:
        if reading_headers and isinstance(
            _error(exc_info), tornado.iostream.UnsatisfiableReadError
        ):
            with contextlib.suppress(OSError):
                _drain(stream.socket)
                stream.socket.send(HEADERS_TOO_LARGE)
        close(exc_info)

    stream.read_until_regex = read_headers  # type: ignore[method-assign]
    stream.close = close_with_answer  # type: ignore[method-assign]


def _drain(sock: Any) -> None:
    """Read what the client already sent (bounded): closing a socket with
    unread data resets the connection, and the reset can overtake the 431."""
    for _ in range(DRAIN_READS):
        try:
            if not sock.recv(DRAIN_CHUNK):
                return
        except BlockingIOError:
            return


def _error(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple):
        return exc_info[1]  # type: ignore[no-any-return]
    return sys.exc_info()[1] if exc_info else None
