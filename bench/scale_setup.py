"""The processes and phases of the scale-out section (bench/scale_out.py).

``start_targets`` starts, for the whole section, one server process (reached
directly and through one nginx) and two with ``--redis-url`` (behind another
nginx), and one Node load per address clients use. ``Phases`` drives one
target through one round, with the servers' CPU, each core's busy share and
each process's handshake count (``/metrics``) around it.
``revocation_latency`` times a ``/logout`` on one process until the socket on
the other is disconnected (python-socketio's client, in this process).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
import urllib.request
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import socketio
import tornado.httpclient
from measure import settle
from processes import Child, Load, free_port, pin
from servers import ROOT

sys.path.insert(0, str(ROOT))  # tests/daemons.py: Redis and nginx, no pytest
from tests.daemons import NGINX, REDIS_SERVER, RedisProcess, nginx_process

__all__ = [
    "Target",
    "Phases",
    "start_targets",
    "revocation_latency",
    "sign",
    "SOURCES",
    "NGINX",
    "REDIS_SERVER",
    "RedisProcess",
]

SOURCES = [f"127.0.{k}.1" for k in range(1, 9)]  # ip_hash reads three octets
NO_LIMITS = ["--max-connections-per-address", "0", "--max-connections-per-user", "0"]
WAIT = 10.0  # seconds any one revocation may take before it counts as lost
Cores = tuple[int | None, int | None]  # (servers, load + nginx + Redis)


def sign(secret: str, sub: str) -> str:
    """A token shaped like /login's (distinct jti)."""
    now = int(time.time())
    claims = {"sub": sub, "iat": now, "exp": now + 3600, "jti": uuid.uuid4().hex}
    claims.update(email=f"user{sub}@example.com", iss="tornado-socketio-jwt")
    return jwt.encode(claims, secret, algorithm="HS256")


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    ports: list[int]  # its server processes
    pids: list[int]
    load: Load  # aimed at the port clients use (a server's or nginx's)


@dataclass(frozen=True)
class Servers:
    """How to start server processes: secret, core, data and log folders."""

    env: dict[str, str]
    core: int | None
    logs: Path

    def start(
        self, stack: ExitStack, count: int, data: Path, redis_url: str | None = None
    ) -> tuple[list[int], list[int]]:
        """``count`` processes sharing ``data``; (ports, pids)."""
        ports, pids = [], []
        for n in range(count):
            port = free_port()
            argv = [sys.executable, str(ROOT / "server.py"), "--port", str(port)]
            argv += ["--data-dir", str(data), *NO_LIMITS, "--metrics", "on"]
            argv += ["--trusted-proxies", "127.0.0.1"]  # nginx; direct: no header
            argv += ["--redis-url", redis_url] if redis_url else []
            log = self.logs / f"scale-{count}x-{n}.server.log"
            child = Child(pin(argv, self.core), log, self.env, ROOT)
            pids.append(stack.enter_context(child).pid)
            ports.append(port)
        return ports, pids


def start_targets(
    stack: ExitStack, secret: str, redis_url: str, work: Path, logs: Path, cores: Cores
) -> list[Target]:
    """The three set-ups, started; all stopped when ``stack`` closes."""
    servers = Servers(dict(os.environ, JWT_SECRET=secret), cores[0], logs)
    one = servers.start(stack, 1, work / "one")
    two = servers.start(stack, 2, work / "two", redis_url)
    assert NGINX is not None
    fronts = []
    for name, (ports, _) in (("one", one), ("two", two)):
        nginx = nginx_process(NGINX, work / f"nginx-{name}", ports, pin([], cores[1]))
        fronts.append(stack.enter_context(nginx))
    setups = (
        ("direct", "one process, direct", one, one[0][0]),
        ("nginx", "one process behind nginx", one, fronts[0]),
        ("nginx-redis", "two processes behind nginx, --redis-url", two, fronts[1]),
    )
    targets = []
    for key, label, (ports, pids), port in setups:
        config = {
            "url": f"http://127.0.0.1:{port}",
            "tokens": str(work / "tokens.json"),
        }
        argv = ["node", str(ROOT / "bench" / "load.mjs"), json.dumps(config)]
        log = logs / f"scale-{key}.load.log"
        load = stack.enter_context(Load(pin(argv, cores[1]), log, ROOT))
        targets.append(Target(key, label, ports, pids, load))
    return targets


