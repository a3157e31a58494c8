"""The CLI's event loop: uvloop when it is installed, asyncio's otherwise."""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any

import pytest

from tests.server_process import free_port, running_server
from tornado_socketio_jwt.cli import loop
from tornado_socketio_jwt.cli.parser import make_parser


async def running_loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def run_and_report(choice: str) -> str:
    """The loop ``loop.run`` picks, in a thread of its own: in the test's thread,
    ending the run would unset (and leak) the loop an earlier test left current."""
    seen: list[str] = []

    async def main() -> None:
        seen.append(await running_loop_module())

    worker = threading.Thread(target=loop.run, args=(main(), choice))
    worker.start()
    worker.join(30)
    return seen[0]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="uvloop needs asyncio.Runner")
def test_auto_runs_on_uvloop_when_it_is_installed() -> None:
    pytest.importorskip("uvloop")
    assert run_and_report("auto").startswith("uvloop")


def test_without_uvloop_auto_falls_back_to_asyncio(monkeypatch: Any) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop fails
    assert loop.loop_factory("auto") is None
    assert run_and_report("auto").startswith("asyncio")


def test_event_loop_asyncio_turns_uvloop_off() -> None:
    assert loop.loop_factory("asyncio") is None
    assert run_and_report("asyncio").startswith("asyncio")


def test_event_loop_and_json_library_options_read_the_environment() -> None:
    environ = {"EVENT_LOOP": "asyncio", "JSON_LIBRARY": "json"}
    options = make_parser(environ=environ).parse_args([])
    assert (options.event_loop, options.json_library) == ("asyncio", "json")
    defaults = make_parser(environ={}).parse_args([])
    assert (defaults.event_loop, defaults.json_library) == ("auto", "auto")


def test_an_unknown_event_loop_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_info:
        make_parser(environ={}).parse_args(["--event-loop", "trio"])
    assert exit_info.value.code == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), "event loop: uvloop, packets: orjson"),
        (
            ("--event-loop", "asyncio", "--json-library", "json"),
            "event loop: asyncio, packets: json",
        ),
    ],
)
def test_the_options_reach_the_running_server(
    tmp_path: Any, args: tuple[str, ...], expected: str
) -> None:
    """Read back from the running loop and python-socketio's packet class."""
    pytest.importorskip("uvloop")
    pytest.importorskip("orjson")
    port = str(free_port())
    with running_server(
        tmp_path, "--port", port, *args, env={"JWT_SECRET": "s" * 40}
    ) as lines:
        [listening] = [line for line in lines if "listening on" in line]
    assert f"({expected})" in listening
