"""The bench's report: medians of the runs, ratios, markdown, JSON and a PNG.

``summarise`` turns the raw runs (bench/phases.py) into one median per
metric and server; ``tables`` renders the markdown; ``chart`` draws memory
and round-trip p99 against the number of idle sockets (matplotlib, when it
is installed).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from measure import median

__all__ = [
    "summarise",
    "tables",
    "targets",
    "lean_targets",
    "chart",
    "write_json",
    "METRICS",
]

Run = dict[str, Any]
Getter = Callable[[Run], float | None]


def at(path: str) -> Getter:
    """A getter for ``a.b`` in one run (``None`` when the run lacks it)."""

    def get(run: Run) -> float | None:
        value: Any = run
        for key in path.split("."):
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return float(value) if value is not None else None

    return get


def ramp_at(sockets: int, field: str) -> Getter:
    def get(run: Run) -> float | None:
        for point in run.get("ramp", []):
            if point["sockets"] == sockets and point.get(field) is not None:
                return float(point[field])
        return None

    return get


def storm_ratio(run: Run) -> float | None:
    idle, loaded = at("storm.idle.p99_ms")(run), at("storm.storm.p99_ms")(run)
    return loaded / idle if idle and loaded is not None else None


# key, label, getter, format, lower is better
METRICS: tuple[tuple[str, str, Getter, str, bool], ...] = (
    (
        "hs_ws_cpu_us",
        "server CPU per websocket handshake (us)",
        at("handshake.cpu_us"),
        "{:,.0f}",
        True,
    ),
    ("hs_ws_rate", "websocket handshakes/s", at("handshake.rate"), "{:,.0f}", False),
    (
        "hs_poll_cpu_us",
        "server CPU per polling handshake (us)",
        at("polling.cpu_us"),
        "{:,.0f}",
        True,
    ),
    ("hs_poll_rate", "polling handshakes/s", at("polling.rate"), "{:,.0f}", False),
    (
        "reject_cpu_us",
        "server CPU per rejected handshake, bad signature (us)",
        at("rejected.cpu_us"),
        "{:,.0f}",
        True,
    ),
    ("reject_rate", "rejected handshakes/s", at("rejected.rate"), "{:,.0f}", False),
    (
        "close_cpu_us",
        "server CPU per websocket close (us)",
        at("handshake.close_cpu_us"),
        "{:,.0f}",
        True,
    ),
    ("rt_rate", "whoami round trips/s", at("rt.rate"), "{:,.0f}", False),
    ("rt_p50_ms", "round trip p50 (ms)", at("rt.p50_ms"), "{:,.2f}", True),
    ("rt_p99_ms", "round trip p99 (ms)", at("rt.p99_ms"), "{:,.2f}", True),
    ("rt_cpu_us", "server CPU per round trip (us)", at("rt.cpu_us"), "{:,.0f}", True),
    (
        "mem_1000_kib",
        "RSS per idle authenticated websocket, 1,000 sockets (KiB)",
        ramp_at(1000, "kib_per_socket"),
        "{:,.1f}",
        True,
    ),
    (
        "mem_2000_kib",
        "RSS per idle authenticated websocket, 2,000 sockets (KiB)",
        ramp_at(2000, "kib_per_socket"),
        "{:,.1f}",
        True,
    ),
    (
        "mem_10000_kib",
        "RSS per idle authenticated websocket, 10,000 sockets (KiB)",
        ramp_at(10000, "kib_per_socket"),
        "{:,.1f}",
        True,
    ),
    (
        "rss_10000_mib",
        "RSS with 10,000 idle sockets (MiB)",
        lambda r: (ramp_at(10000, "rss")(r) or 0) / 2**20 or None,
        "{:,.0f}",
        True,
    ),
    (
        "p99_10000_ms",
        "round trip p99 with 10,000 idle sockets held (ms)",
        ramp_at(10000, "p99_ms"),
        "{:,.2f}",
        True,
    ),
    (
        "ramp_hs_cpu_us",
        "server CPU per handshake while ramping to 10,000 (us)",
        lambda r: median(p.get("handshake_cpu_us") for p in r.get("ramp", [])[1:]),
        "{:,.0f}",
        True,
    ),
)

STORM_METRICS: tuple[tuple[str, str, Getter, str], ...] = (
    (
        "storm_idle_p99_ms",
        "paced round trip p99, no storm (ms)",
        at("storm.idle.p99_ms"),
        "{:,.2f}",
    ),
    (
        "storm_p99_ms",
        "paced round trip p99 during the login storm (ms)",
        at("storm.storm.p99_ms"),
        "{:,.2f}",
    ),
    ("storm_ratio", "storm p99 / idle p99", storm_ratio, "{:,.2f}x"),
    (
        "storm_rt_rate",
        "paced round trips/s during the storm",
        at("storm.storm.rate"),
        "{:,.0f}",
    ),
    (
        "storm_logins_per_s",
        "wrong-password logins answered/s",
        at("storm.logins_per_s"),
        "{:,.0f}",
    ),
)

MAIN = ("library", "handwritten", "bare", "node", "floor")
SHORT = {
    "library": "this server",
    "handwritten": "hand-written",
    "bare": "bare (no auth)",
    "node": "Node",
    "floor": "Tornado floor",
    "handwritten-nodeflate": "hand-written, deflate off",
    "library-open-login": "this server, login limits raised",
    "library-asyncio": "uvloop off",
    "library-stdlib-json": "orjson off",
}
DEFAULT_SWITCHES = ("library-asyncio", "library-stdlib-json")


def summarise(runs: dict[str, list[Run]]) -> dict[str, dict[str, float | None]]:
    """Median over the runs of every metric, per server."""
    medians: dict[str, dict[str, float | None]] = {}
    for key, server_runs in runs.items():
        row: dict[str, float | None] = {}
        for name, _, get, _, *_ in METRICS + STORM_METRICS:
            row[name] = median(get(run) for run in server_runs)
        statuses: dict[str, int] = {}
        for run in server_runs:
            for status, count in (run.get("storm", {}).get("logins") or {}).items():
                statuses[status] = statuses.get(status, 0) + count
        row["storm_statuses"] = statuses or None  # type: ignore[assignment]
        medians[key] = row
    return medians


def ramp_medians(server_runs: list[Run]) -> list[dict[str, float]]:
    """Median RSS and p99 per step, over the runs that reached it."""
    steps = sorted({p["sockets"] for run in server_runs for p in run.get("ramp", [])})
    points = []
    for step in steps:
        rss = median(ramp_at(step, "rss")(run) for run in server_runs)
        p99 = median(ramp_at(step, "p99_ms")(run) for run in server_runs)
        if rss is not None and p99 is not None:
            points.append({"sockets": step, "rss": rss, "p99_ms": p99})
    return points


def fmt(value: float | None, pattern: str) -> str:
    return "n/a" if value is None else pattern.format(value)


def ratio(a: float | None, b: float | None) -> str:
    return "n/a" if a is None or not b else f"{a / b:.2f}x"


def tables(medians: dict[str, dict[str, float | None]], runs: int) -> str:
    """The markdown: the main table, then deflate and login storm."""
    present = [k for k in MAIN if k in medians]
    head = [SHORT[k] for k in present]
    ratios = [
        ("library", "handwritten"),
        ("library", "bare"),
        ("library", "node"),
        ("node", "handwritten"),
        ("library", "floor"),
        ("handwritten", "floor"),
        ("bare", "floor"),
        ("node", "floor"),
    ]
    ratios = [r for r in ratios if r[0] in medians and r[1] in medians]
    head += [f"{SHORT[a]} / {SHORT[b]}" for a, b in ratios]
    out = [
        f"Medians of up to {runs} runs; memory and ramp rows from the first run "
        "(a ramp to 10,000 for this server, hand-written and Node, 1,000 for the "
        "others).",
        "",
        "| per operation | " + " | ".join(head) + " |",
        "| --- |" + " ---: |" * len(head),
    ]
    for name, label, _, pattern, _ in METRICS:
        cells = [fmt(medians[k][name], pattern) for k in present]
        cells += [ratio(medians[a][name], medians[b][name]) for a, b in ratios]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    if "handwritten" in medians and "handwritten-nodeflate" in medians:
        on, off = medians["handwritten"], medians["handwritten-nodeflate"]
        out += [
            "",
            "permessage-deflate (hand-written stack; Tornado accepts what the "
            "client offers):",
            "",
            "| | deflate on (default) | deflate off | off / on |",
            "| --- | ---: | ---: | ---: |",
        ]
        for name in ("mem_1000_kib", "mem_10000_kib", "rt_cpu_us", "rt_rate"):
            label, pattern = next((m[1], m[3]) for m in METRICS if m[0] == name)
            out.append(
                f"| {label} | {fmt(on[name], pattern)} | {fmt(off[name], pattern)} "
                f"| {ratio(off[name], on[name])} |"
            )
    out += defaults_table(medians)
    storm = [k for k in ("library", "library-open-login") if k in medians]
    storm = [k for k in storm if medians[k]["storm_p99_ms"] is not None]
    if storm:
        out += [
            "",
            "Login storm (wrong-password POST /login in flight, round trips paced):",
            "",
            "| | " + " | ".join(SHORT[k] for k in storm) + " |",
            "| --- |" + " ---: |" * len(storm),
        ]
        for name, label, _, pattern in STORM_METRICS:
            cells = [fmt(medians[k][name], pattern) for k in storm]
            out.append(f"| {label} | " + " | ".join(cells) + " |")
        cells = []
        for k in storm:
            statuses = medians[k]["storm_statuses"]
            counts: dict[Any, Any] = statuses if isinstance(statuses, dict) else {}
            cells.append(", ".join(f"{s}: {n}" for s, n in sorted(counts.items())))
        out.append("| login answers (all runs) | " + " | ".join(cells) + " |")
    return "\n".join(out)


def defaults_table(medians: dict[str, dict[str, float | None]]) -> list[str]:
    """This server as it runs, against each accelerator turned off."""
    off = [k for k in DEFAULT_SWITCHES if k in medians]
    if "library" not in medians or not off:
        return []
    on = medians["library"]
    out = [
        "",
        "Defaults of this server, each against itself with one turned off "
        "(ratio: default / off):",
        "",
        "| | default | " + " | ".join(f"{SHORT[k]} | ratio" for k in off) + " |",
        "| --- | ---: |" + " ---: | ---: |" * len(off),
    ]
    for name in ("hs_ws_cpu_us", "rt_cpu_us", "rt_rate", "rt_p99_ms"):
        label, pattern = next((m[1], m[3]) for m in METRICS if m[0] == name)
        cells = [fmt(on[name], pattern)]
        for k in off:
            cells += [fmt(medians[k][name], pattern), ratio(on[name], medians[k][name])]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return out


# issue 8's targets: label, metric, against, the most the ratio may be
RATIO_TARGETS: tuple[tuple[str, str, str, float], ...] = (
    ("CPU per handshake vs hand-written", "hs_ws_cpu_us", "handwritten", 0.85),
    ("CPU per round trip vs hand-written", "rt_cpu_us", "handwritten", 0.75),
    (
        "memory per idle socket (10,000) vs hand-written",
        "mem_10000_kib",
        "handwritten",
        0.25,
    ),
    ("CPU per handshake vs bare", "hs_ws_cpu_us", "bare", 1.03),
    ("CPU per round trip vs bare", "rt_cpu_us", "bare", 1.01),
    ("stretch: CPU per handshake vs Node", "hs_ws_cpu_us", "node", 1.2),
    ("stretch: CPU per round trip vs Node", "rt_cpu_us", "node", 4.0),
    ("stretch: memory per idle socket (10,000) vs Node", "mem_10000_kib", "node", 1.5),
)


def targets(
    medians: dict[str, dict[str, float | None]], verify_share: float | None
) -> str:
    """Issue 8's targets, met or not, from this run's medians."""
    rows: list[tuple[str, str, str]] = []
    lib = medians.get("library")
    if lib is None:
        return ""
    for label, name, other, most in RATIO_TARGETS:
        if other in medians and lib[name] is not None and medians[other][name]:
            value = lib[name] / medians[other][name]  # type: ignore[operator]
            rows.append((label, f"{value:.2f}x <= {most}x", met(value <= most)))
    held = lib["mem_10000_kib"] is not None
    rows.append(("10,000 authenticated websockets held", "", met(held)))
    if "bare" in medians and lib["mem_1000_kib"] and medians["bare"]["mem_1000_kib"]:
        more = lib["mem_1000_kib"] - medians["bare"]["mem_1000_kib"]  # type: ignore[operator]
        rows.append(
            (
                "memory per socket (1,000) vs bare",
                f"{more:+.1f} KiB <= +1",
                met(more <= 1),
            )
        )
    rejected, accepted = lib["reject_cpu_us"], lib["hs_ws_cpu_us"]
    if rejected and accepted:
        rows.append(
            (
                "rejected handshake vs accepted",
                f"{rejected / accepted:.2f}x <= 1x",
                met(rejected <= accepted),
            )
        )
    if verify_share is not None:
        rows.append(
            (
                "token verification (PyJWT) in a handshake",
                f"{verify_share * 100:.1f}% < 5%",
                met(verify_share < 0.05),
            )
        )
    storm = medians.get("library-open-login", {}).get("storm_ratio")
    if storm is not None:
        rows.append(
            ("login storm p99 / idle p99", f"{storm:.2f}x <= 2x", met(storm <= 2))
        )
    out = ["| target | this run | met |", "| --- | ---: | --- |"]
    out += [f"| {label} | {value} | {ok} |" for label, value, ok in rows]
    return "\n".join(out)


# issue 19's targets: label, metric, against, the most the ratio may be
LEAN_TARGETS: tuple[tuple[str, str, str, float], ...] = (
    ("memory per idle socket (2,000) vs Tornado floor", "mem_2000_kib", "floor", 1.5),
    ("memory per idle socket (2,000) vs Node", "mem_2000_kib", "node", 1.0),
    ("CPU per round trip vs Tornado floor", "rt_cpu_us", "floor", 1.6),
    ("CPU per websocket handshake vs Node", "hs_ws_cpu_us", "node", 1.0),
    (
        "CPU per websocket handshake vs hand-written",
        "hs_ws_cpu_us",
        "handwritten",
        0.85,
    ),
)


def lean_targets(medians: dict[str, dict[str, float | None]]) -> str:
    """Issue 19's targets (lean sockets), met or not, from this run's medians."""
    lib = medians.get("library")
    if lib is None:
        return ""
    out = ["| target | this run | met |", "| --- | ---: | --- |"]
    for label, name, other, most in LEAN_TARGETS:
        mine, theirs = lib.get(name), medians.get(other, {}).get(name)
        if mine is None or not theirs:
            out.append(f"| {label} | n/a | n/a |")
            continue
        value = mine / theirs
        out.append(f"| {label} | {value:.2f}x <= {most}x | {met(value <= most)} |")
    return "\n".join(out)


def met(ok: bool) -> str:
    return "yes" if ok else "no"


def chart(runs: dict[str, list[Run]], path: Path) -> bool:
    """RSS and round-trip p99 against idle sockets; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, (mem, lat) = plt.subplots(1, 2, figsize=(11, 4.5))
    for key, server_runs in runs.items():
        points = ramp_medians(server_runs)
        if not points:
            continue
        xs = [p["sockets"] for p in points]
        label = SHORT.get(key, key)
        mem.plot(xs, [p["rss"] / 2**20 for p in points], marker="o", label=label)
        lat.plot(xs, [p["p99_ms"] for p in points], marker="o", label=label)
    mem.set(
        xlabel="idle authenticated websockets",
        ylabel="server RSS (MiB)",
        title="resident memory",
    )
    lat.set(
        xlabel="idle authenticated websockets",
        ylabel="whoami p99 (ms)",
        title="round-trip p99 (10 busy sockets)",
    )
    for axis in (mem, lat):
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=1, sort_keys=False) + "\n")