class Phases:
    """The load's commands against one target."""

    def __init__(self, target: Target) -> None:
        self.load, self.pids, self.ports = target.load, target.pids, target.ports

    def cpu(self) -> float:
        return sum(settle(pid) for pid in self.pids)

    def connect(self, group: str, n: int, transport: str, concurrency: int) -> Any:
        command = {"cmd": "connect", "group": group, "n": n, "transport": transport}
        command.update(token="good", concurrency=concurrency, local_addresses=SOURCES)
        return self.load.call(command, timeout=60 + n * 0.05)

    def close(self, group: str) -> None:
        self.load.call({"cmd": "close", "group": group}, timeout=60)

    def warm_up(self) -> None:
        self.connect("warm", 20, "websocket", 5)
        self.connect("warm", 10, "polling", 5)
        self.load.call({"cmd": "rt", "group": "warm", "seconds": 0.5}, timeout=30)
        self.close("warm")

    def handshakes(self, n: int, transport: str, concurrency: int) -> dict[str, Any]:
        before, ticks = self.cpu(), core_ticks()
        reply = self.connect("hs", n, transport, concurrency)
        busy = core_busy(ticks, core_ticks())
        cpu = self.cpu() - before
        self.close("hs")
        if reply["ok"] != n:
            raise RuntimeError(f"{transport} handshakes: {reply}")
        return {**reply, "cpu_us": cpu / n * 1e6, "core_busy": busy}

    def round(self, plan: Any) -> dict[str, Any]:
        """One round: WebSocket and polling handshakes, then round trips."""
        counted = [handshakes_counted(port) for port in self.ports]
        out: dict[str, Any] = {
            "handshake": self.handshakes(
                plan.handshakes, "websocket", plan.concurrency
            ),
            "polling": self.handshakes(plan.polling, "polling", plan.concurrency),
        }
        self.connect("rt", plan.rt_sockets, "websocket", plan.rt_sockets)
        command = {"cmd": "rt", "group": "rt", "seconds": plan.rt_seconds}
        out["rt"] = self.load.call(command, timeout=plan.rt_seconds + 30)
        self.close("rt")
        out["handshakes_per_process"] = [
            handshakes_counted(port) - was
            for port, was in zip(self.ports, counted, strict=True)
        ]
        return out


def core_ticks() -> dict[str, tuple[int, int]]:
    """(busy, total) clock ticks of each CPU so far, from /proc/stat."""
    ticks = {}
    with open("/proc/stat", encoding="ascii") as stat:
        for line in stat:
            name, *fields = line.split()
            if name.startswith("cpu") and name != "cpu":
                values = [int(v) for v in fields[:8]]
                idle = values[3] + values[4]  # idle + iowait
                ticks[name[3:]] = (sum(values) - idle, sum(values))
    return ticks


def core_busy(
    before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]
) -> dict[str, float]:
    """Each CPU's busy share between two readings (any process's work)."""
    return {
        cpu: (after[cpu][0] - busy) / max(after[cpu][1] - total, 1)
        for cpu, (busy, total) in before.items()
        if cpu in after
    }


def handshakes_counted(port: int) -> int:
    """``tsj_handshakes_total`` of the process on ``port`` (its ``/metrics``)."""
    url = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    for line in text.splitlines():
        if line.startswith("tsj_handshakes_total "):
            return int(float(line.split()[1]))
    raise RuntimeError(f"no tsj_handshakes_total in {url}")


async def revocation_latency(
    ports: list[int], secret: str, tries: int, idle: float
) -> dict[str, Any]:
    """``/logout`` on ``ports[0]`` until the socket on ``ports[1]`` is cut,
    ``idle`` seconds after that socket's handshake."""
    http = tornado.httpclient.AsyncHTTPClient()
    times = []
    for n in range(tries):
        token = sign(secret, str(10_000 + n))  # a user each: logout limits
        times.append(await _one_revocation(http, ports, token, idle))
    kept = sorted(t for t in times if t is not None)
    return {
        "tries": tries,
        "idle_s": idle,
        "lost": tries - len(kept),
        "p50_ms": statistics.median(kept) if kept else None,
        "max_ms": kept[-1] if kept else None,
        "all_ms": kept,
    }


async def _one_revocation(
    http: tornado.httpclient.AsyncHTTPClient,
    ports: list[int],
    token: str,
    idle: float,
) -> float | None:
    client = socketio.AsyncClient(reconnection=False)
    cut = asyncio.Event()
    client.on("disconnect", lambda *args: cut.set())
    await client.connect(
        f"http://127.0.0.1:{ports[1]}", auth={"token": token}, transports=["websocket"]
    )
    await asyncio.sleep(idle)
    started = time.perf_counter()
    try:
        response = await http.fetch(
            f"http://127.0.0.1:{ports[0]}/logout",
            method="POST",
            body=b"",
            headers={"Authorization": f"Bearer {token}"},
            raise_error=False,
        )
        if response.code != 204:
            raise RuntimeError(f"/logout answered {response.code}")
        await asyncio.wait_for(cut.wait(), WAIT)
        return (time.perf_counter() - started) * 1000
    except TimeoutError:
        return None
    finally:
        await client.disconnect()
