"""Connection state recovery tests: a TCP proxy that cuts the transport, and
the official Node client driven line by line (tests/node/recovery.mjs)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from tests.requirements import NODE
from tests.scale_support import Cluster
from tests.support import connected_client

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "node" / "recovery.mjs"
LINE_TIMEOUT_S = 10.0
CHUNK = 65536


class CuttableProxy:
    """Forwards 127.0.0.1:<port> to the server until :meth:`cut`.

    ``cut()`` drops every client connection at once (the client sees its
    transport die) and refuses new ones until :meth:`heal`. ``silent=True``
    leaves the server's side of each connection open and unread, as a network
    drop does: the server notices nothing until its ping timeout.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.down = False
        self._server: asyncio.Server | None = None
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._orphans: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> CuttableProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _accept(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if self.down:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port
            )
        except OSError:
            writer.transport.abort()
            return
        if self.down:  # cut while the upstream connection was being opened
            writer.transport.abort()
            up_writer.transport.abort()
            return
        link = (writer, up_writer)
        self._links.add(link)
        pipes = [
            asyncio.ensure_future(_pipe(reader, up_writer)),
            asyncio.ensure_future(_pipe(up_reader, writer)),
        ]
        for task in pipes:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        if link in self._links:  # ended on its own, not cut
            self._links.discard(link)
            for side in link:
                side.transport.abort()

    def cut(self, silent: bool = False) -> None:
        self.down = True
        links, self._links = self._links, set()
        for task in list(self._tasks):
            task.cancel()
        for client, upstream in links:
            client.transport.abort()
            if silent:
                self._orphans.append(upstream)
            else:
                upstream.transport.abort()

    def heal(self) -> None:
        self.down = False

    async def close(self) -> None:
        self.cut()
        for upstream in self._orphans:
            upstream.transport.abort()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()


class NodeSocket:
    """tests/node/recovery.mjs: one reconnecting socket.io-client socket."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[dict[str, Any]] = []

    async def next(
        self, event: str, where: Callable[[dict[str, Any]], bool] = lambda _: True
    ) -> dict[str, Any]:
        """The next line of ``event`` (that ``where`` accepts); earlier lines kept."""
        assert self.process.stdout is not None
        while True:
            try:
                raw = await asyncio.wait_for(
                    self.process.stdout.readline(), LINE_TIMEOUT_S
                )
            except asyncio.TimeoutError:
                raise AssertionError(f"no {event} line; so far: {self.lines}") from None
            assert raw, f"recovery.mjs ended; so far: {self.lines}"
            line = json.loads(raw)
            self.lines.append(line)
            if line["event"] == event and where(line):
                return line

    async def command(self, cmd: str, **fields: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps({"cmd": cmd, **fields}) + "\n").encode())
        await self.process.stdin.drain()

    def messages(self) -> list[Any]:
        """The ``message`` events seen so far: each one's argument list."""
        return [line["args"] for line in self.lines if line["event"] == "message"]

    async def finish(self) -> list[dict[str, Any]]:
        """Exit the client and return every line it printed."""
        assert self.process.stdout is not None
        with contextlib.suppress(ConnectionError):
            await self.command("exit")
        rest, _ = await asyncio.wait_for(self.process.communicate(), LINE_TIMEOUT_S)
        self.lines.extend(json.loads(raw) for raw in rest.splitlines() if raw.strip())
        return self.lines


@contextlib.asynccontextmanager
async def node_socket(
    url: str, token: str, **scenario: Any
) -> AsyncIterator[NodeSocket]:
    assert NODE is not None
    process = await asyncio.create_subprocess_exec(
        NODE,
        str(SCRIPT),
        json.dumps({"url": url, "token": token, **scenario}),
        cwd=str(ROOT),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        yield NodeSocket(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


@contextlib.asynccontextmanager
async def proxy_to(port: int) -> AsyncIterator[CuttableProxy]:
    proxy = await CuttableProxy(port).start()
    try:
        yield proxy
    finally:
        await proxy.close()


def ack_of(frame: str) -> dict[str, Any]:
    """The CONNECT acknowledgement in a raw frame (``40{...}``)."""
    assert frame.startswith("40{"), frame
    answer = json.loads(frame[2:])
    assert isinstance(answer, dict)
    return answer


def event_of(frame: str) -> list[Any]:
    """``[event, *args]`` of a raw EVENT frame (``42[...]``)."""
    assert frame.startswith("42["), frame
    data = json.loads(frame[2:])
    assert isinstance(data, list)
    return data


async def say_through(cluster: Cluster, index: int, sub: str, *lines: str) -> None:
    """Chat ``lines`` as user ``sub`` through process ``index`` (to every
    authenticated socket), each acknowledged."""
    token = cluster.token(sub=sub)
    async with connected_client(cluster.url(index), auth={"token": token}) as talker:
        assert talker.connected
        for text in lines:
            ack = await talker.client.call("message", {"text": text}, timeout=5)
            assert ack == {"ok": True}


async def until_answer(raw: Any) -> list[str]:
    """Every frame of a raw socket up to its CONNECT's answer (ack or
    refusal), or to its close."""
    frames = [await raw.read()]
    while not frames[-1].startswith(("40", "44")) and frames[-1] != "":
        frames.append(await raw.read())
    return frames


async def frames_until_answer(raw: Any, auth: dict[str, Any]) -> list[str]:
    """Send CONNECT with ``auth``; every frame up to its ack or refusal."""
    await raw.send("40" + json.dumps(auth))
    return await until_answer(raw)
