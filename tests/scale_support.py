"""Several ``server.py`` processes sharing one private Redis (scale-out tests)."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tornado.httpclient

from tests.redis_server import RedisServer
from tests.server_process import free_port, running_server
from tests.support import server_url, sign


@dataclass
class Cluster:
    """Server processes on 127.0.0.1 sharing ``redis`` and one data directory."""

    redis: RedisServer
    data_dir: Path
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    ports: list[int] = field(default_factory=list)
    startup_lines: list[str] = field(default_factory=list)
    stack: ExitStack = field(default_factory=ExitStack)
    env: dict[str, str] = field(default_factory=dict)  # more for every process

    def start_server(self) -> int:
        """One more process; returns its port once it listens."""
        port = free_port()
        env = {"JWT_SECRET": self.secret, "REDIS_URL": self.redis.url, **self.env}
        lines = self.stack.enter_context(
            running_server(self.data_dir, "--port", str(port), env=env)
        )
        self.startup_lines += lines
        self.ports.append(port)
        return port

    def token(self, **claims: Any) -> str:
        return sign(self.secret, **claims)

    def url(self, index: int) -> str:
        return server_url(self.ports[index])


@contextmanager
def running_cluster(
    redis: RedisServer, data_dir: Path, size: int, env: dict[str, str] | None = None
) -> Iterator[Cluster]:
    """``size`` processes in front of ``redis`` (``env``: more environment for
    each); all stopped (SIGTERM) afterwards."""
    cluster = Cluster(redis, data_dir, env=dict(env or {}))
    with cluster.stack:
        for _ in range(size):
            cluster.start_server()
        yield cluster


async def post(
    url: str, body: dict[str, Any] | None = None, token: str | None = None
) -> tornado.httpclient.HTTPResponse:
    """A JSON POST that returns any status (bounded)."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return await tornado.httpclient.AsyncHTTPClient().fetch(
        url,
        method="POST",
        body=json.dumps(body or {}),
        headers=headers,
        raise_error=False,
        request_timeout=10,
    )


async def eventually(check: Any, timeout: float, interval: float = 0.1) -> Any:
    """Call the coroutine function ``check`` until it returns a true value."""

    async def loop() -> Any:
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(interval)

    return await asyncio.wait_for(loop(), timeout)
