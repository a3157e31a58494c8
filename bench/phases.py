"""One run of the bench against one server: start it, drive it, read /proc.

The Node load (bench/load.mjs) does the work one command at a time; around
each command this reads the server's CPU (settled first, so the clean-up of
the previous phase is not counted) and, for the idle-socket ramp, its RSS.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from measure import cpu_seconds, rss_bytes, settle
from processes import Child, Load, free_port, pin
from servers import ROOT, ServerSpec

__all__ = ["Plan", "Context", "run_server"]

CLOSE_SETTLE = 90.0  # seconds a server may take to clean up closed sockets


@dataclass(frozen=True)
class Plan:
    """How much of each phase; ``Plan.quick()`` is the short run."""

    runs: int = 3
    handshakes: int = 400  # websocket handshakes measured per run
    polling: int = 200  # polling handshakes
    rejected: int = 400  # handshakes with a bad signature
    concurrency: int = 10  # handshakes in flight
    ramp_concurrency: int = 50  # below Tornado's listen backlog of 128
    steps: tuple[int, ...] = (1000, 2000, 5000, 10000)  # idle sockets held
    # Runs that ramp (memory is the same run after run): the first only, to
    # 10,000 for the servers marked full_ramp and to 1,000 for the others.
    ramp_runs: int = 1
    probe_sockets: int = 10  # sockets that measure round trips at each step
    probe_seconds: float = 1.5
    rt_sockets: int = 10  # each with one whoami in flight
    rt_seconds: float = 3.0
    storm_sockets: int = 5
    storm_pace_ms: int = 20  # whoami every 20 ms per socket during the storm phases
    storm_seconds: float = 3.0
    storm_concurrency: int = 8  # wrong-password logins in flight
    profile_seconds: float = 5.0
    budget: float = 360.0  # seconds for the server section: later runs give way

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            runs=1,
            handshakes=200,
            polling=100,
            rejected=200,
            steps=(200, 1000, 2000),
            probe_seconds=1.0,
            rt_seconds=2.0,
            storm_seconds=2.0,
            profile_seconds=4.0,
        )


@dataclass(frozen=True)
class Context:
    secret: str
    tokens: Path  # JSON {"good": [...], "bad": "..."}
    logs: Path
    server_core: int | None
    load_core: int | None
    profile_dir: Path | None  # py-spy profiles of the library, when asked


def run_server(spec: ServerSpec, plan: Plan, run: int, ctx: Context) -> dict[str, Any]:
    """Every phase of ``spec`` that this run includes; raw figures."""
    port = free_port()
    env = dict(os.environ, JWT_SECRET=ctx.secret)
    with tempfile.TemporaryDirectory(prefix="bench-") as data:
        argv = pin(spec.argv(port, Path(data)), ctx.server_core)
        load_argv = pin(
            [
                "node",
                str(ROOT / "bench" / "load.mjs"),
                f'{{"url": "http://127.0.0.1:{port}", "tokens": "{ctx.tokens}"}}',
            ],
            ctx.load_core,
        )
        log = ctx.logs / f"{spec.key}-{run}"
        with (
            Child(argv, log.with_suffix(".server.log"), env, ROOT) as server,
            Load(load_argv, log.with_suffix(".load.log"), ROOT) as load,
        ):
            driver = Driver(server.pid, load, port)
            return driver.run(spec, plan, run, ctx)


class Driver:
    def __init__(self, pid: int, load: Load, port: int) -> None:
        self.pid, self.load, self.port = pid, load, port
        self._settled: float | None = None  # CPU when last seen quiet

    def call(self, command: dict[str, Any], timeout: float) -> dict[str, Any]:
        """An unmeasured command."""
        self._settled = None
        return self.load.call(command, timeout)

    def measured(
        self, command: dict[str, Any], timeout: float
    ) -> tuple[dict[str, Any], float]:
        """The load's reply to ``command`` and the server CPU seconds it took."""
        before = self._settled if self._settled is not None else settle(self.pid)
        reply = self.load.call(command, timeout)
        after = self._settled = settle(self.pid)
        return reply, after - before

    def connect(
        self, group: str, n: int, transport: str, token: str, concurrency: int
    ) -> tuple[dict[str, Any], float]:
        command = {
            "cmd": "connect",
            "group": group,
            "n": n,
            "transport": transport,
            "token": token,
            "concurrency": concurrency,
        }
        return self.measured(command, timeout=60 + n * 0.05)

    def connect_all(
        self, group: str, n: int, transport: str, concurrency: int
    ) -> tuple[dict[str, Any], float]:
        """Like ``connect`` with good tokens; a refused socket fails the phase."""
        reply, cpu = self.connect(group, n, transport, "good", concurrency)
        if reply.get("ok") != n:
            raise RuntimeError(f"{group}: {n} sockets asked, {reply}")
        return reply, cpu

    def held(self, group: str, n: int) -> None:
        """Fail the phase unless all ``n`` sockets of ``group`` are still connected."""
        reply = self.call({"cmd": "count", "group": group}, timeout=30)
        if reply.get("connected") != n:
            raise RuntimeError(f"{group}: {n} sockets expected connected, {reply}")

    def close(self, group: str) -> tuple[dict[str, Any], float]:
        """Disconnect a group; settle until the server is done (it can take long)."""
        before = self._settled if self._settled is not None else settle(self.pid)
        reply = self.load.call({"cmd": "close", "group": group}, timeout=60)
        after = self._settled = settle(self.pid, timeout=CLOSE_SETTLE)
        return reply, after - before

    def round_trips(
        self, group: str, seconds: float, pace_ms: int = 0, storm: Any = None
    ) -> tuple[dict[str, Any], float]:
        command = {
            "cmd": "rt",
            "group": group,
            "seconds": seconds,
            "pace_ms": pace_ms,
            "storm": storm,
        }
        return self.measured(command, timeout=seconds + 30)

    def run(
        self, spec: ServerSpec, plan: Plan, run: int, ctx: Context
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"run": run}
        self.warm_up(spec)
        if "handshake" in spec.phases:
            out["handshake"] = self.handshakes(
                plan.handshakes, "websocket", "good", plan
            )
        if "polling" in spec.phases:
            out["polling"] = self.handshakes(plan.polling, "polling", "good", plan)
        if "rejected" in spec.phases:
            out["rejected"] = self.handshakes(plan.rejected, "websocket", "bad", plan)
        if "rt" in spec.phases:
            self.connect_all("rt", plan.rt_sockets, "websocket", plan.rt_sockets)
            reply, cpu = self.round_trips("rt", plan.rt_seconds)
            self.close("rt")
            out["rt"] = {**reply, "cpu_us": cpu / max(reply["count"], 1) * 1e6}
        if "storm" in spec.phases:
            out["storm"] = self.storm(plan)
        if ctx.profile_dir is not None and spec.key == "library" and run == 0:
            out["profile"] = self.profile(plan, ctx)
        out["rss_end"] = rss_bytes(self.pid)
        # Last: with thousands of sockets answering pings the server is never
        # quiet again, and it is stopped rather than waited for.
        if "ramp" in spec.phases and run < plan.ramp_runs:
            steps = plan.steps
            if not spec.full_ramp:
                steps = tuple(s for s in plan.steps if s <= 1000) or plan.steps[:1]
            out["ramp"] = self.ramp(plan, steps)
        return out

    def warm_up(self, spec: ServerSpec) -> None:
        """Imports, caches and first allocations, before anything is measured."""
        self.connect_all("warm", 20, "websocket", 5)
        self.round_trips("warm", 0.5)
        if "polling" in spec.phases:
            self.connect_all("warm", 10, "polling", 5)
        if "rejected" in spec.phases:
            self.connect("warm", 10, "websocket", "bad", 5)
        self.close("warm")

    def ramp(self, plan: Plan, steps: tuple[int, ...]) -> list[dict[str, Any]]:
        """RSS and round-trip latency with ever more idle authenticated sockets."""
        self.connect_all("probe", plan.probe_sockets, "websocket", 10)
        base = rss_bytes(self.pid)
        probe, _ = self.round_trips("probe", plan.probe_seconds)
        points = [
            {
                "sockets": 0,
                "rss": base,
                "p50_ms": probe["p50_ms"],
                "p99_ms": probe["p99_ms"],
                "rt_rate": probe["rate"],
            }
        ]
        held = 0
        for step in steps:
            # Not settled: the held sockets' pings (every 25 s each) count too.
            before = cpu_seconds(self.pid)
            reply = self.call(
                {
                    "cmd": "connect",
                    "group": "idle",
                    "n": step - held,
                    "transport": "websocket",
                    "token": "good",
                    "concurrency": plan.ramp_concurrency,
                },
                timeout=60 + (step - held) * 0.05,
            )
            cpu = cpu_seconds(self.pid) - before
            if reply.get("ok") != step - held:
                raise RuntimeError(f"ramp to {step}: {reply}")
            held = step
            rss = rss_bytes(self.pid)
            probe = self.call(
                {"cmd": "rt", "group": "probe", "seconds": plan.probe_seconds},
                timeout=plan.probe_seconds + 30,
            )
            self.held("idle", step)  # none dropped by the server meanwhile
            self.held("probe", plan.probe_sockets)
            points.append(
                {
                    "sockets": step,
                    "rss": rss,
                    "kib_per_socket": (rss - base) / step / 1024,
                    "p50_ms": probe["p50_ms"],
                    "p99_ms": probe["p99_ms"],
                    "rt_rate": probe["rate"],
                    "handshake_cpu_us": cpu / reply["n"] * 1e6,
                    "handshake_rate": reply["rate"],
                }
            )
        self.call({"cmd": "close", "group": "idle"}, timeout=60)  # not waited for
        self.call({"cmd": "close", "group": "probe"}, timeout=60)
        return points

    def handshakes(
        self, n: int, transport: str, token: str, plan: Plan
    ) -> dict[str, Any]:
        reply, cpu = self.connect("hs", n, transport, token, plan.concurrency)
        _, close_cpu = self.close("hs")
        expected = n if token == "good" else 0
        if reply["ok"] != expected:
            raise RuntimeError(f"{transport} {token} handshakes: {reply}")
        return {
            **reply,
            "cpu_us": cpu / n * 1e6,
            "close_cpu_us": close_cpu / n * 1e6,
        }

    def storm(self, plan: Plan) -> dict[str, Any]:
        """Paced round trips alone, then during a storm of wrong-password logins."""
        self.connect_all("paced", plan.storm_sockets, "websocket", plan.storm_sockets)
        idle, _ = self.round_trips("paced", plan.storm_seconds, plan.storm_pace_ms)
        storm = {
            "url": f"http://127.0.0.1:{self.port}/login",
            "concurrency": plan.storm_concurrency,
            "username": "demo",
            "password": "not-the-password",
        }
        loaded, cpu = self.round_trips(
            "paced", plan.storm_seconds, plan.storm_pace_ms, storm
        )
        self.close("paced")
        logins = loaded.pop("logins") or {}
        return {
            "idle": idle,
            "storm": loaded,
            "logins": logins,
            "logins_per_s": sum(logins.values()) / loaded["seconds"],
            "cpu_s": cpu,
        }

    def profile(self, plan: Plan, ctx: Context) -> dict[str, str]:
        """py-spy (raw, collapsed stacks) over round trips, then over handshakes."""
        assert ctx.profile_dir is not None
        pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        out: dict[str, str] = {}
        self.connect_all("prof", plan.rt_sockets, "websocket", plan.rt_sockets)
        path = ctx.profile_dir / "rt.txt"
        with self.recording(pyspy, path, plan.profile_seconds, ctx):
            self.call(
                {"cmd": "rt", "group": "prof", "seconds": plan.profile_seconds + 1},
                timeout=plan.profile_seconds + 30,
            )
        self.close("prof")
        out["rt"] = str(path)
        path = ctx.profile_dir / "handshake.txt"
        deadline = time.monotonic() + plan.profile_seconds + 1
        with self.recording(pyspy, path, plan.profile_seconds, ctx):
            while time.monotonic() < deadline:
                self.call(
                    {
                        "cmd": "connect",
                        "group": "prof",
                        "n": 100,
                        "transport": "websocket",
                        "token": "good",
                        "concurrency": plan.concurrency,
                    },
                    timeout=60,
                )
                self.call({"cmd": "close", "group": "prof"}, timeout=60)
        out["handshake"] = str(path)
        return out

    def recording(
        self, pyspy: str, path: Path, seconds: float, ctx: Context
    ) -> Recording:
        argv = [
            pyspy,
            "record",
            "--format",
            "raw",
            "--rate",
            "200",
            "--nonblocking",
            "-o",
            str(path),
            "--pid",
            str(self.pid),
            "-d",
            str(int(seconds)),
        ]
        return Recording(pin(argv, ctx.load_core), path.with_suffix(".log"))


class Recording:
    """A py-spy recording running beside a phase; waited for on exit."""

    def __init__(self, argv: list[str], log: Path) -> None:
        self.argv, self.log = argv, log
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Recording:
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=log)
        time.sleep(0.5)  # attached before the load starts
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
