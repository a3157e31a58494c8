"""Benchmark: one server process against two behind nginx with Redis.

Three set-ups of this server (server.py), each driven by the same Node load
(bench/load.mjs, the official socket.io-client) on 127.0.0.1:

- ``direct``: one process, no proxy;
- ``nginx``: one process behind nginx (deploy/nginx.conf, ports changed);
- ``nginx-redis``: two processes with ``--redis-url`` behind the same nginx.
  nginx's ``ip_hash`` keeps each client on one process (polling needs it), so
  the load comes from eight source addresses (127.0.1.1 to 127.0.8.1) to
  reach both; the split is read from each process's ``/metrics``.

All processes start once; then rounds run the set-ups in turn (so that other
work on the machine hits all of them alike), and the table shows medians.
Each round measures WebSocket and polling handshakes per second (with
latency percentiles), the servers' CPU per handshake and each core's busy
share, and ``whoami`` round trips. At the end, a cross-process revocation is
timed (``/logout`` of a token on process A until its socket on process B is
disconnected). Every server process is pinned to the same core, the load,
nginx and Redis to the other: two processes then share the one core that one
had, so the figures show what the extra hop and Redis cost, not capacity.

Not a test. One section of ``make bench`` (bench/run.py; ``--no-scale``
leaves it out); alone: ``python bench/scale_out.py [--quick]``, which writes
bench/results/scale_out.{md,json}. Without redis-server, nginx or Node it
says so and measures nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from measure import median
from processes import cores, pin
from scale_setup import (
    NGINX,
    REDIS_SERVER,
    SOURCES,
    Phases,
    RedisProcess,
    Target,
    revocation_latency,
    sign,
    start_targets,
)
from servers import ROOT

__all__ = ["ScalePlan", "missing", "run", "report"]

# Seconds between the socket's handshake and the logout. Right after it, the
# server's last frame is still unacknowledged (the client delays its ACK up
# to 40 ms): without TCP_NODELAY on the WebSocket, Nagle's algorithm held
# token_revoked until that ACK (p50 43 ms); this row shows it stays fixed.
REVOCATION_IDLE = {"idle": 0.25, "after_handshake": 0.0}


@dataclass(frozen=True)
class ScalePlan:
    rounds: int = 3  # each set-up, in turn
    handshakes: int = 300  # WebSocket handshakes per round
    polling: int = 100
    concurrency: int = 10  # handshakes in flight
    rt_sockets: int = 10  # each with one whoami in flight
    rt_seconds: float = 2.0
    revocations: int = 20

    @classmethod
    def quick(cls) -> ScalePlan:
        return cls(rounds=1, handshakes=150, polling=50, revocations=10)


def missing() -> str | None:
    """Why the section cannot run, or ``None``."""
    if REDIS_SERVER is None:
        return "redis-server is not installed (apt-get install redis-server)"
    if NGINX is None:
        return "nginx is not installed (apt-get install nginx)"
    if shutil.which("node") is None:
        return "node is not installed"
    if not (ROOT / "node_modules" / "socket.io-client").is_dir():
        return "node_modules/socket.io-client is missing (run npm ci)"
    return None


def run(plan: ScalePlan, logs: Path) -> dict[str, Any]:
    """The section's figures; ``{"skipped": why}`` when it cannot run, and
    ``{"error": ...}`` (never an exception) when it fails."""
    reason = missing()
    if reason is not None:
        print(f"scale-out section skipped: {reason}")
        return {"skipped": reason}
    started = time.monotonic()
    server_core, load_core = cores()
    figures: dict[str, Any] = {"plan": asdict(plan), "sources": SOURCES}
    figures["pinning"] = {"servers": server_core, "rest": load_core}
    figures["loadavg_before"] = os.getloadavg()[0]
    print(f"scale-out (servers on core {server_core}, the rest on {load_core}):")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            figures.update(measure(plan, Path(tmp), logs, (server_core, load_core)))
    except (RuntimeError, OSError) as exc:
        print(f"scale-out section failed: {exc}")
        figures["error"] = str(exc)
    figures["loadavg_after"] = os.getloadavg()[0]
    figures["seconds"] = time.monotonic() - started
    return figures


def measure(
    plan: ScalePlan, work: Path, logs: Path, core: tuple[int | None, int | None]
) -> dict[str, Any]:
    assert REDIS_SERVER is not None
    secret = secrets.token_urlsafe(32)
    good = [sign(secret, str(1 + i % 100)) for i in range(2 * plan.handshakes)]
    tokens = {"good": good, "bad": sign("x" * 32, "1")}
    (work / "tokens.json").write_text(json.dumps(tokens))
    with ExitStack() as stack:
        redis = RedisProcess(REDIS_SERVER, work, pin([], core[1]))
        redis.start()
        stack.callback(redis.stop)
        targets = start_targets(stack, secret, redis.url, work, logs, core)
        setups = rounds(plan, targets)
        two, tries = targets[-1].ports, plan.revocations
        revocation = {
            name: asyncio.run(revocation_latency(two, secret, tries, idle))
            for name, idle in REVOCATION_IDLE.items()
        }
    return {"setups": setups, "revocation": revocation}


def rounds(plan: ScalePlan, targets: list[Target]) -> dict[str, Any]:
    """Every round of every target, interleaved; and their medians."""
    out: dict[str, Any] = {}
    for target in targets:
        Phases(target).warm_up()
        out[target.key] = {"label": target.label, "processes": len(target.ports)}
        out[target.key]["rounds"] = []
    for n in range(plan.rounds):
        for target in targets:
            print(f"  round {n + 1}/{plan.rounds}: {target.label}", flush=True)
            try:
                result = Phases(target).round(plan)
            except RuntimeError as exc:  # one round failed: keep the others
                result = {"error": str(exc)}
            out[target.key]["rounds"].append(result)
    for setup in out.values():
        setup["median"] = medians(setup["rounds"])
    return out


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over the rounds that succeeded."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {}

    def med(phase: str, field: str) -> float | None:
        return median(r[phase].get(field) for r in ok)

    counts = [r["handshakes_per_process"] for r in ok]
    split = [sum(column) for column in zip(*counts, strict=True)]
    return {
        "hs_rate": med("handshake", "rate"),
        "hs_p50_ms": med("handshake", "p50_ms"),
        "hs_p99_ms": med("handshake", "p99_ms"),
        "hs_cpu_us": med("handshake", "cpu_us"),
        "polling_rate": med("polling", "rate"),
        "rt_rate": med("rt", "rate"),
        "rt_p50_ms": med("rt", "p50_ms"),
        "rt_p99_ms": med("rt", "p99_ms"),
        "core_busy": {
            cpu: median(r["handshake"]["core_busy"].get(cpu) for r in ok)
            for cpu in ok[0]["handshake"]["core_busy"]
        },
        "handshakes_per_process": split,
    }


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _row(setup: dict[str, Any], pinning: dict[str, int | None]) -> str:
    m = setup["median"]
    if not m:
        errors = {r.get("error", "") for r in setup["rounds"]}
        return f"| {setup['label']} | failed: {'; '.join(errors)[:160]} ||||||||"
    busy = [m["core_busy"].get(str(pinning[k])) for k in ("servers", "rest")]
    shares = " / ".join("n/a" if b is None else f"{b:.0%}" for b in busy)
    return (
        f"| {setup['label']} | {m['hs_rate']:.0f} | {_ms(m['hs_p50_ms'])} / "
        f"{_ms(m['hs_p99_ms'])} | {m['hs_cpu_us']:.0f} | {shares} | "
        f"{m['polling_rate']:.0f} | {m['rt_rate']:.0f} | {_ms(m['rt_p50_ms'])} / "
        f"{_ms(m['rt_p99_ms'])} | {' / '.join(map(str, m['handshakes_per_process']))} |"
    )


REVOCATION_TEXT = {
    "idle": "Cross-process revocation (`/logout` of a token on process A until "
    "its socket on process B is disconnected, the socket idle for 250 ms before)",
    "after_handshake": "The same at once after the socket's handshake (where "
    "Nagle's algorithm, before TCP_NODELAY, held the frame for the client's "
    "delayed ACK of the last one)",
}


def _revocation_note(text: str, revocation: dict[str, Any]) -> str:
    lost = revocation["lost"]
    return (
        f"{text}: p50 {_ms(revocation['p50_ms'])} ms, max "
        f"{_ms(revocation['max_ms'])} ms over {revocation['tries']} tries"
        + (f", {lost} not cut within 10 s." if lost else ".")
    )


def report(figures: dict[str, Any]) -> str:
    """The section's markdown: a table, the revocation latency, the set-up."""
    if "skipped" in figures:
        return f"Skipped: {figures['skipped']}."
    if "setups" not in figures:
        return f"Failed: {figures.get('error')}."
    plan, pinning = figures["plan"], figures["pinning"]
    lines = [
        "| set-up | WebSocket handshakes/s | handshake p50 / p99 ms "
        "| server CPU µs per handshake | cores busy (servers / rest) "
        "| polling handshakes/s | round trips/s | round trip p50 / p99 ms "
        "| handshakes per process |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        *(_row(setup, pinning) for setup in figures["setups"].values()),
    ]
    notes = [
        f"Medians of {plan['rounds']} interleaved rounds, each {plan['handshakes']} "
        f"WebSocket and {plan['polling']} polling handshakes ({plan['concurrency']} "
        f"in flight) and {plan['rt_sockets']} sockets doing whoami round trips for "
        f"{plan['rt_seconds']:g} s, from {len(figures['sources'])} source addresses "
        f"(nginx's ip_hash spreads them). Server processes pinned to core "
        f"{pinning['servers']}; the Node load, nginx and Redis to core "
        f"{pinning['rest']}: two processes share the core one had, so this shows "
        "the cost of nginx and Redis, not added capacity. 1-min load average "
        f"{figures['loadavg_before']:.1f} before, {figures['loadavg_after']:.1f} "
        "after (other work on the machine shows here)."
    ]
    for name, text in REVOCATION_TEXT.items():
        revocation = figures.get("revocation", {}).get(name)
        if revocation:
            notes.append(_revocation_note(text, revocation))
    notes.append(f"Section wall time {figures['seconds']:.0f} s.")
    return "\n".join(lines) + "\n\n" + "\n\n".join(notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short round")
    args = parser.parse_args()
    results = ROOT / "bench" / "results"
    logs = results / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    figures = run(ScalePlan.quick() if args.quick else ScalePlan(), logs)
    text = "## Scaling out\n\n" + report(figures)
    print("\n" + text)
    (results / "scale_out.md").write_text(text + "\n")
    (results / "scale_out.json").write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
