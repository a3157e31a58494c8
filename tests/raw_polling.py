"""A raw Engine.IO long-polling client: a hostile client's HTTP requests, one by one."""

from __future__ import annotations

import json
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPResponse

SEPARATOR = "\x1e"  # between packets of one polling payload (Engine.IO 4)


def polling_url(port: int, sid: str | None = None) -> str:
    url = f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling"
    return url if sid is None else f"{url}&sid={sid}"


async def handshake(port: int, timeout: float = 5.0) -> HTTPResponse:
    """The opening GET of a new Engine.IO session, whatever it is answered."""
    return await AsyncHTTPClient().fetch(
        polling_url(port), raise_error=False, request_timeout=timeout
    )


class RawPolling:
    """One Engine.IO session over long-polling, driven by hand."""

    def __init__(self, port: int, sid: str) -> None:
        self.port = port
        self.sid = sid

    @classmethod
    async def open(cls, port: int) -> RawPolling:
        response = await handshake(port)
        assert response.code == 200, response.code
        body = response.body.decode()
        assert body.startswith("0{"), body
        return cls(port, json.loads(body[1:])["sid"])

    async def post(self, *packets: str, timeout: float = 5.0) -> HTTPResponse:
        """POST Engine.IO packets (``"4" + a Socket.IO packet`` is a message)."""
        return await AsyncHTTPClient().fetch(
            polling_url(self.port, self.sid),
            method="POST",
            body=SEPARATOR.join(packets),
            raise_error=False,
            request_timeout=timeout,
        )

    async def get(self, timeout: float = 5.0) -> HTTPResponse:
        """One poll: the packets the server has for the session."""
        return await AsyncHTTPClient().fetch(
            polling_url(self.port, self.sid),
            raise_error=False,
            request_timeout=timeout,
        )

    async def connect(self, auth: Any = None) -> str:
        """CONNECT to ``/`` and return the server's answer (a poll's body)."""
        data = "" if auth is None else json.dumps(auth)
        response = await self.post("40" + data)
        assert response.code == 200, response.code
        return (await self.get()).body.decode()
