"""``JSONHandler``: the HTTP boundary. JSON or form bodies in, JSON errors out."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import tornado.web

from .errors import AuthError, BadRequestError
from .config import AuthSettings

__all__ = ["JSONHandler"]

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class JSONHandler(tornado.web.RequestHandler):
    """Base of the library's HTTP handlers.

    Errors render as ``{"error": code}`` with the right status, never a trace;
    responses are not cached (they may carry tokens).
    """

    def initialize(self, settings: AuthSettings, **kwargs: Any) -> None:
        self.auth_settings = settings

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")

    def prepare(self) -> None:
        declared = self.request.headers.get("Content-Length", "0")
        limit = self.auth_settings.max_login_body
        if (declared.isdigit() and int(declared) > limit) or len(self.request.body) > limit:
            raise tornado.web.HTTPError(413)

    def json_body(self) -> dict[str, str]:
        """The body's fields as strings, from JSON or a form (never the query string).

        :raises BadRequestError: when the body is not an object of strings.
        """
        content_type = self.request.headers.get("Content-Type", "").split(";")[0].strip()
        if content_type in FORM_TYPES:
            return {
                name: values[0].decode("utf-8", "strict")
                for name, values in self.request.body_arguments.items()
            }
        try:
            data = json.loads(self.request.body or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequestError() from exc
        if not isinstance(data, dict):
            raise BadRequestError()
        return data

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, AuthError):
            self.set_status(exc.status)
            if exc.status == 401:
                self.set_header("WWW-Authenticate", 'Bearer realm="tornado-socketio-jwt"')
            retry_after = getattr(exc, "retry_after", None)
            if retry_after is not None:
                self.set_header("Retry-After", str(retry_after))
            self.finish({"error": exc.code, "message": exc.message})
            return
        self.finish({"error": _code_for(status_code)})

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        # Refusals are ordinary answers, not server faults: no traceback in the log.
        if isinstance(value, AuthError):
            return
        super().log_exception(typ, value, tb)


def _code_for(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"
