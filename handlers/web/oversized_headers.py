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


class HeaderLimit:
    """Mixed into an ``IOStream`` class: a 431 is written before the stream
    closes on a header read past its limit. A connection's stream gets the
    class in place (no per-connection closures: no memory but one flag)."""

    reading_headers = False
    socket: Any

    def read_until_regex(self, regex: bytes, max_bytes: int | None = None) -> Any:
        # Set before: the read may fail inline.
        self.reading_headers = max_bytes is not None
        future: Any = super().read_until_regex(regex, max_bytes)  # type: ignore[misc]
        future.add_done_callback(self._headers_read)
        return future

    def _headers_read(self, _: Any) -> None:
        self.reading_headers = False

    def close(self, exc_info: Any = False) -> None:
        if self.reading_headers and isinstance(
            _error(exc_info), tornado.iostream.UnsatisfiableReadError
        ):
            with contextlib.suppress(OSError):
                _drain(self.socket)
                self.socket.send(HEADERS_TOO_LARGE)
        super().close(exc_info)  # type: ignore[misc]


class HeaderLimitIOStream(HeaderLimit, tornado.iostream.IOStream):
    """A plain TCP stream with a 431 as its last word."""


class HeaderLimitSSLIOStream(HeaderLimit, tornado.iostream.SSLIOStream):
    """A TLS stream with a 431 as its last word."""


WITH_ANSWER: dict[type[Any], type[Any]] = {
    tornado.iostream.IOStream: HeaderLimitIOStream,
    tornado.iostream.SSLIOStream: HeaderLimitSSLIOStream,
}


def answer_oversized_headers(stream: tornado.iostream.IOStream) -> None:
    """Make ``stream`` write a 431 before it closes on a header read past its limit.

    Tornado's HTTP/1 connection reads headers, and only headers, with
    ``read_until_regex(..., max_bytes=...)``; the previous response is flushed
    by then, so the status line is the only thing written. A stream of a
    class other than Tornado's own (TCP or TLS) is left as it is.
    """
    with_answer = WITH_ANSWER.get(type(stream))
    if with_answer is not None:
        stream.__class__ = with_answer


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
