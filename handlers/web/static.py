"""The bundled browser client: ``GET /`` and its assets under ``/client/``."""

from __future__ import annotations

import atexit
import functools
import importlib.resources
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import tornado.web

if TYPE_CHECKING:  # importlib.resources.abc is new in Python 3.11
    from importlib.resources.abc import Traversable

__all__ = ["find_static_dir", "bundled_static_dir", "client_specs", "ClientFileHandler"]

PACKAGE = __name__.rsplit(".", 2)[0]  # tornado_socketio_jwt
STATIC = "static"
CHECKOUT_PACKAGE_DIR = (
    "handlers"  # setup.cfg: package_dir tornado_socketio_jwt = handlers
)
INDEX = "index.html"
FAVICON = "favicon.svg"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"
)


def find_static_dir(override: str | None = None) -> str:
    """The directory holding ``index.html``: ``override``, else the bundled client.

    :raises FileNotFoundError: when that directory has no ``index.html``.
    """
    directory = Path(override) if override else bundled_static_dir()
    if not (directory / INDEX).is_file():
        raise FileNotFoundError(
            "static client not found; pass static_dir in AuthSettings"
        )
    return str(directory)


@functools.cache
def bundled_static_dir() -> Path:
    """The client shipped in the package, found with ``importlib.resources``.

    A wheel (``pip``, ``--user``, ``--target``) has it at
    ``tornado_socketio_jwt/static``; an editable checkout, at ``static/`` beside
    ``handlers/``; a zip import gets an extracted copy, as files must be served
    from a directory.
    """
    package = importlib.resources.files(PACKAGE)
    bundled = package / STATIC
    if (
        isinstance(package, Path)
        and package.name == CHECKOUT_PACKAGE_DIR
        and not bundled.is_dir()
    ):
        return package.parent / STATIC  # the checkout's top-level static/
    if isinstance(bundled, Path):
        return bundled
    return _extracted(bundled)


def _extracted(tree: Traversable) -> Path:
    """A temporary copy of ``tree``, removed at exit."""
    target = Path(tempfile.mkdtemp(prefix="tornado-socketio-jwt-static-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    _copy(tree, target)
    return target


def _copy(tree: Traversable, target: Path) -> None:
    for entry in tree.iterdir():
        if entry.is_dir():
            (target / entry.name).mkdir()
            _copy(entry, target / entry.name)
        else:
            (target / entry.name).write_bytes(entry.read_bytes())


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
    """URL specs for the page (``prefix + "/"``), its assets and its icon.

    ``prefix`` without its trailing slash redirects to the page: the page's
    URLs are relative to it, so it must be served at the slash.
    """
    specs = [
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
        # Browsers ask for /favicon.ico whatever the page declares (its <link>
        # names client/favicon.svg); answer instead of a 404 on every load.
        tornado.web.url(
            rf"{prefix}/favicon\.ico",
            tornado.web.RedirectHandler,
            {"url": f"{prefix}/client/{FAVICON}", "permanent": False},
            name="tsj.favicon",
        ),
    ]
    if prefix:
        specs.append(
            tornado.web.url(
                prefix,
                tornado.web.RedirectHandler,
                {"url": f"{prefix}/", "permanent": False},
                name="tsj.client_redirect",
            )
        )
    return specs
