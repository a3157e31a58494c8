"""Run tests/node/peers.mjs (the official socket.io-client, written as the
peers' suites write it) and read what each session saw."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.requirements import run_node
from tests.support import server_url

__all__ = ["run", "one", "names", "first"]

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "node" / "peers.mjs"
RUN_TIMEOUT_S = 15
PROCESS_TIMEOUT_S = RUN_TIMEOUT_S + 5


async def run(port: int | str, *sessions: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Run peers.mjs; what each session saw. A session's ``path`` (the
    namespace, and a query string as upstream writes it) follows the URL."""
    base = server_url(port) if isinstance(port, int) else port
    specs = [{**s, "url": base + s.pop("path", "")} for s in map(dict, sessions)]
    scenario = {"sessions": specs, "timeoutMs": RUN_TIMEOUT_S * 1000}
    stdout = await run_node(SCRIPT, scenario, PROCESS_TIMEOUT_S)
    result: list[list[dict[str, Any]]] = json.loads(stdout)["sessions"]
    return result


async def one(port: int | str, **session: Any) -> list[dict[str, Any]]:
    return (await run(port, session))[0]


def names(seen: list[dict[str, Any]]) -> list[str]:
    return [item["event"] for item in seen]


def first(seen: list[dict[str, Any]], event: str) -> list[Any]:
    """The arguments of the first ``event`` seen."""
    found = [item["args"] for item in seen if item["event"] == event]
    assert found, (event, seen)
    return found[0]
