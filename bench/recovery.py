"""Benchmark: connection state recovery, this server beside Node socket.io 4.8
(``connectionStateRecovery`` on).

Each server in turn on 127.0.0.1: R receivers (the official socket.io-client,
bench/recovery_load.mjs) behind a TCP proxy, one sender emitting a burst of
chat messages; during the burst the proxy drops every receiver and refuses
it for 3 s. Reported: the share of messages delivered (exactly once, in
order), how many sockets came back recovered, the recovery latency (from the
proxy letting them back to the recovered ``connect``; it includes the
client's 100 ms reconnection delay), and the server's RSS growth from the cut
to the moment the receivers are let back, per receiver (the buffer and the
saved sessions; a rough figure: it includes whatever else the server
allocated, and a shared machine's noise).

Then across processes: two processes of this server sharing a redis-server
(``--redis-url``). The receivers connect to process A through the proxy; the
burst is sent through A and B in turn; after the cut the proxy lets them back
to B. In order means in the buffer's order (the offset each event carries),
the one order every process delivers in; the RSS growth is that of both
processes and redis-server, which holds the buffer and the saved sessions.
Skipped (with a note) without redis-server.
One section of ``make bench``; alone: ``python bench/recovery.py [--quick]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from processes import Child, free_port

ROOT = Path(__file__).resolve().parent.parent
LOAD = ROOT / "bench" / "recovery_load.mjs"
NODE_SERVER = ROOT / "bench" / "servers" / "node_recovery.mjs"
CUT_MS = 3000
LOAD_TIMEOUT_S = 90
THIS_SERVER = "this server"
NODE = "Node socket.io 4.8"
CLUSTER = "this server, 2 processes + Redis (A, then B)"


def tokens(secret: str, count: int) -> list[str]:
    now = int(time.time())
    return [
        jwt.encode(
            {
                "sub": str(i + 1),
                "email": f"user{i}@example.com",
                "iat": now,
                "exp": now + 3600,
                "jti": uuid.uuid4().hex,
                "iss": "tornado-socketio-jwt",
            },
            secret,
            algorithm="HS256",
        )
        for i in range(count)
    ]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def run_one(argv: list[str], plan: dict[str, Any], workdir: Path, name: str) -> Any:
    """One server under the load: the load's result, RSS before and after."""
    secret = secrets.token_urlsafe(32)
    port = free_port()
    env = {**os.environ, "JWT_SECRET": secret}
    with Child(
        [*argv, "--port", str(port)], workdir / f"{name}.log", env, ROOT
    ) as server:
        scenario = {**plan, "port": port}
        return run_load(scenario, tokens(secret, plan["receivers"] + 1), [server.pid])


def run_cluster(plan: dict[str, Any], workdir: Path, server: list[str]) -> Any:
    """Two processes of this server (``server``: its command line) sharing a
    redis-server, under the load: receivers on A, back on B after the cut."""
    sys.path.insert(0, str(ROOT))  # tests/daemons.py: Redis, no pytest
    from tests.daemons import REDIS_SERVER, RedisProcess

    if REDIS_SERVER is None:
        return None
    secret = secrets.token_urlsafe(32)
    env = {**os.environ, "JWT_SECRET": secret}
    redis = RedisProcess(REDIS_SERVER, workdir)
    redis.start()
    try:
        assert redis.process is not None
        with contextlib.ExitStack() as stack:
            ports, pids = [], [redis.process.pid]
            for name in ("a", "b"):
                port = free_port()
                argv = [*server, "--port", str(port), "--redis-url", redis.url]
                log = workdir / f"cluster-{name}.log"
                pids.append(stack.enter_context(Child(argv, log, env, ROOT)).pid)
                ports.append(port)
            scenario = {
                **plan,
                "port": ports[0],
                "healPort": ports[1],
                "senderPorts": ports,
                "orderBy": "offset",
            }
            return run_load(scenario, tokens(secret, plan["receivers"] + 1), pids)
    finally:
        redis.stop()


