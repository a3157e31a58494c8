"""Where each byte and microsecond of a socket goes: ``python bench/anatomy.py``.

For this server (server.py, ``--event-loop asyncio`` so that the loop's own
calls are Python and counted), the bare python-socketio server and the plain
Tornado floor (bench/servers/floor.py), each run under bench/anatomy_probe.py
and driven by the bench's Node load (the official client):

- **memory**: tracemalloc snapshots with 0 and N idle authenticated
  WebSockets; the difference per socket, grouped by who allocated it (the
  innermost frame outside the standard library: Tornado, python-engineio,
  python-socketio, this library, PyJWT) and by site;
- **one event + ack**: cProfile over ``whoami`` round trips from one socket;
  per round trip: function calls, tasks created, loop callbacks scheduled,
  timers armed and cancelled, queue operations, ``wait_for`` calls;
- **one handshake**: cProfile over WebSocket handshakes; per handshake: calls
  and the time spent in each package's own code.

Writes bench/results/anatomy.json and anatomy.md (git-ignored, like report.*)
for the docs' performance page. tracemalloc and cProfile slow the server:
only the counts and the shares are meant to be compared, never the times
against the bench's.

``python bench/anatomy.py [--sockets N] [--only library,bare,floor]``
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import secrets
import signal
import sys
import sysconfig
import tempfile
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path
from typing import Any

from measure import rss_bytes, settle
from processes import Child, Load, cores, free_port, pin
from run import RESULTS, make_tokens, raise_open_files
from servers import HERE, ROOT

STDLIB = sysconfig.get_paths()["stdlib"]
OWNERS = (
    ("tornado", "/tornado/"),
    ("python-engineio", "/engineio/"),
    ("python-socketio", "/socketio/"),
    ("this library", str(ROOT / "handlers") + "/"),
    ("PyJWT", "/jwt/"),
    ("the bench server", str(HERE) + "/"),
)
# Loop and asyncio operations counted per round trip: (label, file tail, name).
HOPS = (
    ("tasks created", "base_events.py", "create_task"),
    ("loop callbacks scheduled (call_soon)", "base_events.py", "call_soon"),
    ("timers armed (call_at)", "base_events.py", "call_at"),
    ("timers cancelled", "events.py", "cancel"),
    ("asyncio.Queue put", "queues.py", "put"),
    ("asyncio.Queue put_nowait", "queues.py", "put_nowait"),
    ("asyncio.Queue get", "queues.py", "get"),
    ("asyncio.wait_for", "tasks.py", "wait_for"),
    ("ensure_future", "tasks.py", "ensure_future"),
)
SERVERS = {
    "library": lambda port, data: [
        str(ROOT / "server.py"),
        "--port",
        str(port),
        "--data-dir",
        str(data),
        "--max-connections-per-user",
        "0",
        "--max-connections-per-address",
        "0",
        "--event-loop",
        "asyncio",
    ],
    "bare": lambda port, data: [
        str(HERE / "bare.py"),
        "--port",
        str(port),
        "--no-deflate",
    ],
    "handwritten": lambda port, data: [
        str(HERE / "handwritten.py"),
        "--port",
        str(port),
        "--no-deflate",
    ],
    "floor": lambda port, data: [str(HERE / "floor.py"), "--port", str(port)],
}


def owner(filename: str) -> str:
    if filename == "~":
        return "C functions (builtins, orjson, uvloop)"
    for name, marker in OWNERS:
        if marker in filename:
            return name
    return "other"


def site_of(frames: Any) -> tuple[str, str, str]:
    """(owner, site, standard-library kind) of one allocation's traceback."""
    kind = ""
    for frame in reversed(frames):  # the innermost frame first
        if frame.filename.startswith(STDLIB) and "site-packages" not in frame.filename:
            kind = kind or f"{Path(frame.filename).name}"
            continue
        name = owner(frame.filename)
        short = frame.filename.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
        return name, f"{short}:{frame.lineno}", kind
    return "Python itself", kind or "?", kind


def grouped(path: Path) -> dict[tuple[str, str, str], list[int]]:
    snapshot = tracemalloc.Snapshot.load(str(path))
    out: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for stat in snapshot.statistics("traceback"):
        key = site_of(stat.traceback)
        out[key][0] += stat.size
        out[key][1] += stat.count
    return out


def memory(before: Path, after: Path, sockets: int) -> dict[str, Any]:
    a, b = grouped(before), grouped(after)
    sites: list[dict[str, Any]] = []
    for key in set(a) | set(b):
        size = b.get(key, [0, 0])[0] - a.get(key, [0, 0])[0]
        count = b.get(key, [0, 0])[1] - a.get(key, [0, 0])[1]
        sites.append(
            {
                "owner": key[0],
                "site": key[1],
                "via": key[2],
                "bytes_per_socket": size / sockets,
                "blocks_per_socket": count / sockets,
            }
        )
    sites.sort(key=lambda s: -s["bytes_per_socket"])
    owners: dict[str, float] = defaultdict(float)
    for site in sites:
        owners[site["owner"]] += site["bytes_per_socket"]
    return {
        "traced_kib_per_socket": sum(owners.values()) / 1024,
        "owners_kib": {
            k: v / 1024 for k, v in sorted(owners.items(), key=lambda kv: -kv[1])
        },
        "sites": [s for s in sites if abs(s["bytes_per_socket"]) >= 64],
    }


