"""Issue 9's attacks, measured from outside against a real ``server.py``.

``python bench/abuse.py [--root CHECKOUT] [--json PATH]``

Starts ``server.py`` of ``--root`` (default: this checkout; point it at a
``git worktree`` of an older commit to measure "before") on a free
127.0.0.1 port with a known ``JWT_SECRET``, runs each attack in turn and
prints one markdown table: what was sent, what the server did, and the
server's resident memory and CPU around it. Bounded: about a minute.
Options that an older checkout lacks are not used.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import jwt
from measure import cpu_seconds, rss_bytes
from processes import free_port
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
MEGABYTE = 1_000_000  # python-engineio's default max_http_buffer_size


class Server:
    """``server.py`` as a child process; its log lines go to a file."""

    def __init__(self, root: Path, secret: str, *extra: str) -> None:
        self.root, self.secret, self.extra = root, secret, extra
        self.port = free_port()
        self.data = Path(tempfile.mkdtemp(prefix="abuse-"))
        self.log = self.data / "server.log"
        self.proc: subprocess.Popen[str] | None = None
        self.password = ""

    def start(self) -> Server:
        argv = [sys.executable, str(self.root / "server.py"), "--port", str(self.port)]
        argv += ["--data-dir", str(self.data / "d"), *self.extra]
        env = dict(os.environ, JWT_SECRET=self.secret)
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=self.log.open("w"),
            text=True,
            env=env,
            cwd=self.root,
        )
        deadline = time.monotonic() + 30
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if "password:" in line:
                self.password = line.split("password: ")[1].split()[0]
            if "listening on" in line or not line:
                break
        if self.proc.poll() is not None:
            raise RuntimeError(f"server.py exited: {self.log.read_text()[-400:]}")
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log_bytes(self) -> int:
        return self.log.stat().st_size

    def stop(self) -> float:
        """SIGTERM; seconds until it exited (SIGKILL after 30 s)."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return time.monotonic() - started

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/socket.io/?EIO=4&transport=websocket"


def token(secret: str, sub: str = "1", **extra: Any) -> str:
    now = int(time.time())
    claims = {"sub": sub, "iat": now, "exp": now + 3600, "jti": uuid.uuid4().hex}
    claims.update(iss="tornado-socketio-jwt", **extra)
    return jwt.encode(claims, secret, algorithm="HS256")


async def open_socket(
    server: Server, **options: Any
) -> WebSocketClientConnection | None:
    """An Engine.IO session over a WebSocket (its OPEN read), or ``None``."""
    try:
        conn = await websocket_connect(server.ws_url(), **options)
        await asyncio.wait_for(conn.read_message(), 5)
        return conn
    except (HTTPClientError, OSError, asyncio.TimeoutError):
        return None


async def connect(conn: WebSocketClientConnection, auth: Any) -> str:
    """CONNECT to ``/`` and the answer frame (``""`` when closed)."""
    await conn.write_message("40" + json.dumps(auth))
    return await read_frame(conn)


async def read_frame(conn: WebSocketClientConnection, timeout: float = 5) -> str:
    while True:
        frame = await asyncio.wait_for(conn.read_message(), timeout)
        if frame is None:
            return ""
        if frame == "2":
            await conn.write_message("3")
            continue
        return frame if isinstance(frame, str) else "<binary>"


def answer_code(frame: str) -> str:
    if frame.startswith('40{"sid"'):
        return "connected"
    if frame.startswith("44"):
        return str(json.loads(frame[2:]).get("data", {}).get("code"))
    return "closed" if frame == "" else frame[:20]


async def whoami_ms(conn: WebSocketClientConnection, ack: int) -> float:
    started = time.perf_counter()
    await conn.write_message(f'42{ack}["whoami"]')
    while not (await read_frame(conn, 30)).startswith(f"43{ack}"):
        pass
    return (time.perf_counter() - started) * 1000


async def is_closed(conn: WebSocketClientConnection, within: float) -> bool:
    try:
        while True:
            if await asyncio.wait_for(conn.read_message(), within) is None:
                return True
    except asyncio.TimeoutError:
        return False


Row = tuple[str, str]


