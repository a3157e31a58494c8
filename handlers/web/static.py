"""The bundled browser client: ``GET /`` and its assets under ``/client/``."""

from __future__ import annotations

import sys
from pathlib import Path

import tornado.web

__all__ = ["find_static_dir", "client_specs", "ClientFileHandler"]

INSTALLED_STATIC = Path("share") / "tornado-socketio-jwt" / "static"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"
)


def find_static_dir(override: str | None = None) -> str:
    """The directory holding ``index.html``: ``override``, the repository's
    ``static/``, or the copy installed under ``<prefix>/share``.

    :raises FileNotFoundError: when none of them has ``index.html``.
    """
    candidates = (
        [Path(override)]
        if override
        else [
            Path(__file__).resolve().parents[2] / "static",
            Path(sys.prefix) / INSTALLED_STATIC,
        ]
    )
    for candidate in candidates:
        if (candidate / "index.html").is_file():
            return str(candidate)
    raise FileNotFoundError("static client not found; pass static_dir in AuthSettings")


class ClientFileHandler(tornado.web.StaticFileHandler):
    """Static files with a strict Content-Security-Policy (no inline script)."""

    def set_default_headers(self) -> None:
        self.set_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        # A NUL byte (GET /client/%00) makes os.stat raise ValueError, which
        # Tornado answers with 500 and a traceback: it is the client's mistake.
        if "\x00" in absolute_path:
            raise tornado.web.HTTPError(400)
        try:
            return super().validate_absolute_path(root, absolute_path)
        except ValueError as exc:  # any other path the OS refuses to look up
            raise tornado.web.HTTPError(400) from exc


def client_specs(static_dir: str, prefix: str = "") -> list[tornado.web.URLSpec]:
    """URL specs for the page (``prefix + "/"``) and its assets."""
    return [
        tornado.web.url(
            rf"{prefix}/()",
            ClientFileHandler,
            {"path": static_dir, "default_filename": "index.html"},
            name="tsj.client",
        ),
        tornado.web.url(
            rf"{prefix}/client/(.*)",
            ClientFileHandler,
            {"path": static_dir},
            name="tsj.client_assets",
        ),
    ]
