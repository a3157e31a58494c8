"""Issue 15's holes, measured from outside against a real ``server.py``.

``python bench/engine_room.py [--root CHECKOUT] [--json PATH]``

The attacks that reach into python-engineio's session handling: refused
packets over long-polling, Engine.IO sessions that never CONNECT, the CONNECT
deadline with abandoned polling sessions in its batch, and binary packets left
incomplete on many sockets of one user. Like ``abuse.py`` (whose server and
helpers it uses), it starts ``server.py`` of ``--root`` on a free 127.0.0.1
port and prints one markdown table; point ``--root`` at a ``git worktree`` of
an older commit to measure "before". Bounded: about a minute.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

from abuse import MIB, Row, Server, is_closed, main, open_socket, token
from measure import rss_bytes
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

POLLING = "/socket.io/?EIO=4&transport=polling"
# Engine.IO MESSAGE packets carrying what the packet screen refuses: an unknown
# Socket.IO packet type, too many attachments, no packet type at all, and a
# CONNECT python-socketio cannot decode.
REFUSED = ("49", '451000000-["x",{"_placeholder":true,"num":0}]', "4{not json", "40{x")


async def open_polling(client: AsyncHTTPClient, server: Server) -> str | None:
    """A new Engine.IO session over long-polling: its ``sid``, or ``None``."""
    try:
        response = await client.fetch(server.url(POLLING), request_timeout=5)
    except (HTTPClientError, OSError, asyncio.TimeoutError):
        return None
    body = response.body.decode()
    return str(json.loads(body[1:])["sid"]) if body.startswith("0{") else None


async def post(
    client: AsyncHTTPClient, server: Server, sid: str, body: str, timeout: float
) -> int:
    """POST ``body`` to session ``sid``: the status, 0 when unanswered in time."""
    request = HTTPRequest(
        server.url(f"{POLLING}&sid={sid}"),
        method="POST",
        body=body,
        headers={"Content-Type": "text/plain;charset=UTF-8"},
        request_timeout=timeout,
    )
    try:
        return (await client.fetch(request, raise_error=False)).code
    except (HTTPClientError, OSError, asyncio.TimeoutError):
        return 0  # tornado raises timeouts even with raise_error=False


def tally(codes: list[int]) -> str:
    counts = {code: codes.count(code) for code in sorted(set(codes))}
    return ", ".join(
        f"{n} {'unanswered' if code == 0 else code}" for code, n in counts.items()
    )


async def refused_polling_posts(server: Server) -> list[Row]:
    """300 polling sessions, each POSTing one refused packet (no token at all)."""
    client = AsyncHTTPClient(force_instance=True, max_clients=400)
    before = rss_bytes(server.pid)
    opened: list[str] = []
    codes: list[int] = []
    for _ in range(3):  # in batches of 100, under the per-address limit of 200
        batch = [await open_polling(client, server) for _ in range(100)]
        sids = [sid for sid in batch if sid is not None]
        codes += await asyncio.gather(
            *(
                post(client, server, sid, REFUSED[i % len(REFUSED)], 5)
                for i, sid in enumerate(sids)
            )
        )
        opened += sids
    grown = (rss_bytes(server.pid) - before) / MIB
    # What a client then finds: the session closed, not a 500.
    again = await asyncio.gather(
        *(post(client, server, s, "3", 5) for s in opened[:20])
    )
    client.close()
    return [
        (
            "300 polling sessions without a token, each POSTs one refused packet "
            f"({', '.join(repr(p[:12]) for p in REFUSED)})",
            f"{len(opened)} sessions opened; POSTs answered within 5 s: "
            f"{tally(list(codes))}; server RSS {grown:+.1f} MiB; "
            f"a second POST to 20 of them: {tally(list(again))}",
        )
    ]


async def sessions_without_connect(server: Server) -> list[Row]:
    """One address opens 400 Engine.IO sessions and never CONNECTs (limit 200)."""
    client = AsyncHTTPClient(force_instance=True)
    opened = refused = 0
    for _ in range(400):
        try:
            await client.fetch(server.url(POLLING), request_timeout=5)
            opened += 1
        except HTTPClientError as exc:
            refused += exc.code in (400, 401, 403, 429)
        except (OSError, asyncio.TimeoutError):
            pass
    client.close()
    return [
        (
            "one address opens 400 Engine.IO polling sessions and never CONNECTs "
            "(per-address limit 200)",
            f"{opened} opened, {refused} refused",
        )
    ]


async def deadline_with_abandoned_polls(server: Server) -> list[Row]:
    """16 abandoned polling sessions and 150 silent WebSockets, none CONNECTs:
    how many WebSockets the 10 s CONNECT deadline closes."""
    await asyncio.sleep(11)  # the sessions of the attack before are gone
    client = AsyncHTTPClient(force_instance=True)
    polls = [await open_polling(client, server) for _ in range(16)]
    sockets = [conn for conn in [await open_socket(server) for _ in range(150)] if conn]
    await asyncio.sleep(13)
    still_open = 0
    for conn in sockets:
        still_open += not await is_closed(conn, 0.01)
        conn.close()
    client.close()
    return [
        (
            f"{sum(p is not None for p in polls)} abandoned polling sessions and "
            f"{len(sockets)} silent WebSockets, none sends CONNECT",
            f"{still_open} WebSockets still open 13 s later (CONNECT deadline 10 s)",
        )
    ]


async def incomplete_binary_packets(server: Server) -> list[Row]:
    """One user, 20 sockets, each leaves a 10-attachment packet 9 MB short."""
    before, conns, closed = rss_bytes(server.pid), [], 0
    bearer = token(server.secret, sub="binary")
    for _ in range(20):
        conn = await open_socket(server)
        if conn is None:
            continue
        await conn.write_message("40" + json.dumps({"token": bearer}))
        await conn.read_message()
        header = [{"_placeholder": True, "num": n} for n in range(10)]
        try:
            await conn.write_message("4510-" + json.dumps(["upload", *header]))
            for _ in range(9):
                await conn.write_message(b"\0" * 999_999, binary=True)
        except Exception:  # noqa: BLE001: the server closing is the point
            pass
        conns.append(conn)
    await asyncio.sleep(1)
    grown = (rss_bytes(server.pid) - before) / MIB
    for conn in conns:
        closed += await is_closed(conn, 0.05)
        conn.close()
    return [
        (
            "one user's 20 sockets each leave a 10-attachment BINARY_EVENT "
            "unfinished after 9 x 1 MB",
            f"server RSS {grown:+.0f} MiB while held; "
            f"{closed} of {len(conns)} sockets closed by the server",
        )
    ]


async def run(root: Path) -> list[Row]:
    server = Server(root, secrets.token_urlsafe(32)).start()
    steps: list[Callable[[Server], Awaitable[list[Row]]]] = [
        refused_polling_posts,
        incomplete_binary_packets,
        sessions_without_connect,
        deadline_with_abandoned_polls,
    ]
    rows: list[Row] = []
    try:
        for step in steps:
            print(f"  {step.__name__} ...", flush=True)
            try:
                rows += await step(server)
            except Exception as exc:  # noqa: BLE001: report, go on
                rows.append((step.__name__, f"failed: {type(exc).__name__}: {exc}"))
        text = server.log.read_text()
        rows.append(("the server's log", f"{text.count('Traceback')} tracebacks"))
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.stop()
    return rows


if __name__ == "__main__":
    main(run, __doc__.splitlines()[0])