async def attachments(server: Server) -> list[Row]:
    """A BINARY_EVENT announcing a million attachments, then 1 MB frames."""
    rows: list[Row] = []
    for label, auth in (("with a valid token", True), ("before CONNECT", False)):
        conn = await open_socket(server)
        assert conn is not None
        if auth:
            await connect(conn, {"token": token(server.secret)})
        before, sent = rss_bytes(server.pid), 0
        deadline = time.monotonic() + 2
        try:
            await conn.write_message('451000000-["upload",{"_placeholder":true}]')
            while time.monotonic() < deadline:
                await conn.write_message(b"\0" * (MEGABYTE - 1), binary=True)
                sent += 1
                if conn.protocol is None or conn.close_code is not None:
                    break
                await asyncio.sleep(0)
        except Exception:  # noqa: BLE001: the server closing is the point
            pass
        closed = await is_closed(conn, 2)
        grown = (rss_bytes(server.pid) - before) / MIB
        rows.append(
            (
                f"BINARY_EVENT announcing 1,000,000 attachments, {label}, "
                "then 1 MB frames for 2 s",
                f"session closed: {closed}; {sent} frames written; "
                f"server RSS {grown:+.0f} MiB",
            )
        )
        conn.close()
    return rows


async def big_events_flood(server: Server) -> list[Row]:
    """Four sockets that never CONNECT send 0.99 MB events for 5 s (offering
    permessage-deflate); a connected socket's ``whoami`` meanwhile."""
    probe = await open_socket(server)
    assert probe is not None
    await connect(probe, {"token": token(server.secret, sub="2")})
    idle = [await whoami_ms(probe, i) for i in range(20)]
    payload = '42["x","' + "a" * 990_000 + '"]'
    stop = time.monotonic() + 5
    sent, opened = [0], [0]

    async def flood() -> None:
        while time.monotonic() < stop:
            conn = await open_socket(server, compression_options={})
            if conn is None:
                await asyncio.sleep(0.05)
                continue
            opened[0] += 1
            try:
                while time.monotonic() < stop and conn.close_code is None:
                    await conn.write_message(payload)
                    sent[0] += 1
            except Exception:  # noqa: BLE001: closed by the server
                pass
            conn.close()

    cpu = cpu_seconds(server.pid)
    floods = [asyncio.ensure_future(flood()) for _ in range(4)]
    during: list[float] = []
    ack = 100
    while time.monotonic() < stop:
        during.append(await whoami_ms(probe, ack))
        ack += 1
        await asyncio.sleep(0.05)
    await asyncio.gather(*floods)
    used = cpu_seconds(server.pid) - cpu
    after = [await whoami_ms(probe, 1000 + i) for i in range(20)]
    probe.close()
    return [
        (
            "4 sockets without CONNECT send 0.99 MB events for 5 s, offering "
            "permessage-deflate",
            f"{sent[0]} events written, {opened[0]} sessions opened; "
            f"server CPU {used:.1f} s in 5 s; whoami p50 "
            f"{statistics.median(idle):.1f} ms idle, "
            f"{statistics.median(during):.1f} ms during, "
            f"{statistics.median(after):.1f} ms right after",
        )
    ]


async def cross_origin(server: Server) -> list[Row]:
    """200 WebSocket upgrades from another origin."""
    upgraded = refused = 0
    conns = []
    for _ in range(200):
        request = HTTPRequest(server.ws_url(), headers={"Origin": "http://evil.test"})
        try:
            conns.append(await websocket_connect(request))
            upgraded += 1
        except HTTPClientError as exc:
            refused += exc.code == 403
        except OSError:
            pass
    still_open = 0
    for conn in conns:
        still_open += not await is_closed(conn, 0.01)
        conn.close()
    return [
        (
            "200 cross-origin WebSocket upgrades (Origin: http://evil.test)",
            f"{refused} refused with 403, {upgraded} upgraded, {still_open} still open",
        )
    ]


async def unfinished_requests(server: Server) -> list[Row]:
    """200 ``POST /login`` whose headers never end; how many the server closes."""
    loop = asyncio.get_running_loop()
    sockets = []
    for _ in range(200):
        sock = socket.socket()
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", server.port))
        await loop.sock_sendall(sock, b"POST /login HTTP/1.1\r\nHost: x\r\n")
        sockets.append(sock)
    waited = 12.5
    await asyncio.sleep(waited)
    closed = 0
    for sock in sockets:
        with contextlib.suppress(asyncio.TimeoutError, OSError):
            closed += await asyncio.wait_for(loop.sock_recv(sock, 1), 0.05) == b""
        sock.close()
    return [
        (
            "200 `POST /login` requests whose headers never end",
            f"{closed} of 200 closed by the server within {waited} s",
        )
    ]


async def one_token_many_sockets(server: Server) -> list[Row]:
    """One user opens 80 sockets."""
    conns, codes = [], []
    for _ in range(80):
        conn = await open_socket(server)
        if conn is None:
            codes.append("no session")
            continue
        codes.append(answer_code(await connect(conn, {"token": token(server.secret)})))
        conns.append(conn)
    for conn in conns:
        conn.close()
    counts = {code: codes.count(code) for code in sorted(set(codes))}
    return [("one user opens 80 sockets", f"answers: {counts}")]