def run_load(scenario: dict[str, Any], signed: list[str], pids: list[int]) -> Any:
    """bench/recovery_load.mjs against a running server: its result, and the
    RSS of ``pids`` (summed) at the cut and when the receivers are let back."""
    load = subprocess.Popen(
        ["node", str(LOAD), json.dumps({**scenario, "tokens": signed})],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )
    figures: dict[str, Any] = {}
    deadline = time.monotonic() + LOAD_TIMEOUT_S
    try:
        assert load.stdout is not None
        for raw in load.stdout:
            line = json.loads(raw)
            if line["phase"] == "cut":
                figures["rss_at_cut_kib"] = sum(rss_kib(pid) for pid in pids)
            elif line["phase"] == "healed":  # just before they come back
                figures["rss_away_kib"] = sum(rss_kib(pid) for pid in pids)
            elif line["phase"] == "result":
                figures.update(line)
            if time.monotonic() > deadline:
                raise RuntimeError("the recovery load did not finish")
    finally:
        if load.poll() is None:
            load.kill()
        load.wait()
    if "delivered" not in figures:
        raise RuntimeError(f"the recovery load gave no result (exit {load.returncode})")
    return figures


def measure(quick: bool = False) -> dict[str, Any]:
    plan = {
        "receivers": 20 if quick else 50,
        "burst": 200 if quick else 400,
        "rate": 100,
        "cutAt": 50,
        "cutMs": CUT_MS,
    }
    ours = [sys.executable, str(ROOT / "server.py"), "--log-level", "warning"]
    servers = {THIS_SERVER: ours, NODE: ["node", str(NODE_SERVER)]}
    results: dict[str, Any] = {"plan": plan}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        servers[THIS_SERVER] += ["--data-dir", str(workdir / "data")]
        for name, argv in servers.items():
            results[name] = run_one(argv, plan, workdir, name.split()[0])
        shared = [*ours, "--data-dir", str(workdir / "shared")]
        cluster = run_cluster(plan, workdir, shared)
        if cluster is None:
            results["notes"] = ["across processes: skipped, no redis-server"]
        else:
            results[CLUSTER] = cluster
    return results


def report(results: dict[str, Any]) -> str:
    plan = results["plan"]
    lines = [
        f"{plan['receivers']} receivers, a burst of {plan['burst']} broadcasts at "
        f"{plan['rate']}/s, every receiver cut for {plan['cutMs'] / 1000:.0f} s from "
        f"message {plan['cutAt']}.",
        "",
        "| server | delivered | duplicates | out of order | recovered | "
        "latency median / max (ms) | RSS while away, per receiver (KiB) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, figures in results.items():
        if name in ("plan", "notes"):
            continue
        latencies = figures.get("latenciesMs") or [0.0]
        grown = figures.get("rss_away_kib", 0) - figures.get("rss_at_cut_kib", 0)
        lines.append(
            f"| {name} | {100 * figures['delivered'] / figures['expected']:.1f} % | "
            f"{figures['duplicates']} | {figures['outOfOrder']} | "
            f"{figures['recovered']}/{plan['receivers']} | "
            f"{statistics.median(latencies):.0f} / {max(latencies):.0f} | "
            f"{grown / plan['receivers']:.1f} |"
        )
    if CLUSTER in results:
        lines += [
            "",
            f"{CLUSTER}: the receivers on process A through the proxy, the burst "
            "sent through A and B in turn, the receivers let back to B; in order "
            "by offset (the buffer's order); RSS of both processes and "
            "redis-server (the buffer and the saved sessions are in Redis).",
        ]
    lines += [f"{note}." for note in results.get("notes", [])]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sockets")
    args = parser.parse_args()
    print(report(measure(args.quick)))


if __name__ == "__main__":
    main()
