"""``GET /healthz``."""

from __future__ import annotations

import tornado.web

__all__ = ["HealthHandler"]


class HealthHandler(tornado.web.RequestHandler):
    """Liveness: answers ``{"status": "ok"}`` while the IOLoop turns."""

    def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.write({"status": "ok"})
