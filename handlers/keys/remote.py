"""``JWKSKeySource``: verify-only keys from an external issuer's JWKS (Auth0, OIDC).

The JWK Set is fetched with Tornado's ``AsyncHTTPClient`` (the IOLoop never
blocks), cached, refetched on an unknown ``kid`` at most once per
``min_refresh_interval``, and kept while the issuer is unreachable.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import jwt
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from .base import select_key
from .jwk import parse_jwks

__all__ = ["JWKSKeySource", "parse_jwks"]

log = logging.getLogger("tornado_socketio_jwt")


class JWKSKeySource:
    """Verification keys from ``url``, a JWKS endpoint. It never signs.

    :param url: the issuer's JWKS, e.g.
                ``https://TENANT.auth0.com/.well-known/jwks.json``.
    :param algorithms: the allowed algorithms (pass ``settings.algorithms``);
                       a JWK whose own ``alg`` is not among them is ignored.
    :param min_refresh_interval: seconds between two fetches, whatever the
                                 reason. Default 30. An unknown ``kid`` waits
                                 at most this long for a rotated-in key.
    :param max_age: seconds after which the cache is refetched on use. Default 600.
    :param timeout: seconds a fetch may take. Default 10.
    :param http_client: default ``tornado.httpclient.AsyncHTTPClient()``.
    :param clock: monotonic seconds; injectable for tests.

    .. warning::
       Use an ``https`` URL in production: whoever can change the fetched
       JWK Set can sign tokens this server accepts.
    """

    can_sign = False

    def __init__(
        self,
        url: str,
        algorithms: Iterable[str] = ("RS256",),
        *,
        min_refresh_interval: float = 30.0,
        max_age: float = 600.0,
        timeout: float = 10.0,
        http_client: AsyncHTTPClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("the JWKS URL must be http(s)")
        self.algorithms = tuple(algorithms)
        if not self.algorithms or any(a.startswith("HS") for a in self.algorithms):
            raise ValueError("a JWKS source needs public-key algorithms (RS*/ES*/PS*)")
        if min_refresh_interval < 0 or max_age <= 0 or timeout <= 0:
            raise ValueError("intervals must be positive")
        self.url, self.min_refresh_interval, self.max_age = (
            url,
            min_refresh_interval,
            max_age,
        )
        self.timeout, self._http, self._clock = timeout, http_client, clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Future[bool]] = set()

    @property
    def kids(self) -> tuple[str, ...]:
        """The cached ``kid``s."""
        return tuple(self._keys)

    def signing_key(self) -> tuple[Any, str | None]:
        raise RuntimeError("a JWKS key source only verifies tokens")

    def verification_key(self, header: Mapping[str, Any]) -> Any:
        return select_key(self._keys, header, self.algorithms)

    async def prepare(self, header: Mapping[str, Any]) -> None:
        """Make sure the header's ``kid`` is looked up in a current JWK Set
        (a header without ``kid``: that some JWK Set has been fetched).

        A known ``kid`` never waits: a stale cache is refreshed in the
        background. An unknown one waits for a fetch, unless the last fetch
        was under ``min_refresh_interval`` ago.
        """
        kid = header.get("kid")
        if kid is not None and (not isinstance(kid, str) or not kid):
            return
        if self._known(kid):
            if not self._fresh() and not self._throttled() and not self._lock.locked():
                self._refresh_in_background()
            return
        # Concurrent handshakes wait for the one fetch in flight, then see
        # that it was just attempted: a flood of unknown kids fetches once.
        async with self._lock:
            if not self._throttled() and not self._known(kid):
                await self._fetch()

    def _known(self, kid: str | None) -> bool:
        # No kid: the single-key rule only needs some JWK Set to look at.
        return bool(self._keys) if kid is None else kid in self._keys

    def _refresh_in_background(self) -> None:
        task = asyncio.ensure_future(self.refresh())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def refresh(self) -> bool:
        """Fetch the JWK Set now (e.g. at start-up); ``False`` if it failed."""
        async with self._lock:
            return await self._fetch()

    def _fresh(self) -> bool:
        return (
            self._fetched_at is not None
            and self._clock() - self._fetched_at < self.max_age
        )

    def _throttled(self) -> bool:
        last = self._attempted_at
        return last is not None and self._clock() - last < self.min_refresh_interval

    async def _fetch(self) -> bool:
        self._attempted_at = self._clock()
        client = self._http or AsyncHTTPClient()
        try:
            response = await client.fetch(
                self.url,
                request_timeout=self.timeout,
                follow_redirects=False,
                headers={"Accept": "application/json"},
            )
            keys = parse_jwks(json.loads(response.body), self.algorithms)
        except (HTTPClientError, OSError, ValueError, asyncio.TimeoutError) as exc:
            # A server fault, not the client's: keep serving from the cache.
            log.warning(
                "JWKS fetch from %s failed (%s); keeping %d cached keys",
                self.url,
                exc,
                len(self._keys),
            )
            return False
        if not keys:
            log.warning("JWKS at %s has no usable keys; keeping the cache", self.url)
            return False
        self._keys, self._fetched_at = keys, self._clock()
        log.info("JWKS fetched from %s: kids=%s", self.url, ",".join(keys))
        return True

    def __repr__(self) -> str:
        return f"JWKSKeySource({self.url!r}, kids={list(self._keys)!r})"
