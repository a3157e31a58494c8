"""Only the engine room (``sockets/engine.py`` and its WebSocket driver,
``sockets/engine_websocket.py``) touches python-socketio's and python-engineio's
internals: a new reach elsewhere fails here, by name."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "handlers"
ENGINE_ROOM = (
    PACKAGE / "sockets" / "engine.py",
    PACKAGE / "sockets" / "engine_websocket.py",
)
INTERNALS = re.compile(
    r"\bsio\.(?:eio|environ|namespace_handlers|not_handled|packet_class|_\w+)\b"
    r"|\beio\.\w"
    r"|\b_binary_packet\b"
    r"|\.handlers\[\"(?:connect|message|disconnect)\"\]"
)


def test_no_module_but_the_engine_room_reaches_into_python_socketio() -> None:
    reaches = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path not in ENGINE_ROOM
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if INTERNALS.search(line.split("#")[0])
    ]
    assert reaches == []


def test_the_pattern_finds_what_it_is_meant_to() -> None:
    for line in ("sio.environ.get(x)", "self.sio.eio.sockets", "sio._trigger_event"):
        assert INTERNALS.search(line)
    assert not INTERNALS.search("engine_for(sio).not_handled")