def calls(path: Path, per: int) -> dict[str, Any]:
    stats = pstats.Stats(str(path))
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    hops = {}
    for label, tail, name in HOPS:
        n = sum(
            v[1] for (f, _, fn), v in raw.items() if f.endswith(tail) and fn == name
        )
        hops[label] = n / per
    own: dict[str, float] = defaultdict(float)
    owner_calls: dict[str, float] = defaultdict(float)
    library: dict[str, float] = defaultdict(float)
    total_calls = 0
    for (filename, line, name), (_, ncalls, tottime, _, _) in raw.items():
        who = owner(filename) if not filename.startswith(STDLIB) else "stdlib"
        own[who] += tottime
        owner_calls[who] += ncalls / per
        if who == "this library":
            short = filename.replace(str(ROOT / "handlers") + "/", "")
            library[f"{short}:{line}({name})"] += ncalls / per
        total_calls += ncalls
    total = sum(own.values()) or 1.0
    top = sorted(raw.items(), key=lambda kv: -kv[1][3])[:25]
    return {
        "calls": total_calls / per,
        "hops": hops,
        "own_time_share": {
            k: v / total for k, v in sorted(own.items(), key=lambda kv: -kv[1])
        },
        "calls_by_owner": dict(sorted(owner_calls.items(), key=lambda kv: -kv[1])),
        "library_calls": dict(sorted(library.items(), key=lambda kv: -kv[1])[:30]),
        "top_cumulative": [
            {
                "function": f"{Path(f).name}:{line}({fn})",
                "calls": v[1] / per,
                "cum_us": v[3] / per * 1e6,
            }
            for (f, line, fn), v in top
        ],
    }


