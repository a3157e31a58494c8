"""Load with faults: honest sockets keep every acknowledged message while
bad handshakes, oversized payloads and a login flood run beside them.

The real server runs as a process of its own (its memory is read from
/proc), with ``--metrics on`` so that its own bookkeeping can be checked, and
no per-user or per-address socket limit. ``SOCKETS`` sockets of the official
Node socket.io-client (tests/node/load.mjs) exchange acknowledged ``whoami``
events and a few broadcasts for as long as the faults run. Two cycles run:
the first warms the server up, and the memory after the second, once every
client has left, is compared with the memory after the first.

Without ``node`` or node_modules/socket.io-client the module is skipped,
except under CI (``CI=true``), where a missing piece is a failure.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import socketio
from prometheus_client.parser import text_string_to_metric_families
from tornado.httpclient import AsyncHTTPClient, HTTPResponse
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError

from tests.raw_socket import RawSocket
from tests.requirements import NODE, node_client_missing, require
from tests.server_process import ROOT, free_port, wait_for_line
from tests.support import refusal, sign
from tornado_socketio_jwt import (
    CredentialsBadFormatError,
    CredentialsRequiredError,
    TokenExpiredError,
    TokenInvalidError,
)

LOAD_SCRIPT = ROOT / "tests" / "node" / "load.mjs"

SECRET = secrets.token_urlsafe(40)
REFUSALS = {
    error.code: error
    for error in (
        CredentialsRequiredError,
        CredentialsBadFormatError,
        TokenInvalidError,
        TokenExpiredError,
    )
}
USERS = {"ann": "ann-load-password-1", "bob": "bob-load-password-2"}
SOCKETS = 300
MIN_ROUNDS = 5  # whoami per socket at least; more while the faults last
MAX_ROUNDS = 200
BROADCASTS = 5
CYCLES = 2  # a warm-up, then the cycle whose memory is compared
# Generous: the bound is for a leak (a few hundred sockets' worth per cycle),
# not for the allocator's noise.
MAX_GROWTH_KIB = 25 * 1024
ACK_TIMEOUT_S = 20
NODE_TIMEOUT_S = 90

# Each bad handshake, by the code the server must refuse it with.
BAD_HANDSHAKE_ROUNDS = 8
OVERSIZED_ROUNDS = 5
BIG_FRAME = '42["message",{"text":"' + "x" * 1_100_000 + '"}]'  # over 1,000,000
FLOOD_REQUESTS = 120
FLOOD_ADDRESSES = [f"203.0.113.{i}" for i in range(1, 9)]  # via the trusted proxy
FLOOD_LOG = re.compile(r"^\[W [\d :]+ tornado\.access\] (401|429) POST /login \(")


require(node_client_missing(), "load test")


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int
    stderr: Path

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        [line] = [line for line in status.splitlines() if line.startswith("VmRSS:")]
        return int(line.split()[1])


def add_users(data_dir: Path) -> None:
    for name, password in USERS.items():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "server.py"),
                "adduser",
                name,
                "--data-dir",
                str(data_dir),
            ],
            input=password + "\n",
            text=True,
            check=True,
            capture_output=True,
            cwd=ROOT,
            timeout=30,
        )


@contextmanager
def load_server(data_dir: Path) -> Iterator[Server]:
    """The server with metrics, no socket limits, the test process as a trusted
    proxy (the flood's addresses), and its stderr kept; stopped with SIGTERM."""
    port, stderr = free_port(), data_dir / "server.err"
    options = ["--port", str(port), "--metrics", "on", "--log-level", "warning"]
    options += ["--max-connections-per-user", "0", "--max-connections-per-address"]
    options += ["0", "--trusted-proxies", "127.0.0.1"]
    with stderr.open("w") as errors:
        process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "server.py"),
                "--data-dir",
                str(data_dir),
                *options,
            ],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env={**os.environ, "JWT_SECRET": SECRET},
            cwd=ROOT,
        )
    try:
        wait_for_line(process, "listening on")
        yield Server(process, port, stderr)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stdout.close()  # type: ignore[union-attr]


