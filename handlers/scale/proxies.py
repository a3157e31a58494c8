"""Trusting ``X-Forwarded-For`` only from the proxies you name.

Tornado's ``xheaders=True`` believes the header from any peer, so a client
that reaches the server directly can claim any address (and escape the
per-address login limit). :class:`TrustedProxyHTTPServer` applies the headers
only when the connection comes from a listed proxy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

import tornado.httpserver
import tornado.httputil

__all__ = ["TrustedProxyHTTPServer", "parse_networks", "client_address"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """``"10.0.0.0/8"``, ``"127.0.0.1"``, ... as networks.

    :raises ValueError: on anything else.
    """
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)


def _trusted(address: str | None, proxies: tuple[Network, ...]) -> bool:
    if not proxies:  # the default: no address parsed per request
        return False
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(
    peer: str, forwarded_for: str | None, proxies: tuple[Network, ...]
) -> str:
    """The client's address: ``peer`` unless it is a trusted proxy, else the
    right-most ``X-Forwarded-For`` entry that is not one (hops appended by
    untrusted parties further left are ignored)."""
    if not forwarded_for or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop if _is_ip(hop) else peer
    return hops[0] if hops and _is_ip(hops[0]) else peer


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


class TrustedProxyHTTPServer(tornado.httpserver.HTTPServer):
    """An ``HTTPServer`` whose requests see the client's address and scheme as
    reported by a trusted proxy (``X-Forwarded-For``, ``X-Forwarded-Proto``).

    :param trusted_proxies: addresses or networks of your proxies; empty: no
                            header is believed (as with ``xheaders=False``).

    .. warning::
       Listing a network that clients can reach the server from lets those
       clients choose their address.
    """

    def initialize(  # type: ignore[override]
        self,
        request_callback: Any,
        *,
        trusted_proxies: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        if kwargs.get("xheaders"):
            raise ValueError("xheaders=True trusts every peer; use trusted_proxies")
        super().initialize(request_callback, **kwargs)
        self.trusted_proxies = parse_networks(trusted_proxies)

    def start_request(
        self, server_conn: object, request_conn: tornado.httputil.HTTPConnection
    ) -> tornado.httputil.HTTPMessageDelegate:
        delegate = super().start_request(server_conn, request_conn)
        context = getattr(request_conn, "context", None)
        if not _trusted(getattr(context, "remote_ip", None), self.trusted_proxies):
            return delegate
        return _ForwardedAdapter(delegate, context, self.trusted_proxies)


class _ForwardedAdapter(tornado.httputil.HTTPMessageDelegate):
    """Rewrites the connection's address for one request, then restores it
    (a kept-alive connection is still the proxy's)."""

    def __init__(
        self, delegate: Any, context: Any, proxies: tuple[Network, ...]
    ) -> None:
        self.delegate, self.context, self.proxies = delegate, context, proxies
        self.saved = (context.remote_ip, context.protocol)

    def headers_received(self, start_line: Any, headers: Any) -> Any:
        peer = self.context.remote_ip
        forwarded = headers.get("X-Forwarded-For")
        self.context.remote_ip = client_address(peer, forwarded, self.proxies)
        proto = headers.get("X-Forwarded-Proto", "").split(",")[-1].strip()
        if proto in ("http", "https"):
            self.context.protocol = proto
        return self.delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        return self.delegate.data_received(chunk)

    def finish(self) -> None:
        self.delegate.finish()
        self._restore()

    def on_connection_close(self) -> None:
        self.delegate.on_connection_close()
        self._restore()

    def _restore(self) -> None:
        self.context.remote_ip, self.context.protocol = self.saved
