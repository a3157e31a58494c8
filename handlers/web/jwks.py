"""``GET /.well-known/jwks.json``: this server's public keys, as a JWK Set."""

from __future__ import annotations

from typing import Any

import tornado.web

from ..keys import KeySource, public_jwks

__all__ = ["JWKSHandler", "JWKS_PATH", "JWKS_PATTERN"]

JWKS_PATH = "/.well-known/jwks.json"
JWKS_PATTERN = r"/\.well-known/jwks\.json"
JWKS_MAX_AGE = 300


class JWKSHandler(tornado.web.RequestHandler):
    """The key source's public keys (``kid``, ``alg``, ``use=sig``), read at
    each request so that a rotation shows at once."""

    def initialize(self, keys: KeySource) -> None:
        self.keys = keys

    def get(self) -> None:
        jwks: Any = public_jwks(self.keys)
        if jwks is None:
            raise tornado.web.HTTPError(404)
        # Short caching: verifiers pick up a rotated-in key within minutes.
        self.set_header("Cache-Control", f"public, max-age={JWKS_MAX_AGE}")
        self.write(jwks)