async def fetch(server: Server, path: str, **kwargs: Any) -> HTTPResponse:
    client = AsyncHTTPClient(force_instance=True)
    try:
        return await client.fetch(
            f"http://127.0.0.1:{server.port}{path}",
            raise_error=False,
            request_timeout=30,
            **kwargs,
        )
    finally:
        client.close()


async def login(server: Server, username: str, password: str) -> HTTPResponse:
    return await fetch(
        server,
        "/login",
        method="POST",
        body=json.dumps({"username": username, "password": password}),
        headers={"Content-Type": "application/json"},
    )


async def metrics(server: Server) -> dict[Any, float]:
    """Every sample of ``GET /metrics``, by name and labels."""
    response = await fetch(server, "/metrics")
    assert response.code == 200
    samples = {}
    for family in text_string_to_metric_families(response.body.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(samples: dict[Any, float], name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(
        value
        for (sample, sample_labels), value in samples.items()
        if sample == name and set(labels.items()) <= set(sample_labels)
    )


async def until_no_sockets(server: Server, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while total(await metrics(server), "tsj_connected_sockets") != 0:
        assert time.monotonic() < deadline, "sockets still connected"
        await asyncio.sleep(0.1)


def bad_handshakes() -> list[tuple[str, Any, str]]:
    """(kind, CONNECT auth, the code it must be refused with)."""
    now = int(time.time())
    return [
        ("no token", None, "credentials_required"),
        ("not a string", {"token": 12345}, "credentials_bad_format"),
        ("garbage", {"token": "not-a-jwt"}, "invalid_token"),
        ("bad signature", {"token": sign("w" * 40)}, "invalid_token"),
        ("over 8 KiB", {"token": sign(SECRET, padding="p" * 9000)}, "invalid_token"),
        (
            "expired",
            {"token": sign(SECRET, iat=now - 99, exp=now - 9)},
            "token_expired",
        ),
    ]


async def refuse(server: Server, kind: str, auth: Any, expected: str) -> str:
    """The code a handshake with ``auth`` is refused with (it must be ``expected``)."""
    raw = await RawSocket.open(server.port)
    try:
        answer = await raw.connect(auth, timeout=15)
    finally:
        raw.close()
    assert answer.startswith("44"), (kind, answer)
    refused = json.loads(answer[2:])
    data = refused["data"]
    assert data == {**refusal(REFUSALS[expected]), "message": refused["message"]}, kind
    return str(data["code"])


async def refuse_handshakes(server: Server) -> Counter[str]:
    """Each bad handshake (all kinds at once), ``BAD_HANDSHAKE_ROUNDS`` times:
    the codes, counted."""
    codes: Counter[str] = Counter()
    for _ in range(BAD_HANDSHAKE_ROUNDS):
        kinds = bad_handshakes()
        codes.update(await asyncio.gather(*(refuse(server, *k) for k in kinds)))
    return codes


async def closed(raw: RawSocket) -> bool:
    try:
        return await raw.read_until("\x00never", timeout=15) == ""
    except asyncio.TimeoutError:
        return False


async def send_oversized(server: Server, frame: str) -> bool:
    """Whether an authenticated session that sends ``frame`` is closed."""
    raw = await RawSocket.open(server.port)
    try:
        answer = await raw.connect({"token": sign(SECRET, sub="900")}, timeout=10)
        assert answer.startswith('40{"sid"'), answer
        with suppress(WebSocketClosedError, StreamClosedError):
            await raw.send(frame)
        return await closed(raw)
    finally:
        raw.close()


async def oversized_payloads(server: Server) -> Counter[str]:
    """A message over 1 MB, and a binary event announcing 99 attachments."""
    frames = {
        "big_message": BIG_FRAME,
        "attachments": '4599-["whoami",{"_placeholder":true,"num":0}]',
    }
    outcomes: Counter[str] = Counter()
    for _ in range(OVERSIZED_ROUNDS):
        kinds = list(frames)
        sent = await asyncio.gather(*(send_oversized(server, frames[k]) for k in kinds))
        assert all(sent), dict(
            zip(kinds, sent, strict=False)
        )  # every session was closed
        outcomes.update(kinds)
    return outcomes


async def login_flood(server: Server) -> Counter[int]:
    """Wrong passwords, all at once, from a few forwarded addresses: answers
    by status (a third for the real user ``ann``, the rest for nobody)."""
    client = AsyncHTTPClient(force_instance=True, max_clients=FLOOD_REQUESTS)

    async def attempt(i: int) -> HTTPResponse:
        username = "ann" if i % 3 == 0 else f"nobody-{i}"
        return await client.fetch(
            f"http://127.0.0.1:{server.port}/login",
            method="POST",
            body=json.dumps({"username": username, "password": "wrong"}),
            headers={
                "Content-Type": "application/json",
                "X-Forwarded-For": FLOOD_ADDRESSES[i % len(FLOOD_ADDRESSES)],
            },
            raise_error=False,
            request_timeout=60,
        )

    try:
        answers = await asyncio.gather(*(attempt(i) for i in range(FLOOD_REQUESTS)))
    finally:
        client.close()
    for answer in answers:
        assert answer.code in (401, 429), (answer.code, answer.body)
        if answer.code == 429:
            assert int(answer.headers["Retry-After"]) > 0
    return Counter(answer.code for answer in answers)


async def faults(server: Server) -> dict[str, Any]:
    refusals, oversized, logins = await asyncio.gather(
        refuse_handshakes(server), oversized_payloads(server), login_flood(server)
    )
    return {"refusals": refusals, "oversized": oversized, "logins": logins}


async def honest_load(
    server: Server,
    tokens: list[dict[str, str]],
    tag: str,
    beside: Callable[[], Awaitable[dict[str, Any]]],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run load.mjs; once its sockets are connected, run ``beside()``, then
    tell it to stop. Returns its counts and what ``beside()`` returned."""
    scenario = {
        "url": f"http://127.0.0.1:{server.port}",
        "tokens": tokens,
        "sockets": SOCKETS,
        "tag": tag,
        "minRounds": MIN_ROUNDS,
        "maxRounds": MAX_ROUNDS,
        "broadcasts": BROADCASTS,
        "ackTimeoutMs": ACK_TIMEOUT_S * 1000,
        "timeoutMs": NODE_TIMEOUT_S * 1000,
    }
    assert NODE is not None
    process = await asyncio.create_subprocess_exec(
        *(NODE, str(LOAD_SCRIPT)),
        cwd=str(ROOT),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin and process.stdout and process.stderr
    try:
        process.stdin.write(json.dumps(scenario).encode() + b"\n")
        await process.stdin.drain()
        ready = await asyncio.wait_for(process.stdout.readline(), 60)
        assert ready and json.loads(ready) == {"phase": "ready"}, ready
        outcome = await beside()
        process.stdin.write(b"stop\n")
        await process.stdin.drain()
        process.stdin.close()
        done = await asyncio.wait_for(process.stdout.readline(), NODE_TIMEOUT_S)
        errors = await asyncio.wait_for(process.stderr.read(), 10)
        assert await asyncio.wait_for(process.wait(), 10) == 0, errors.decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    counts = json.loads(done)
    assert counts.pop("phase") == "done"
    return counts, outcome


def assert_every_message_accounted_for(counts: dict[str, Any]) -> None:
    assert counts["connectErrors"] == [] and counts["connected"] == SOCKETS, counts
    assert counts["unexpectedDisconnects"] == [], counts
    assert counts["failedAcks"] == [] and counts["wrongAcks"] == 0, counts
    assert counts["sent"] >= SOCKETS * MIN_ROUNDS
    assert counts["acked"] == counts["sent"]
    assert counts["broadcastsAcked"] == counts["broadcastsSent"] == BROADCASTS
    assert counts["missingDeliveries"] == 0
    assert counts["deliveries"] == SOCKETS * BROADCASTS


async def tokens_for_users(server: Server) -> list[dict[str, str]]:
    tokens = []
    for name, password in USERS.items():
        response = await login(server, name, password)
        assert response.code == 200, response.body
        token = json.loads(response.body)["token"]
        whoami = await fresh_socket_whoami(server, token)
        tokens.append({"token": token, "sub": whoami["sub"]})
    return tokens


async def fresh_socket_whoami(server: Server, token: str) -> dict[str, Any]:
    client = socketio.AsyncClient(reconnection=False)
    try:
        await client.connect(
            f"http://127.0.0.1:{server.port}",
            auth={"token": token},
            transports=["websocket"],
            wait_timeout=10,
        )
        claims = await client.call("whoami", timeout=10)
    finally:
        await client.shutdown()
    assert isinstance(claims, dict)
    return claims


def report(figures: dict[str, Any]) -> None:
    # Shown with pytest -s: the figures the note quotes.
    print("\nload with faults:", json.dumps(figures, sort_keys=True))


@pytest.mark.gen_test(timeout=120)
async def test_honest_sockets_keep_every_ack_through_faults_and_memory_settles(
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    add_users(tmp_path)
    with load_server(tmp_path) as server:
        rss = {"start": server.rss_kib()}
        tokens = await tokens_for_users(server)
        await until_no_sockets(server)
        cycles = []
        for cycle in range(CYCLES):
            beside = functools.partial(faults, server)
            counts, outcome = await honest_load(server, tokens, f"c{cycle}", beside)
            assert_every_message_accounted_for(counts)
            await until_no_sockets(server)
            rss[f"after cycle {cycle + 1}"] = server.rss_kib()
            cycles.append({**counts, **outcome})
        samples = await metrics(server)
        assert (await fetch(server, "/healthz")).code == 200
        after = await login(server, "bob", USERS["bob"])
        assert after.code == 200  # the flood left the honest user's login alone
        token = json.loads(after.body)["token"]
        assert (await fresh_socket_whoami(server, token))["sub"] == tokens[1]["sub"]
        await until_no_sockets(server)
    assert server.process.returncode == 0
    stderr = server.stderr.read_text()
    # The flood's access-log lines, and nothing else: no traceback, no error.
    unexpected = [line for line in stderr.splitlines() if not FLOOD_LOG.search(line)]
    assert unexpected == [], unexpected[:20]
    growth = rss[f"after cycle {CYCLES}"] - rss["after cycle 1"]
    report({"rss_kib": rss, "cycles": cycles, "wall_s": time.monotonic() - started})
    assert_server_counted_the_same(samples, cycles)
    assert growth < MAX_GROWTH_KIB, rss


def assert_server_counted_the_same(
    samples: dict[Any, float], cycles: list[dict[str, Any]]
) -> None:
    """The server's own counters agree with what the clients saw."""
    refusals: Counter[str] = sum((c["refusals"] for c in cycles), Counter())
    for code, count in refusals.items():
        assert total(samples, "tsj_refusals_total", code=code) == count, code
    logins: Counter[int] = sum((c["logins"] for c in cycles), Counter())
    outcome = {401: "invalid_credentials", 429: "too_many_attempts"}
    for status, count in logins.items():
        assert total(samples, "tsj_logins_total", outcome=outcome[status]) == count
    assert total(samples, "tsj_logins_total", outcome="success") == len(USERS)
    # The honest sockets, the oversized senders' and the first two whoamis.
    oversized = sum(sum(c["oversized"].values()) for c in cycles)
    admitted = CYCLES * SOCKETS + oversized + len(USERS)
    assert total(samples, "tsj_handshakes_total") == admitted
