"""Where a server's time goes: a summary of py-spy's raw (collapsed) stacks.

py-spy ``record --format raw`` writes one line per distinct stack:
``frame;frame;...;leaf COUNT`` with frames as ``function (path:line)``. Self
time is the leaf's; a module's inclusive time counts each stack once.
``python bench/profile_summary.py FILE``
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["summarise", "report", "module_of"]

FRAME = re.compile(r"^(?P<func>.*?) \((?P<path>[^()]*?)(?::\d+)?\)$")
LIBRARY = "tornado_socketio_jwt"  # its source is handlers/
ENTRY = (f"{LIBRARY}.cli", "server")  # the command line: under every stack


def module_of(path: str) -> str:
    """A dotted module name for a frame's path, as py-spy shortens it.

    py-spy writes paths relative to their ``sys.path`` entry
    (``engineio/async_socket.py``, ``handlers/gate.py`` for the editable
    install); full paths are cut after ``site-packages/`` or ``python3.X/``.
    """
    for marker in ("site-packages/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker.startswith("/lib"):
                path = path.split("/", 1)[1] if "/" in path else path
    parts = path.removesuffix(".py").strip("/").split("/")
    if parts[0] == "handlers":
        parts[0] = LIBRARY
    return ".".join(parts)


def parse(text: str) -> list[tuple[list[tuple[str, str]], int]]:
    stacks = []
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = []
        for raw in stack.split(";"):
            match = FRAME.match(raw)
            if match:  # process/thread headers do not match
                frames.append((match["func"], module_of(match["path"])))
        if frames:
            stacks.append((frames, int(count)))
    return stacks


def summarise(path: Path, top: int = 12) -> dict[str, Any]:
    stacks = parse(path.read_text(errors="replace"))
    total = sum(count for _, count in stacks) or 1
    self_funcs: Counter[str] = Counter()
    self_modules: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in stacks:
        func, module = frames[-1]
        self_funcs[f"{module}:{func}"] += count
        self_modules[module] += count
        for name in {m for _, m in frames}:
            inclusive[name] += count
    share = {k: v / total for k, v in self_modules.items()}
    groups: dict[str, float] = {}
    for module, fraction in share.items():
        package = module.split(".")[0]
        groups[package] = groups.get(package, 0.0) + fraction
    own = [(f, c) for f, c in stacks if any(is_library(m) for _, m in f)]
    jwt = [(f, c) for f, c in stacks if any(m.split(".")[0] == "jwt" for _, m in f)]
    return {
        "samples": total,
        "library_self": self_groups_share(self_modules, total),
        "library_inclusive": sum(c for _, c in own) / total,
        "pyjwt_inclusive": sum(c for _, c in jwt) / total,
        "self_functions": [(k, v / total) for k, v in self_funcs.most_common(top)],
        "self_modules": [(k, v / total) for k, v in self_modules.most_common(top)],
        "self_packages": sorted(groups.items(), key=lambda kv: -kv[1])[:top],
        "inclusive_modules": [(k, v / total) for k, v in inclusive.most_common(top)],
    }


def is_library(module: str) -> bool:
    """The library's own frames, less the command line's entry frames."""
    return module.startswith(LIBRARY) and not module.startswith(ENTRY)


def self_groups_share(self_modules: Counter[str], total: int) -> float:
    return sum(v for k, v in self_modules.items() if k.startswith(LIBRARY)) / total


def report(name: str, summary: dict[str, Any]) -> str:
    lines = [
        f"### Profile: {name} ({summary['samples']:,} samples)",
        "",
        f"{LIBRARY}'s own code: {summary['library_self'] * 100:.1f}% self, "
        f"{summary['library_inclusive'] * 100:.1f}% inclusive (less the command "
        f"line's entry frames); PyJWT {summary.get('pyjwt_inclusive', 0) * 100:.1f}% "
        "inclusive",
    ]
    for key, title in (
        ("self_packages", "self time by package"),
        ("self_functions", "top functions, self time"),
        ("inclusive_modules", "inclusive time by module"),
    ):
        lines.append(f"{title}:")
        lines += [f"  {share * 100:5.1f}%  {label}" for label, share in summary[key]]
    return "\n".join(lines)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(report(arg, summarise(Path(arg))))
