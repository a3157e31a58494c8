"""The server's Prometheus metrics, in a registry of its own (prometheus_client).

Each :class:`Metrics` has its own ``CollectorRegistry``: two servers in one
process never mix their counts, and nothing is registered at import time.
Served by ``GET /metrics`` when the ``"metrics"`` route is asked for.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = [
    "Metrics",
    "NOT_SAVED_TOO_LARGE",
    "EVICTED_PER_USER",
    "EVICTED_PROCESS_CAP",
]

# Outcomes of ``tsj_recoveries_total`` that a disconnection, not a client
# asking to recover, has: its session was not saved, or a saved one dropped.
NOT_SAVED_TOO_LARGE = "not_saved_too_large"
EVICTED_PER_USER = "evicted_per_user"
EVICTED_PROCESS_CAP = "evicted_process_cap"

HANDSHAKE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)


class Metrics:
    """Counters of one server; cheap enough to keep on every handshake.

    :param registry: where the metrics live; default a new one.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.handshakes = Counter(
            "tsj_handshakes",
            "Sockets admitted (handshake or authenticate).",
            registry=r,
        )
        self.refusals = Counter(
            "tsj_refusals",
            "Socket refusals by code and by what was refused.",
            ["code", "action"],
            registry=r,
        )
        self.logins = Counter(
            "tsj_logins", "POST /login answers by outcome.", ["outcome"], registry=r
        )
        self.rate_limited = Counter(
            "tsj_rate_limited",
            "HTTP requests answered 429, by route.",
            ["route"],
            registry=r,
        )
        self.kicks = Counter(
            "tsj_sockets_cut",
            "Sockets told why and disconnected (token_expired, token_revoked).",
            ["code"],
            registry=r,
        )
        self.recoveries = Counter(
            "tsj_recoveries",
            "Connection state recoveries asked for, by outcome (recovered, "
            "refused, foreign_session, unknown_session, not_recoverable, "
            "malformed, taken_over); and saved sessions lost to a bound "
            "(not_saved_too_large, evicted_per_user, evicted_process_cap).",
            ["outcome"],
            registry=r,
        )
        self.handshake_seconds = Histogram(
            "tsj_handshake_seconds",
            "Time from a socket's connect to its admission.",
            buckets=HANDSHAKE_BUCKETS,
            registry=r,
        )
        self.connected = Gauge(
            "tsj_connected_sockets", "Authenticated sockets now.", registry=r
        )

    def count_connected(self, count: Callable[[], int]) -> None:
        """Read the connected-sockets gauge from ``count`` at each scrape."""
        self.connected.set_function(lambda: float(count()))
