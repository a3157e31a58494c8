"""``make bench``: this server against two Python baselines and Node, one run.

Starts, one after another and each pinned to one core, this server
(server.py), the bench's bare python-socketio server (no auth), the
hand-written tornado + python-socketio + PyJWT server, and (when Node and
node_modules are there) Node express + socket.io 4.8 + jsonwebtoken. One
Node load process with the official socket.io-client, pinned to the other
core, drives each on 127.0.0.1. Server CPU comes from /proc/PID/stat,
memory from /proc/PID/status. Then the expiry-timer, login-timing, JSON-codec
and connection-state-recovery (beside Node's) sections. Prints a markdown report;
writes bench/results/report.{md,json} and chart.png (git-ignored), and a run of
every server publishes its report.json and chart as docs/performance/latest.json
and chart.png, which the documentation's performance page is generated from
(commit them).

``python bench/run.py [--quick] [--runs N] [--only KEYS] [--no-profile]``
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import resource
import secrets
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import json_codec
import jwt
import login_timing
import profile_summary
import recovery
import report
import scale_out
import timers
from phases import Context, Plan, run_server
from processes import cores
from servers import ROOT, SPECS, ServerSpec

RESULTS = ROOT / "bench" / "results"
PUBLISHED = ROOT / "docs" / "performance"
USERS = 100  # distinct subs among the bench's tokens


def raise_open_files(needed: int) -> int:
    """Lift the soft limit on open files to the hard one (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def make_tokens(secret: str, count: int, path: Path) -> None:
    """``count`` tokens shaped like /login's (distinct jti), and one bad one."""
    now = int(time.time())

    def token(i: int, key: str) -> str:
        claims = {
            "email": f"user{i % USERS}@example.com",
            "first_name": "Bench",
            "last_name": "User",
            "auth_time": now,
            "sub": str(1 + i % USERS),
            "iat": now,
            "exp": now + 5 * 3600,
            "jti": uuid.uuid4().hex,
            "iss": "tornado-socketio-jwt",
        }
        return jwt.encode(claims, key, algorithm="HS256")

    wrong_key = secrets.token_urlsafe(32)  # a well-formed token, bad signature
    good = [token(i, secret) for i in range(count)]
    path.write_text(json.dumps({"good": good, "bad": token(0, wrong_key)}))


def node_ready() -> str | None:
    """Why the Node parts cannot run, or ``None``."""
    if shutil.which("node") is None:
        return "node is not installed"
    for package in ("socket.io-client", "socket.io", "express", "jsonwebtoken"):
        if not (ROOT / "node_modules" / package).is_dir():
            return f"node_modules/{package} is missing (run npm ci)"
    return None


def servers_section(
    specs: list[ServerSpec], plan: Plan, ctx: Context
) -> dict[str, list[dict[str, Any]]]:
    """Every run of every server, interleaved so that drift hits all alike."""
    runs: dict[str, list[dict[str, Any]]] = {spec.key: [] for spec in specs}
    section_start = time.monotonic()
    for run in range(plan.runs):
        for spec in specs:
            if run >= spec.max_runs:
                continue
            last = runs[spec.key][-1]["seconds"] if runs[spec.key] else 0.0
            if run and time.monotonic() - section_start + last > plan.budget:
                print(f"  run {run + 1}: {spec.label} skipped (time budget)")
                continue
            started = time.monotonic()
            print(f"  run {run + 1}/{plan.runs}: {spec.label} ...", end="", flush=True)
            try:
                figures = run_server(spec, plan, run, ctx)
            except RuntimeError as exc:  # a phase failed: keep the other servers
                print(f" failed: {exc}", flush=True)
                figures = {"run": run, "error": str(exc)}
            figures["seconds"] = time.monotonic() - started
            figures["loadavg_after"] = os.getloadavg()[0]
            runs[spec.key].append(figures)
            print(f" {figures['seconds']:.0f} s", flush=True)
            report.write_json(RESULTS / "partial.json", runs)  # survives a crash
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (1 run)")
    parser.add_argument("--runs", type=int, help="runs per server (default 3)")
    parser.add_argument(
        "--only", help="comma-separated server keys: " + ", ".join(s.key for s in SPECS)
    )
    parser.add_argument("--no-profile", action="store_true", help="skip py-spy")
    parser.add_argument(
        "--no-sections",
        action="store_true",
        help="skip the expiry-timer, login-timing, JSON-codec and recovery sections",
    )
    parser.add_argument(
        "--no-scale",
        action="store_true",
        help="skip the scale-out section (nginx, Redis, two processes)",
    )
    args = parser.parse_args()
    plan = Plan.quick() if args.quick else Plan()
    if args.runs:
        plan = dataclasses.replace(plan, runs=args.runs)
    RESULTS.mkdir(exist_ok=True)
    logs = RESULTS / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir()
    started = time.monotonic()

    limit = raise_open_files(2 * max(plan.steps) + 1000)
    if limit < max(plan.steps) + 500:
        plan = dataclasses.replace(
            plan, steps=tuple(s for s in plan.steps if s + 500 <= limit)
        )
        print(f"open-file limit {limit}: ramp steps cut to {plan.steps}")
    no_node = node_ready()
    specs = [s for s in SPECS if not args.only or s.key in args.only.split(",")]
    document: dict[str, Any] = {
        "command": " ".join(["make bench"] if len(sys.argv) == 1 else sys.argv),
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": len(os.sched_getaffinity(0)),
            "loadavg_before": os.getloadavg()[0],
        },
        "plan": dataclasses.asdict(plan),
    }
    sections: list[str] = []
    if no_node is not None:
        print(f"server section skipped: {no_node} (the load is Node's client)")
    else:
        secret = secrets.token_urlsafe(32)
        tokens = RESULTS / "tokens.json"
        make_tokens(secret, max(plan.steps) + 200, tokens)
        server_core, load_core = cores()
        profiles = RESULTS / "profile"
        profile = None
        if not args.no_profile and (Path(sys.executable).parent / "py-spy").exists():
            profiles.mkdir(exist_ok=True)
            profile = profiles
        ctx = Context(secret, tokens, logs, server_core, load_core, profile)
        document["pinning"] = {"server_core": server_core, "load_core": load_core}
        print(f"servers (server on core {server_core}, load on core {load_core}):")
        try:
            runs = servers_section(specs, plan, ctx)
        finally:
            tokens.unlink(missing_ok=True)  # signed with a secret now forgotten
        medians = report.summarise(runs)
        document["servers"] = {
            key: {
                "label": next(s.label for s in SPECS if s.key == key),
                "median": medians[key],
                "runs": runs[key],
            }
            for key in runs
        }
        counts = ", ".join(f"{k} {len(v)}" for k, v in runs.items())
        sections.append(
            "## Servers\n\n"
            + report.tables(medians, plan.runs)
            + f"\n\nRuns completed: {counts}."
        )
        if report.chart(runs, RESULTS / "chart.png"):
            sections.append(f"Chart: {RESULTS.relative_to(ROOT)}/chart.png")
        profiles_text = []
        for _key, server_runs in runs.items():
            for name, path in (server_runs[0].get("profile") or {}).items():
                summary = profile_summary.summarise(Path(path))
                document.setdefault("profile", {})[name] = summary
                profiles_text.append(
                    profile_summary.report(f"this server during {name} load", summary)
                )
        verify = document.get("profile", {}).get("handshake", {}).get("pyjwt_inclusive")
        sections.append("## Targets (issue 8)\n\n" + report.targets(medians, verify))
        sections.append(
            "## Targets (issue 19, lean sockets)\n\n" + report.lean_targets(medians)
        )
        sections += profiles_text
    if not args.no_sections:
        sockets, repeat = (2000, 1) if args.quick else (10_000, 3)
        figures = asyncio.run(timers.run(sockets, repeat))
        document["timers"] = figures
        sections.append(
            "## Expiry timers\n\n" + timers.report(figures, sockets, repeat)
        )
        login = asyncio.run(login_timing.measure(10 if args.quick else 30))
        document["login_timing"] = login
        sections.append("## Login timing\n\n" + login_timing.report(login))
        codec = json_codec.measure()
        document["json_codec"] = codec
        sections.append("## Socket.IO JSON\n\n" + json_codec.report(codec))
        if node_ready() is None:  # alone: python bench/recovery.py
            recovered = recovery.measure(args.quick)
            document["recovery"] = recovered
            sections.append(
                "## Connection state recovery\n\n" + recovery.report(recovered)
            )
    if not args.no_scale:  # alone: python bench/scale_out.py
        scale_plan = (
            scale_out.ScalePlan.quick() if args.quick else scale_out.ScalePlan()
        )
        scale = scale_out.run(scale_plan, logs)
        document["scale_out"] = scale
        sections.append("## Scaling out\n\n" + scale_out.report(scale))
    document["seconds"] = time.monotonic() - started
    document["machine"]["loadavg_after"] = os.getloadavg()[0]
    machine = document["machine"]
    header = (
        f"# {document['command']}\n\nPython {machine['python']}, {machine['cpus']} "
        f"CPUs, 1-min load average {machine['loadavg_before']:.1f} before and "
        f"{machine['loadavg_after']:.1f} after (other work on the machine shows here)"
    )
    text = "\n\n".join([header, *sections])
    print("\n" + text)
    (RESULTS / "report.md").write_text(text + "\n")
    report.write_json(RESULTS / "report.json", document)
    if not args.only:
        publish(document)
    print(
        f"\nwrote {RESULTS.relative_to(ROOT)}/report.md, report.json "
        f"in {document['seconds']:.0f} s"
    )


def publish(document: dict[str, Any]) -> None:
    """The run the documentation's performance page shows (docs/generate.py)."""
    report.write_json(PUBLISHED / "latest.json", document)
    chart = RESULTS / "chart.png"
    if chart.is_file():
        shutil.copyfile(chart, PUBLISHED / "chart.png")
    print(f"published to {PUBLISHED.relative_to(ROOT)}/ for the docs (make docs)")


if __name__ == "__main__":
    main()
