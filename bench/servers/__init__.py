"""The servers under test, and which phases of the bench each one runs.

Each script here is a complete server started as a subprocess by the bench;
``ServerSpec.argv`` builds its command line.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ServerSpec", "SPECS", "ROOT"]

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

ALL = frozenset({"ramp", "handshake", "polling", "rejected", "rt"})
DEFAULTS = frozenset({"handshake", "rt"})  # what a default switch may change


@dataclass(frozen=True)
class ServerSpec:
    key: str
    label: str
    argv: Callable[[int, Path], list[str]]  # (port, data dir) -> command line
    phases: frozenset[str]
    max_runs: int = 99  # secondary variants run fewer times than the plan's runs
    full_ramp: bool = False  # ramps to 10,000 sockets, not 1,000 (first run only)


def library(*extra: str) -> Callable[[int, Path], list[str]]:
    """server.py's command line, with ``extra`` options."""

    def argv(port: int, data: Path) -> list[str]:
        return [
            sys.executable,
            str(ROOT / "server.py"),
            "--port",
            str(port),
            "--data-dir",
            str(data),
            # All the load comes from 127.0.0.1, a few users: no socket limits.
            "--max-connections-per-user",
            "0",
            "--max-connections-per-address",
            "0",
            *extra,
        ]

    return argv


SPECS: tuple[ServerSpec, ...] = (
    ServerSpec(
        "library",
        "this server (server.py)",
        library(),
        ALL | {"storm"},
        full_ramp=True,
    ),
    ServerSpec(
        "handwritten",
        "hand-written (tornado + python-socketio + PyJWT)",
        lambda port, data: [
            sys.executable,
            str(HERE / "handwritten.py"),
            "--port",
            str(port),
        ],
        ALL,
        full_ramp=True,
    ),
    ServerSpec(
        "bare",
        "bare python-socketio, no auth",
        lambda port, data: [
            sys.executable,
            str(HERE / "bare.py"),
            "--port",
            str(port),
        ],
        ALL - {"rejected"},
    ),
    ServerSpec(
        "node",
        "Node express + socket.io 4.8 + jsonwebtoken",
        lambda port, data: ["node", str(HERE / "node_jwt.mjs"), "--port", str(port)],
        ALL,
        full_ramp=True,
    ),
    ServerSpec(
        "floor",
        "plain Tornado WebSocket, no Engine.IO (the floor)",
        lambda port, data: [
            sys.executable,
            str(HERE / "floor.py"),
            "--port",
            str(port),
        ],
        ALL - {"polling"},
        full_ramp=True,
    ),
    ServerSpec(
        "handwritten-nodeflate",
        "hand-written, permessage-deflate off",
        lambda port, data: [
            sys.executable,
            str(HERE / "handwritten.py"),
            "--port",
            str(port),
            "--no-deflate",
        ],
        frozenset({"ramp", "rt"}),
        max_runs=1,
    ),
    ServerSpec(
        "library-open-login",
        "this server, login limits raised (argon2 on every attempt)",
        lambda port, data: [
            sys.executable,
            str(HERE / "library_open_login.py"),
            "--port",
            str(port),
            "--data-dir",
            str(data),
        ],
        frozenset({"storm"}),
        max_runs=2,
    ),
    # Each default measured against itself turned off (README: Performance).
    ServerSpec(
        "library-asyncio",
        "this server, --event-loop asyncio (uvloop off)",
        library("--event-loop", "asyncio"),
        DEFAULTS,
        max_runs=2,
    ),
    ServerSpec(
        "library-stdlib-json",
        "this server, --json-library json (orjson off)",
        library("--json-library", "json"),
        DEFAULTS,
        max_runs=2,
    ),
)
