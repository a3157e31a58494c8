"""``GET /metrics``: the server's Prometheus metrics, for allowed addresses only."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import tornado.web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..config import LOOPBACK
from ..metrics import Metrics

__all__ = ["MetricsHandler", "LOOPBACK"]


class MetricsHandler(tornado.web.RequestHandler):
    """The Prometheus text format, to clients in ``allowed`` networks only.

    :param allowed: networks (CIDR) that may scrape; default loopback only.

    .. warning::
       The counts tell an outsider how busy the server is and which refusals
       it sees; widen ``allowed`` to your scraper's network, not to all.
    """

    def initialize(self, metrics: Metrics, allowed: Iterable[str] = LOOPBACK) -> None:
        self.metrics = metrics
        self.allowed = [ipaddress.ip_network(net) for net in allowed]

    def get(self) -> None:
        try:
            client = ipaddress.ip_address(self.request.remote_ip or "")
        except ValueError:
            client = None
        if client is None or not any(client in net for net in self.allowed):
            raise tornado.web.HTTPError(403)
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.set_header("Cache-Control", "no-store")
        self.write(generate_latest(self.metrics.registry))
