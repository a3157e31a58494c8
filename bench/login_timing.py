"""Benchmark: does /login's answer time tell which usernames exist? (``make bench``)

Starts the real app on 127.0.0.1 with the default argon2id parameters, then
times, interleaved in one run, ``N`` logins with a wrong password for an
existing user and ``N`` for an unknown user (the baseline the first must
match). Prints medians and their ratio. Not a test.
``python bench/login_timing.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import socketio
import tornado.httpclient
import tornado.httpserver
import tornado.testing
import tornado.web

from tornado_socketio_jwt import AuthSettings, SQLiteUserStore, attach_jwt_auth


async def timed_login(
    client: tornado.httpclient.AsyncHTTPClient, url: str, username: str
) -> float:
    body = json.dumps({"username": username, "password": "not-the-password"})
    started = time.perf_counter()
    response = await client.fetch(
        url,
        method="POST",
        body=body,
        raise_error=False,
        headers={"Content-Type": "application/json"},
    )
    assert response.code == 401, response.code
    return time.perf_counter() - started


async def measure(rounds: int) -> dict[str, float]:
    """Median answer times (seconds) of both kinds of failed login."""
    with tempfile.TemporaryDirectory() as tmp:
        users = SQLiteUserStore(str(Path(tmp) / "users.sqlite3"))
        users.add_user_sync("alice", secrets.token_urlsafe(12))
        # Limits off: this measures hashing, not the rate limiter.
        settings = AuthSettings(
            secret=secrets.token_urlsafe(32), login_max_failures=10 * rounds
        )
        sio = socketio.AsyncServer(async_mode="tornado")
        app = tornado.web.Application(
            attach_jwt_auth(sio, replace(settings, routes=("login",)), users=users),
            log_function=lambda handler: None,  # 2 x N lines of 401s say nothing here
        )
        sock, port = tornado.testing.bind_unused_port()
        server = tornado.httpserver.HTTPServer(app)
        server.add_sockets([sock])
        client = tornado.httpclient.AsyncHTTPClient()
        url = f"http://127.0.0.1:{port}/login"
        known: list[float] = []
        unknown: list[float] = []
        for n in range(rounds):
            names = [("alice", known), (f"nobody{n}", unknown)]
            for name, sink in names if n % 2 else reversed(names):
                sink.append(await timed_login(client, url, name))
        server.stop()
        await sio.shutdown()
        users.close()
    k, u = statistics.median(known), statistics.median(unknown)
    return {"rounds": rounds, "existing_s": k, "unknown_s": u, "ratio": k / u}


def report(figures: dict[str, float]) -> str:
    """The section as text."""
    k, u = figures["existing_s"], figures["unknown_s"]
    return "\n".join(
        [
            f"/login answer time, {figures['rounds']:.0f} rounds each, "
            "default argon2id parameters",
            f"  wrong password, existing user: median {k * 1000:7.1f} ms",
            f"  unknown user (baseline):       median {u * 1000:7.1f} ms",
            f"  ratio existing/unknown:        {figures['ratio']:.3f}",
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    print(report(asyncio.run(measure(parser.parse_args().rounds))))