def wait_for(path: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {path.name} from the probe")
        time.sleep(0.1)


def examine(
    key: str, sockets: int, rt_seconds: float, secret: str, tokens: Path
) -> dict[str, Any]:
    port = free_port()
    server_core, load_core = cores()
    env = dict(os.environ, JWT_SECRET=secret)
    with tempfile.TemporaryDirectory(prefix="anatomy-") as tmp:
        out = Path(tmp)
        argv = [sys.executable, str(HERE.parent / "anatomy_probe.py"), str(out)]
        argv += SERVERS[key](port, out)
        load_argv = [
            "node",
            str(ROOT / "bench" / "load.mjs"),
            json.dumps({"url": f"http://127.0.0.1:{port}", "tokens": str(tokens)}),
        ]
        log = RESULTS / "logs" / f"anatomy-{key}"
        with (
            Child(
                pin(argv, server_core), log.with_suffix(".server.log"), env, ROOT
            ) as server,
            Load(pin(load_argv, load_core), log.with_suffix(".load.log"), ROOT) as load,
        ):
            pid = server.pid

            def connect(group: str, n: int) -> dict[str, Any]:
                reply = load.call(
                    {
                        "cmd": "connect",
                        "group": group,
                        "n": n,
                        "transport": "websocket",
                        "token": "good",
                        "concurrency": 20,
                    },
                    timeout=120 + n * 0.1,
                )
                if reply.get("ok") != n:
                    raise RuntimeError(f"{key}: {reply}")
                return reply

            def signal_and_wait(sig: int, name: str) -> Path:
                os.kill(pid, sig)
                wait_for(out / f"{name}.done")
                return out / f"{name.replace('.done', '')}"

            # Warm up: imports, caches, first allocations.
            connect("warm", 20)
            load.call({"cmd": "rt", "group": "warm", "seconds": 0.5}, timeout=30)
            load.call({"cmd": "close", "group": "warm"}, timeout=30)
            settle(pid)
            rss0 = rss_bytes(pid)
            signal_and_wait(signal.SIGUSR1, "snapshot-0")
            connect("idle", sockets)
            settle(pid)
            rss1 = rss_bytes(pid)
            signal_and_wait(signal.SIGUSR1, "snapshot-1")
            mem = memory(out / "snapshot-0.pickle", out / "snapshot-1.pickle", sockets)
            mem["rss_kib_per_socket_traced_run"] = (rss1 - rss0) / sockets / 1024
            load.call({"cmd": "close", "group": "idle"}, timeout=60)
            settle(pid, timeout=60)
            # One socket, round trips one after another.
            connect("rt", 1)
            os.kill(pid, signal.SIGUSR2)
            time.sleep(0.3)
            reply = load.call(
                {"cmd": "rt", "group": "rt", "seconds": rt_seconds}, timeout=60
            )
            signal_and_wait(signal.SIGUSR2, "profile-0")
            rt = calls(out / "profile-0.pstats", max(reply["count"], 1))
            rt["round_trips"] = reply["count"]
            load.call({"cmd": "close", "group": "rt"}, timeout=60)
            settle(pid)
            # Handshakes, one after another.
            handshakes = 200
            os.kill(pid, signal.SIGUSR2)
            time.sleep(0.3)
            load.call(
                {
                    "cmd": "connect",
                    "group": "hs",
                    "n": handshakes,
                    "transport": "websocket",
                    "token": "good",
                    "concurrency": 1,
                },
                timeout=120,
            )
            signal_and_wait(signal.SIGUSR2, "profile-1")
            hs = calls(out / "profile-1.pstats", handshakes)
            load.call({"cmd": "close", "group": "hs"}, timeout=60)
    return {"memory": mem, "round_trip": rt, "handshake": hs}


def markdown(document: dict[str, Any]) -> str:
    sockets = document["sockets"]
    keys = list(document["servers"])
    out = [
        f"# Anatomy of an idle socket and of one round trip ({sockets:,} idle sockets)",
        "",
        f"`{document['command']}`; tracemalloc (25 frames) and cProfile on, so the",
        "counts and shares compare, the times do not.",
        "",
        "## Memory per idle authenticated WebSocket (KiB, tracemalloc)",
        "",
        "| owner | " + " | ".join(keys) + " |",
        "| --- |" + " ---: |" * len(keys),
    ]
    owners: list[str] = []
    for key in keys:
        for name in document["servers"][key]["memory"]["owners_kib"]:
            if name not in owners:
                owners.append(name)
    for name in owners:
        cells = [
            f"{document['servers'][k]['memory']['owners_kib'].get(name, 0.0):.2f}"
            for k in keys
        ]
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    out.append(
        "| **traced total** | "
        + " | ".join(
            f"**{document['servers'][k]['memory']['traced_kib_per_socket']:.2f}**"
            for k in keys
        )
        + " |"
    )
    out.append(
        "| RSS (this traced run) | "
        + " | ".join(
            f"{document['servers'][k]['memory']['rss_kib_per_socket_traced_run']:.1f}"
            for k in keys
        )
        + " |"
    )
    for key in keys:
        out += ["", f"### {key}: allocation sites (bytes per socket, 256 and more)", ""]
        out += [
            "| owner | site | via | bytes | blocks |",
            "| --- | --- | --- | ---: | ---: |",
        ]
        for site in document["servers"][key]["memory"]["sites"]:
            if site["bytes_per_socket"] >= 256:
                size, blocks = site["bytes_per_socket"], site["blocks_per_socket"]
                out.append(
                    f"| {site['owner']} | `{site['site']}` | {site['via']} | "
                    f"{size:.0f} | {blocks:.1f} |"
                )
    for phase, title in (
        ("round_trip", "One `whoami` + ack"),
        ("handshake", "One WebSocket handshake"),
    ):
        out += [
            "",
            f"## {title}: per operation",
            "",
            "| | " + " | ".join(keys) + " |",
            "| --- |" + " ---: |" * len(keys),
        ]
        out.append(
            "| function calls | "
            + " | ".join(f"{document['servers'][k][phase]['calls']:.0f}" for k in keys)
            + " |"
        )
        for label, _, _ in HOPS:
            out.append(
                f"| {label} | "
                + " | ".join(
                    f"{document['servers'][k][phase]['hops'][label]:.1f}" for k in keys
                )
                + " |"
            )
        shares: list[str] = []
        for k in keys:
            for name in document["servers"][k][phase]["own_time_share"]:
                if name not in shares:
                    shares.append(name)
        callers: list[str] = []
        for k in keys:
            for name in document["servers"][k][phase]["calls_by_owner"]:
                if name not in callers:
                    callers.append(name)
        for name in callers:
            cells = [
                f"{document['servers'][k][phase]['calls_by_owner'].get(name, 0.0):.0f}"
                for k in keys
            ]
            out.append(f"| calls in {name} | " + " | ".join(cells) + " |")
        for name in shares:
            cells = [
                f"{document['servers'][k][phase]['own_time_share'].get(name, 0.0):.0%}"
                for k in keys
            ]
            out.append(f"| own time in {name} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--rt-seconds", type=float, default=3.0)
    parser.add_argument("--only", default="library,bare,floor")
    args = parser.parse_args()
    raise_open_files(2 * args.sockets + 1000)
    (RESULTS / "logs").mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    tokens = RESULTS / "anatomy-tokens.json"
    make_tokens(secret, args.sockets + 400, tokens)
    document: dict[str, Any] = {
        "command": " ".join(["python", *sys.argv]),
        "sockets": args.sockets,
        "servers": {},
    }
    try:
        for key in args.only.split(","):
            print(f"anatomy of {key} ...", flush=True)
            document["servers"][key] = examine(
                key, args.sockets, args.rt_seconds, secret, tokens
            )
    finally:
        tokens.unlink(missing_ok=True)
    (RESULTS / "anatomy.json").write_text(json.dumps(document, indent=1) + "\n")
    text = markdown(document)
    (RESULTS / "anatomy.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