async def malformed_packets(server: Server) -> list[Row]:
    """100 WebSockets that never CONNECT each send one 1-4 byte bad packet."""
    frames = ["4x", "49", "4{", "45", "4", "4-1", "42[", "\x00\x01"]
    before = server.log_bytes()
    for i in range(100):
        conn = await open_socket(server)
        if conn is None:
            continue
        await conn.write_message(frames[i % len(frames)])
        await is_closed(conn, 0.2)
        conn.close()
    await asyncio.sleep(0.5)
    grown = server.log_bytes() - before
    text = server.log.read_text()
    return [
        (
            "100 WebSockets that never CONNECT, one 1-4 byte malformed packet each",
            f"{grown / 100:.0f} log bytes per packet (the upgrade's access log "
            "line); "
            f"{text.count('Traceback')} tracebacks in the log",
        )
    ]


async def big_token(server: Server) -> list[Row]:
    big = token(server.secret, padding="x" * 48 * 1024)  # 64 KiB once encoded
    conn = await open_socket(server)
    assert conn is not None
    code = answer_code(await connect(conn, {"token": big}))
    conn.close()
    return [(f"a validly signed {len(big) // 1024} KiB token in `auth`", code)]


async def http(
    client: AsyncHTTPClient, server: Server, path: str, body: Any, **headers: str
) -> int:
    request = HTTPRequest(
        server.url(path),
        method="POST",
        body=json.dumps(body),
        headers={"Content-Type": "application/json", **headers},
        request_timeout=120,
    )
    try:
        return (await client.fetch(request, raise_error=False)).code
    except (OSError, HTTPClientError):  # closed by the server, no answer
        return 0


async def login_flood(server: Server) -> list[Row]:
    """250 concurrent wrong passwords, each from its own X-Forwarded-For
    address and username (each under its limits); then the right login."""
    client = AsyncHTTPClient(force_instance=True, max_clients=400)
    started = time.monotonic()
    flood = [
        asyncio.ensure_future(
            http(
                client,
                server,
                "/login",
                {"username": f"nobody{i}", "password": "wrong"},
                **{"X-Forwarded-For": f"10.0.{i // 200}.{i % 200 + 1}"},
            )
        )
        for i in range(250)
    ]
    await asyncio.sleep(0.2)
    right = {"username": "demo", "password": server.password}
    first_started = time.monotonic()
    first = await http(client, server, "/login", right)
    first_took = time.monotonic() - first_started
    retried = first
    while retried != 200 and time.monotonic() - first_started < 60:
        await asyncio.sleep(0.5)
        retried = await http(client, server, "/login", right)
    success = time.monotonic() - first_started
    statuses = await asyncio.gather(*flood)
    flood_took = time.monotonic() - started
    client.close()
    counts = {code: statuses.count(code) for code in sorted(set(statuses))}
    return [
        (
            "250 concurrent wrong-password logins from 250 addresses, then the "
            "right user's login",
            f"right user: {first} in {first_took:.2f} s, 200 after "
            f"{success:.1f} s (retrying every 0.5 s); flood answers {counts} "
            f"in {flood_took:.1f} s",
        )
    ]


async def refresh_logout_flood(server: Server) -> list[Row]:
    """One token holder refreshes, and logs out the old token, for 5 s."""
    client = AsyncHTTPClient(force_instance=True)
    current = token(server.secret, sub="7")
    minted = revoked = refused = 0
    stop = time.monotonic() + 5
    while time.monotonic() < stop:
        request = HTTPRequest(
            server.url("/token/refresh"),
            method="POST",
            body="",
            headers={"Authorization": f"Bearer {current}"},
        )
        answer = await client.fetch(request, raise_error=False)
        if answer.code != 200:
            refused += 1
            await asyncio.sleep(0.05)
            continue
        minted += 1
        old, current = current, json.loads(answer.body)["token"]
        code = await http(client, server, "/logout", {}, Authorization=f"Bearer {old}")
        revoked += code == 204
    client.close()
    return [
        (
            "one token holder refreshes, then logs out the old token, for 5 s",
            f"{minted} tokens minted, {revoked} revoked, {refused} refusals",
        )
    ]


