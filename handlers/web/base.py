"""``JSONHandler``: the HTTP boundary. JSON or form bodies in, JSON errors out."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

import tornado.web

from ..config import AuthSettings
from ..errors import AuthError, BadRequestError
from ..metrics import Metrics

__all__ = ["JSONHandler"]

FORM_TYPE = "application/x-www-form-urlencoded"


@tornado.web.stream_request_body
class JSONHandler(tornado.web.RequestHandler):
    """Base of the library's HTTP handlers.

    The body is streamed and capped at ``settings.max_login_body`` bytes
    (413 past it) instead of being buffered whole first. Errors render as
    ``{"error": code, "message": ...}`` with the right status, never a trace;
    responses are not cached (they may carry tokens).
    """

    #: The route's name in the metrics (``tsj_rate_limited{route=...}``).
    route = "http"

    def initialize(
        self, settings: AuthSettings, metrics: Metrics | None = None, **kwargs: Any
    ) -> None:
        self.auth_settings = settings
        self.metrics = metrics
        self.body = b""

    def on_finish(self) -> None:
        if self.metrics is not None and self.get_status() == 429:
            self.metrics.rate_limited.labels(self.route).inc()

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")

    def prepare(self) -> None:
        limit = self.auth_settings.max_login_body
        declared = self.request.headers.get("Content-Length", "0")
        if not (declared.isascii() and declared.isdigit()) or int(declared) > limit:
            raise tornado.web.HTTPError(413)
        # A chunked body past the limit closes the connection while reading.
        self.request.connection.set_max_body_size(limit)  # type: ignore[union-attr]

    def data_received(self, chunk: bytes) -> None:
        self.body += chunk

    def json_body(self) -> dict[str, Any]:
        """The body's fields, from JSON or a urlencoded form (never the query string).

        :raises BadRequestError: when the body is not a JSON object or a form.
        """
        content_type = (
            self.request.headers.get("Content-Type", "").split(";")[0].strip()
        )
        try:
            if content_type == FORM_TYPE:
                text = self.body.decode("utf-8", "strict")
                return {k: v[0] for k, v in parse_qs(text, errors="strict").items()}
            data = json.loads(self.body or b"null")
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise BadRequestError() from exc
        if not isinstance(data, dict):
            raise BadRequestError()
        return data

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, AuthError):
            self.set_status(exc.status)
            if exc.status == 401:
                self.set_header(
                    "WWW-Authenticate", 'Bearer realm="tornado-socketio-jwt"'
                )
            retry_after = getattr(exc, "retry_after", None)
            if retry_after is not None:
                self.set_header("Retry-After", str(retry_after))
            self.finish({"error": exc.code, "message": exc.message})
            return
        self.finish({"error": _code_for(status_code), "message": _phrase(status_code)})

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        # Refusals are ordinary answers, not server faults: no traceback in the log.
        if isinstance(value, AuthError):
            return
        super().log_exception(typ, value, tb)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase + "."
    except ValueError:
        return "Error."


def _code_for(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"