async def sigterm(server: Server) -> list[Row]:
    """SIGTERM with a socket open and 20 logins queued."""
    conn = await open_socket(server)
    assert conn is not None
    await connect(conn, {"token": token(server.secret, sub="9")})
    client = AsyncHTTPClient(force_instance=True, max_clients=50)
    queued = [
        asyncio.ensure_future(
            http(
                client,
                server,
                "/login",
                {"username": "demo", "password": "wrong"},
                **{"X-Forwarded-For": f"10.9.0.{i + 1}"},
            )
        )
        for i in range(20)
    ]
    await asyncio.sleep(0.3)
    loop = asyncio.get_running_loop()
    exit_took = loop.run_in_executor(None, server.stop)
    frames = []
    while (frame := await read_frame(conn, 35)) != "":
        frames.append(frame)
    took = await exit_took
    await asyncio.gather(*queued)
    client.close()
    event = any("server_shutdown" in f for f in frames)
    return [
        (
            "SIGTERM with a socket open and 20 logins queued",
            f"client: close code {conn.close_code}, server_shutdown event {event}; "
            f"exit after {took:.1f} s, status {server.proc.returncode}",  # type: ignore[union-attr]
        )
    ]


def start_up_mistakes(root: Path) -> list[Row]:
    """Operator mistakes at start-up: exit status and lines on stderr."""
    rows: list[Row] = []
    work = Path(tempfile.mkdtemp(prefix="abuse-start-"))
    env = dict(os.environ, JWT_SECRET=secrets.token_urlsafe(32))
    corrupt = work / "corrupt"
    corrupt.mkdir()
    (corrupt / "users.sqlite3").write_bytes(b"not a database" * 100)
    as_file = work / "a-file"
    as_file.write_text("")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    busy_port = busy.getsockname()[1]
    cases = {
        "a corrupt users.sqlite3": ["--data-dir", str(corrupt)],
        "a data dir that is a file": ["--data-dir", str(as_file)],
        "a port in use": ["--data-dir", str(work / "p"), "--port", str(busy_port)],
        "`--port 70000`": ["--data-dir", str(work / "q"), "--port", "70000"],
    }
    for label, args in cases.items():
        try:
            done = subprocess.run(
                [sys.executable, str(root / "server.py"), *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=20,
                cwd=root,
            )
            lines = done.stderr.strip().splitlines()
            rows.append(
                (
                    f"start-up with {label}",
                    f"exit {done.returncode}, {len(lines)} line(s) on stderr"
                    + (", a traceback" if "Traceback" in done.stderr else ""),
                )
            )
        except subprocess.TimeoutExpired:
            rows.append((f"start-up with {label}", "still running after 20 s"))
    busy.close()
    return rows


async def small_requests(server: Server) -> list[Row]:
    client = AsyncHTTPClient(force_instance=True)
    nul = await client.fetch(server.url("/client/%00"), raise_error=False)
    page = await client.fetch(server.url("/"), raise_error=False)
    client.close()
    form = b'method="post"' in page.body
    return [
        ("`GET /client/%00`", f"{nul.code}"),
        ("the page's login form", f'method="post": {form}'),
    ]


async def run(root: Path) -> list[Row]:
    secret = secrets.token_urlsafe(32)
    rows: list[Row] = []
    help_text = subprocess.run(
        [sys.executable, str(root / "server.py"), "--help"],
        capture_output=True,
        text=True,
        cwd=root,
    ).stdout
    # X-Forwarded-For gives the login flood its many addresses, where supported.
    proxies = (
        ["--trusted-proxies", "127.0.0.1"] if "--trusted-proxies" in help_text else []
    )
    server = Server(root, secret, *proxies).start()
    steps: list[Callable[[Server], Awaitable[list[Row]]]] = [
        big_token,
        one_token_many_sockets,
        malformed_packets,
        cross_origin,
        attachments,
        big_events_flood,
        unfinished_requests,
        login_flood,
        refresh_logout_flood,
        small_requests,
        memory,
        sigterm,
    ]
    try:
        for step in steps:
            print(f"  {step.__name__} ...", flush=True)
            try:
                rows += await step(server)
            except Exception as exc:  # noqa: BLE001: report, go on
                rows.append((step.__name__, f"failed: {type(exc).__name__}: {exc}"))
            if server.proc is not None and server.proc.poll() is not None:
                if step is not sigterm:
                    rows.append(("server", "exited"))
                break
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.stop()
    rows += start_up_mistakes(root)
    return rows


async def memory(server: Server) -> list[Row]:
    rss = rss_bytes(server.pid) / MIB
    return [("the server after all of the above", f"alive, RSS {rss:.0f} MiB")]


def main(
    attacks: Callable[[Path], Coroutine[Any, Any, list[Row]]] | None = None,
    description: str = __doc__.splitlines()[0],
) -> None:
    """Run ``attacks`` (default: this module's) on ``--root``; print the table."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout to run")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    started = time.monotonic()
    rows: list[Row] = asyncio.run((attacks or run)(args.root.resolve()))
    print("\n| attack | the server |\n| --- | --- |")
    for attack, outcome in rows:
        print(f"| {attack} | {outcome} |")
    print(f"\n{time.monotonic() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
